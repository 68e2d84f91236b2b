//! The `file` plugin (`file DBFILE [ZONES...] { reload DURATION; fallthrough [ZONES...] }`):
//! authoritative answers from RFC 1035 zone files, as CoreDNS's file plugin gives them. A
//! block may have several `file` directives; they are one plugin, each query answered from the
//! zone with the longest origin that contains its name. Doc page: `README.md` in its folder.
//!
//! The parts: [`setup`] reads a directive (and the file, so a bad file is a Corefile error
//! naming its line), [`zone`] holds one zone read by hickory-proto's zone-file parser,
//! [`lookup`] answers a question from it.
//!
//! Reloading: every `reload` interval the file is read again and the new zone replaces the old
//! one when its SOA serial differs (as CoreDNS; a file that fails to read or parse keeps the old
//! zone and is logged). Because a zone is only ever replaced at those instants, an answer made
//! from it may be reused by the listener until the next check is due ([`Reusable::Until`] that
//! instant); with `reload 0` the zone never changes and answers are reusable until the next
//! index publish. A name passed on by `fallthrough` marks the query volatile (a reload may make
//! the name this plugin's).
//!
//! The zones are offered ([`BuildEnv::provide`]) as [`FileZones`] to `transfer`, which comes
//! before `file` in the order.
//!
//! How Cairn differs: a CNAME whose target is outside the zone is answered with the CNAME only
//! (CoreDNS looks the target up through the whole server); DNSSEC records are not served
//! (RRSIGs are ignored, NSEC is never added); DNAME is not supported (hickory-proto does not
//! read it: such a file is a Corefile error); `reload_by_mtime` is not supported; the SOA in a
//! negative answer has the TTL min(SOA TTL, SOA MINIMUM) (RFC 2308 §3), where CoreDNS sends
//! the SOA's own TTL; an empty non-terminal is NODATA even where a wildcard above it matches
//! (RFC 4592), where CoreDNS synthesises from the wildcard.

mod lookup;
mod setup;
mod zone;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};

pub use lookup::{lookup, Found, Outcome};
pub use setup::Source;
pub use zone::Zone;

use crate::corefile::{ConfigError, Directive};
use crate::dns::response::Sections;
use crate::plugin::{
    Answer, BlockContext, BuildEnv, Configure, Flow, Kind, Next, Plugin, Query, Reusable, Started,
};

/// Every `file` directive of a block, in the order written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileConfig {
    pub sources: Vec<Source>,
    /// `fallthrough [ZONES]` (the last one given): NXDOMAIN for these names goes on down the
    /// chain (empty: every name).
    pub fallthrough: Option<Vec<Name>>,
}

impl Configure for FileConfig {
    const NAME: &'static str = "file";
    const REPEATABLE: bool = true;

    fn parse(d: &Directive, block: &BlockContext<'_>) -> Result<Self, ConfigError> {
        let (source, fallthrough) = setup::parse(d, block)?;
        Ok(FileConfig {
            sources: vec![source],
            fallthrough,
        })
    }

    fn join(&mut self, later: Self) {
        self.sources.extend(later.sources);
        if later.fallthrough.is_some() {
            self.fallthrough = later.fallthrough;
        }
    }

    fn summary(&self) -> String {
        let each = self.sources.iter().map(|s| {
            let origins: Vec<String> = s.origins.iter().map(|o| o.to_string()).collect();
            format!("{} {}", s.file.display(), origins.join(" "))
        });
        each.collect::<Vec<_>>().join(", ")
    }

    fn build(&self, env: &mut BuildEnv<'_>) -> Result<Option<Arc<dyn Plugin>>, String> {
        let mut zones = Vec::new();
        for source in &self.sources {
            for origin in &source.origins {
                zones.push(Arc::new(LoadedZone::load(source, origin)?));
            }
        }
        let zones = FileZones(Arc::new(zones));
        env.provide(zones.clone());
        Ok(Some(Arc::new(FilePlugin {
            zones,
            fallthrough: self.fallthrough.clone(),
        })))
    }
}

/// The zones of a block's `file` plugin, for `transfer`.
#[derive(Clone)]
pub struct FileZones(pub Arc<Vec<Arc<LoadedZone>>>);

impl FileZones {
    /// The zone with the longest origin containing `name`.
    pub fn find(&self, name: &Name) -> Option<&Arc<LoadedZone>> {
        self.0
            .iter()
            .filter(|z| z.origin.zone_of(name))
            .max_by_key(|z| z.origin.num_labels())
    }

    /// The zone whose origin is `name`.
    pub fn exact(&self, name: &Name) -> Option<&Arc<LoadedZone>> {
        self.0.iter().find(|z| z.origin == *name)
    }
}

/// One zone as served: the file it comes from and the zone read last (none while the file has
/// never been read).
pub struct LoadedZone {
    pub origin: Name,
    file: PathBuf,
    reload: Duration,
    current: ArcSwapOption<Zone>,
    /// When the next reload check is due, in milliseconds after `epoch` (0: not scheduled).
    next_check: AtomicU64,
    epoch: Instant,
}

