//! The node-local interface through rtnetlink: find it, create it (a `dummy` link, or a bridge
//! without ports where the kernel has no dummy driver), bring it up, give it the captured
//! addresses as host addresses (/32, /128) and delete it.
//!
//! Nothing here decides *when*: [`super::NodeLocal`] does, with one short-lived netlink
//! connection per setup, check or teardown, so a socket error never outlives one of them.
//!
//! **Only Cairn's own.** An interface Cairn creates carries the alias [`ALIAS`]
//! (`ip link` shows it); only an interface with that alias is adopted or deleted. Any other
//! one that has the name (an admin's bridge, `nodelocaldns`, `kube-ipvs0`) is left alone and
//! reported.

use std::net::IpAddr;

use futures::TryStreamExt;
use rtnetlink::packet_route::address::{AddressAttribute, AddressFlags};
use rtnetlink::packet_route::link::{InfoKind, LinkAttribute, LinkFlags, LinkInfo};
use rtnetlink::{Handle, LinkBridge, LinkDummy, LinkUnspec};

/// The alias that marks an interface as Cairn's.
pub const ALIAS: &str = "cairn node-local";

/// What holds the addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Dummy,
    /// A bridge without ports: holds local addresses as a dummy link does.
    Bridge,
}

/// The interface as the kernel has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub index: u32,
    /// `None`: an interface of another kind took the name (not Cairn's; never adopted).
    pub kind: Option<Kind>,
    pub up: bool,
    /// Carries [`ALIAS`]: Cairn made it.
    pub ours: bool,
    pub addresses: Vec<IpAddr>,
}

/// A failed netlink request, with what was being done.
#[derive(Debug, thiserror::Error)]
#[error("{doing}: {source}")]
pub struct LinkError {
    doing: String,
    #[source]
    source: std::io::Error,
}

impl LinkError {
    fn new(doing: impl Into<String>, err: rtnetlink::Error) -> Self {
        let source = match err {
            rtnetlink::Error::NetlinkError(m) => m.to_io(),
            other => std::io::Error::other(other.to_string()),
        };
        LinkError {
            doing: doing.into(),
            source,
        }
    }

    fn errno(&self) -> Option<i32> {
        self.source.raw_os_error()
    }
}

/// A netlink connection for one round of requests (its task ends when the handle is dropped).
pub fn connect() -> Result<Handle, LinkError> {
    let (connection, handle, _) = rtnetlink::new_connection().map_err(|e| LinkError {
        doing: "opening a netlink socket".into(),
        source: e,
    })?;
    tokio::spawn(connection);
    Ok(handle)
}

/// The interface called `name`, or `None`.
pub async fn find(handle: &Handle, name: &str) -> Result<Option<Found>, LinkError> {
    let mut links = handle.link().get().match_name(name.to_string()).execute();
    let link = match links.try_next().await {
        Ok(Some(link)) => link,
        Ok(None) => return Ok(None),
        Err(err) => {
            let err = LinkError::new(format!("looking up interface {name}"), err);
            return match err.errno() {
                Some(libc::ENODEV) => Ok(None),
                _ => Err(err),
            };
        }
    };
    let index = link.header.index;
    let up = link.header.flags.contains(LinkFlags::Up);
    let kind = link.attributes.iter().find_map(|a| match a {
        LinkAttribute::LinkInfo(infos) => infos.iter().find_map(|i| match i {
            LinkInfo::Kind(InfoKind::Dummy) => Some(Kind::Dummy),
            LinkInfo::Kind(InfoKind::Bridge) => Some(Kind::Bridge),
            _ => None,
        }),
        _ => None,
    });
    let ours = link
        .attributes
        .iter()
        .any(|a| matches!(a, LinkAttribute::IfAlias(alias) if alias == ALIAS));
    let addresses = addresses(handle, index).await?;
    Ok(Some(Found {
        index,
        kind,
        up,
        ours,
        addresses,
    }))
}

