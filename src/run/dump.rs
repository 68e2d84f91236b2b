//! Serving a cluster dump (`cairn serve --from FILE`): loaded completely (or refused) before
//! any socket opens, and never changing.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;

use crate::config::model::Config;
use crate::status::{DataStatus, Status, StatusBoard};

/// Loads `dump` and serves it as `config` says.
pub fn serve(config: Config, dump: &Path) -> anyhow::Result<super::Running> {
    let loaded = crate::source::file::load_dump(dump)?;
    if !loaded.skipped.is_empty() {
        let skipped: Vec<String> = loaded
            .skipped
            .iter()
            .map(|(kind, n)| format!("{kind}={n}"))
            .collect();
        tracing::info!(skipped = %skipped.join(","), "skipped objects of kinds DNS does not use");
    }
    let state = loaded.state;
    tracing::info!(
        namespaces = state.namespaces.len(),
        services = state.services.len(),
        endpoint_slices = state.endpoint_slices.len(),
        pods = state.pods.len(),
        from = %dump.display(),
        "loaded cluster state"
    );
    let board = StatusBoard::default();
    let prepared = crate::server::prepare(config, &state, true, board.clone());
    let started = Instant::now();
    let counts = [
        state.namespaces.len(),
        state.services.len(),
        state.endpoint_slices.len(),
        state.pods.len(),
    ];
    board.install(move || Status {
        version: env!("CARGO_PKG_VERSION").to_string(),
        uptime_seconds: started.elapsed().as_secs_f64(),
        live: false,
        ready: true,
        api: None,
        data: DataStatus {
            source: "file".into(),
            synced: true,
            last_sync_age_seconds: None,
            staleness_seconds: 0.0,
            namespaces: counts[0],
            services: counts[1],
            endpoint_slices: counts[2],
            pods: counts[3],
        },
        snapshot: None,
        node_local: None,
    });
    let server = super::listen(prepared).context("cannot start serving")?;
    Ok(super::Running {
        server,
        status: board,
        source: None,
        snapshot: None,
    })
}
