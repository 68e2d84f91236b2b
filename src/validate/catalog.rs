//! Every plugin a Corefile can name and what Cairn does with it, for `cairn plugins`,
//! `cairn -plugins` and `cairn validate --plugins`: CoreDNS's plugins in its `plugin.cfg` order,
//! each either implemented (it has a line in the order list), read by the Corefile's server
//! block itself (`bind`), or not supported yet; then Cairn's own plugins.

use crate::config::coredns_plugin_order;

use crate::plugin::Kind;

/// What Cairn does with a plugin name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// A plugin of the order list: it runs as its doc page says.
    Supported,
    /// Not a plugin in Cairn but read where the server block is (`bind`).
    ServerBlock,
    /// A CoreDNS plugin Cairn rejects: "plugin `X` is not supported yet".
    NotYet,
    /// Cairn's own, not in CoreDNS.
    CairnOnly,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Supported => "supported",
            Status::ServerBlock => "supported (server block)",
            Status::NotYet => "not supported yet",
            Status::CairnOnly => "supported (Cairn only)",
        }
    }
}

/// Every plugin name with its status: CoreDNS's in its order, then Cairn's own.
pub fn all() -> Vec<(&'static str, Status)> {
    let coredns = coredns_plugin_order();
    let mut list: Vec<(&'static str, Status)> = coredns
        .iter()
        .map(|&name| {
            let status = if Kind::from_name(name).is_some() {
                Status::Supported
            } else if name == "bind" {
                Status::ServerBlock
            } else {
                Status::NotYet
            };
            (name, status)
        })
        .collect();
    for kind in Kind::ALL {
        if !coredns.contains(&kind.name()) {
            list.push((kind.name(), Status::CairnOnly));
        }
    }
    list
}

/// The list as `cairn plugins` prints it: one plugin a line, its name and status.
pub fn render() -> String {
    let width = all().iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (name, status) in all() {
        out.push_str(&format!("{name:<width$}  {}\n", status.as_str()));
    }
    out
}

/// The list in the shape of `coredns -plugins` (`dns.NAME` under "Other plugins"), only the
/// plugins a Corefile can use in Cairn, each followed by its status.
pub fn render_coredns() -> String {
    let mut out = String::from(
        "Server types:\n  dns\n\nCaddyfile loaders:\n  flag\n  default\n\nOther plugins:\n",
    );
    let supported: Vec<_> = all()
        .into_iter()
        .filter(|(_, s)| *s != Status::NotYet)
        .collect();
    let width = supported.iter().map(|(n, _)| n.len()).max().unwrap_or(0) + 4;
    for (name, status) in supported {
        let label = format!("dns.{name}");
        out.push_str(&format!("  {label:<width$}  {}\n", status.as_str()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_order_list_plugin_is_listed_as_supported_and_the_rest_of_coredns_as_not_yet() {
        let list = all();
        for kind in Kind::ALL {
            let status = list
                .iter()
                .find(|(n, _)| *n == kind.name())
                .map(|(_, s)| *s);
            assert!(
                matches!(status, Some(Status::Supported | Status::CairnOnly)),
                "{}: {status:?}",
                kind.name()
            );
        }
        let status = |name: &str| list.iter().find(|(n, _)| *n == name).map(|(_, s)| *s);
        assert_eq!(status("kubernetes"), Some(Status::Supported));
        assert_eq!(status("nodelocal"), Some(Status::CairnOnly));
        assert_eq!(status("bind"), Some(Status::ServerBlock));
        assert_eq!(status("dnssec"), Some(Status::NotYet));
        let mut names: Vec<_> = list.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), list.len(), "a name listed twice: {list:?}");
        let text = render_coredns();
        assert!(text.contains("  dns.kubernetes "), "{text}");
        assert!(!text.contains("dns.dnssec"), "{text}");
    }
}