async fn addresses(handle: &Handle, index: u32) -> Result<Vec<IpAddr>, LinkError> {
    let mut out = Vec::new();
    let mut stream = handle
        .address()
        .get()
        .set_link_index_filter(index)
        .execute();
    loop {
        match stream.try_next().await {
            Ok(Some(msg)) => {
                // IPv4 reports the local address as `Local`, IPv6 as `Address` only.
                let local = msg.attributes.iter().find_map(|a| match a {
                    AddressAttribute::Local(ip) => Some(*ip),
                    _ => None,
                });
                let addr = local.or_else(|| {
                    msg.attributes.iter().find_map(|a| match a {
                        AddressAttribute::Address(ip) => Some(*ip),
                        _ => None,
                    })
                });
                out.extend(addr);
            }
            Ok(None) => return Ok(out),
            Err(err) => {
                return Err(LinkError::new(
                    format!("listing the addresses of interface {index}"),
                    err,
                ))
            }
        }
    }
}

/// Creates `name` as a dummy link, or as a bridge without ports when the kernel has no dummy
/// type (`EOPNOTSUPP`), and returns which.
pub async fn create(handle: &Handle, name: &str) -> Result<Kind, LinkError> {
    let dummy = handle
        .link()
        .add(LinkDummy::new(name).build())
        .execute()
        .await;
    match dummy {
        Ok(()) => Ok(Kind::Dummy),
        Err(err) => {
            let err = LinkError::new(format!("creating dummy interface {name}"), err);
            if err.errno() != Some(libc::EOPNOTSUPP) {
                return Err(err);
            }
            handle
                .link()
                .add(LinkBridge::new(name).build())
                .execute()
                .await
                .map_err(|e| LinkError::new(format!("creating bridge interface {name}"), e))?;
            Ok(Kind::Bridge)
        }
    }
}

/// Marks the interface `name` as Cairn's ([`ALIAS`]) and sets it up (a down link would keep
/// IPv6 addresses tentative).
pub async fn claim(handle: &Handle, name: &str) -> Result<(), LinkError> {
    let mut message = LinkUnspec::new_with_name(name).up().build();
    message
        .attributes
        .push(LinkAttribute::IfAlias(ALIAS.to_string()));
    handle
        .link()
        .set(message)
        .execute()
        .await
        .map_err(|e| LinkError::new(format!("setting interface {name} up"), e))
}

/// Adds `ip` as a host address (/32 or /128; IPv6 without duplicate address detection, so it
/// is usable at once). An address already there is left as it is.
pub async fn add_address(handle: &Handle, index: u32, ip: IpAddr) -> Result<(), LinkError> {
    let prefix = if ip.is_ipv4() { 32 } else { 128 };
    let mut request = handle.address().add(index, ip, prefix);
    if ip.is_ipv6() {
        request
            .message_mut()
            .attributes
            .push(AddressAttribute::Flags(AddressFlags::Nodad));
    }
    let added = request.execute().await;
    tolerating(added, format!("adding {ip}/{prefix}"), libc::EEXIST)
}

/// Removes `ip` from the interface (an address Cairn no longer captures). Gone already is
/// fine.
pub async fn remove_address(handle: &Handle, index: u32, ip: IpAddr) -> Result<(), LinkError> {
    let mut found = handle
        .address()
        .get()
        .set_link_index_filter(index)
        .set_address_filter(ip)
        .execute();
    while let Some(message) = found
        .try_next()
        .await
        .map_err(|e| LinkError::new(format!("looking up {ip}"), e))?
    {
        handle
            .address()
            .del(message)
            .execute()
            .await
            .map_err(|e| LinkError::new(format!("removing {ip}"), e))?;
    }
    Ok(())
}

/// Deletes the interface (its addresses go with it). Gone already is fine.
pub async fn delete(handle: &Handle, index: u32) -> Result<(), LinkError> {
    let deleted = handle.link().del(index).execute().await;
    tolerating(deleted, format!("deleting interface {index}"), libc::ENODEV)
}

/// `result` as a [`LinkError`] saying what was `doing`, with the errno `done` (the state was
/// already what the request asked for) counted as success.
fn tolerating(
    result: Result<(), rtnetlink::Error>,
    doing: String,
    done: i32,
) -> Result<(), LinkError> {
    match result.map_err(|e| LinkError::new(doing, e)) {
        Err(err) if err.errno() == Some(done) => Ok(()),
        other => other,
    }
}
