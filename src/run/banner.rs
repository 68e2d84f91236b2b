//! What CoreDNS's command line prints and writes at start: the banner on stdout (each server
//! block's `ZONE:PORT`, then the name and version, as `coredns` prints them unless `-quiet`),
//! and the `-pidfile`.

use std::path::{Path, PathBuf};

use crate::config::model::Config;

/// The banner: one `ZONE:PORT` line per zone of every server block, then `Cairn-VERSION` and
/// the platform and commit, as CoreDNS's `CoreDNS-1.12.0` and `linux/amd64, go1.23, 51e11f1`.
pub fn render(config: &Config) -> String {
    let mut out = String::new();
    for block in &config.servers {
        for zone in &block.zones {
            out.push_str(&format!("{}:{}\n", zone.zone, zone.port));
        }
    }
    out.push_str(&version());
    out
}

/// `Cairn-0.1.0` and `linux/x86_64, rust, abc1234`: what `cairn -version` prints.
pub fn version() -> String {
    format!(
        "Cairn-{}\n{}/{}, rust, {}\n",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH,
        option_env!("CAIRN_REVISION").unwrap_or("unknown"),
    )
}

/// A written pid file, removed when dropped (at a clean stop; a killed process leaves it, as
/// CoreDNS's does, for the next start to overwrite).
pub struct PidFile(PathBuf);

impl PidFile {
    /// Writes this process's id and a newline to `path`.
    pub fn write(path: &Path) -> anyhow::Result<PidFile> {
        std::fs::write(path, format!("{}\n", std::process::id()))
            .map_err(|e| anyhow::anyhow!("cannot write the pid file {}: {e}", path.display()))?;
        Ok(PidFile(path.to_path_buf()))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
