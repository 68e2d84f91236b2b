//! The transport a query came over: the one spelling of it everywhere (the answer's size limit,
//! the `proto` metric label, the `log` line, whether `forward` keeps to TCP).

/// UDP or TCP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    /// As CoreDNS writes it in metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}