impl LoadedZone {
    /// Reads the zone now. A missing file is logged and tried again at each reload (an error
    /// with `reload 0`); a file that does not parse is an error.
    fn load(source: &Source, origin: &Name) -> Result<LoadedZone, String> {
        let zone = LoadedZone {
            origin: origin.clone(),
            file: source.file.clone(),
            reload: source.reload,
            current: ArcSwapOption::empty(),
            next_check: AtomicU64::new(0),
            epoch: Instant::now(),
        };
        match std::fs::read_to_string(&source.file) {
            Ok(text) => {
                let parsed = Zone::parse(&text, &source.file, origin).map_err(|e| {
                    format!(
                        "{}: file: zone `{origin}` in `{}`: {e}",
                        source.location,
                        source.file.display()
                    )
                })?;
                zone.current.store(Some(Arc::new(parsed)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !source.reload.is_zero() => {
                tracing::warn!(file = %source.file.display(), zone = %origin, every = ?source.reload, "zone file missing; trying again at each reload");
            }
            Err(e) => {
                return Err(format!(
                    "{}: file: cannot read `{}`: {e}",
                    source.location,
                    source.file.display()
                ))
            }
        }
        Ok(zone)
    }

    /// The zone as it is now (`None`: its file was never read).
    pub fn current(&self) -> Option<Arc<Zone>> {
        self.current.load_full()
    }

    /// Reads the file again; the zone read replaces the current one if its SOA serial differs.
    /// Returns whether it did.
    pub fn reload(&self) -> bool {
        let text = match std::fs::read_to_string(&self.file) {
            Ok(text) => text,
            Err(err) => {
                tracing::error!(file = %self.file.display(), zone = %self.origin, %err, "cannot read the zone file; keeping the zone as it was");
                return false;
            }
        };
        let zone = match Zone::parse(&text, &self.file, &self.origin) {
            Ok(zone) => zone,
            Err(err) => {
                tracing::error!(file = %self.file.display(), zone = %self.origin, %err, "cannot parse the zone file; keeping the zone as it was");
                return false;
            }
        };
        if self.current().is_some_and(|z| z.serial() == zone.serial()) {
            return false;
        }
        tracing::info!(file = %self.file.display(), zone = %self.origin, serial = zone.serial(), "zone reloaded");
        self.current.store(Some(Arc::new(zone)));
        true
    }

    /// How long an answer made now may be reused: until the next reload check.
    fn reuse(&self) -> Reusable {
        if self.reload.is_zero() {
            return Reusable::Always;
        }
        match self.next_check.load(Ordering::Acquire) {
            0 => Reusable::Never,
            ms => Reusable::Until {
                until: self.epoch + Duration::from_millis(ms),
                denial: false,
            },
        }
    }

    /// Notes when the next check is due (after the zone it replaces, if any, is stored).
    fn schedule(&self, at: Instant) {
        let ms = at.saturating_duration_since(self.epoch).as_millis();
        let ms = u64::try_from(ms).unwrap_or(u64::MAX).max(1);
        self.next_check.store(ms, Ordering::Release);
    }

    /// Checks the file every `reload` interval (zero: never) on the current runtime.
    fn start(self: &Arc<Self>) {
        let interval = self.reload;
        if interval.is_zero() {
            return;
        }
        self.schedule(Instant::now() + interval);
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                let Some(zone) = weak.upgrade() else {
                    return;
                };
                zone.reload();
                zone.schedule(Instant::now() + interval);
            }
        });
    }
}

/// The plugin in a chain.
struct FilePlugin {
    zones: FileZones,
    fallthrough: Option<Vec<Name>>,
}

impl Plugin for FilePlugin {
    fn kind(&self) -> Kind {
        Kind::File
    }

    fn serve(&self, query: &mut Query, _next: &Next<'_>) -> Flow {
        let qname = query.name();
        let Some(loaded) = self.zones.find(qname) else {
            return Flow::Next;
        };
        // `transfer` comes first and answers transfers it allows; these are not allowed.
        if matches!(query.qtype(), RecordType::AXFR | RecordType::IXFR) {
            return Flow::Answer(Answer::rcode(ResponseCode::Refused));
        }
        let reuse = loaded.reuse();
        let Some(zone) = loaded.current() else {
            return Flow::Answer(Answer::servfail());
        };
        let found = lookup(&zone, qname, query.qtype());
        let passes = found.answers.is_empty()
            && matches!(found.outcome, Outcome::NameError | Outcome::Empty)
            && self
                .fallthrough
                .as_ref()
                .is_some_and(|z| z.is_empty() || z.iter().any(|z| z.zone_of(qname)));
        if passes {
            query.mark_volatile();
            return Flow::Next;
        }
        let mut answer = Answer::new(Sections {
            rcode: found.rcode(),
            authoritative: found.authoritative(),
            answers: found.answers,
            authorities: found.authorities,
            additionals: found.additionals,
            ..Sections::default()
        });
        answer.limit_reuse(reuse);
        Flow::Answer(answer)
    }

    fn start(&self, started: &Started<'_>) {
        let _entered = started.runtime.enter();
        for zone in self.zones.0.iter() {
            zone.start();
        }
    }
}
