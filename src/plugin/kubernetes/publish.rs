//! Publishing cluster state to the query path: one immutable [`Index`] per `kubernetes` block,
//! rebuilt from a [`ClusterState`] and swapped in atomically (`arc-swap`), so readers never lock.
//!
//! A generation counter moves on every publish; per-thread answer caches compare it to know when
//! their encoded answers went stale.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::index::{Affected, Index};
use super::KubernetesConfig;
use crate::cluster::model::ClusterState;

/// The current index of one `kubernetes` block.
pub struct IndexCell {
    config: KubernetesConfig,
    own_ips: Vec<IpAddr>,
    current: ArcSwap<Index>,
}

impl IndexCell {
    /// The block configuration this cell's indexes are built for.
    pub fn config(&self) -> &KubernetesConfig {
        &self.config
    }

    /// The server addresses this cell's indexes name (apex NS glue).
    pub fn own_ips(&self) -> &[IpAddr] {
        &self.own_ips
    }

    /// The index to answer from now (a cheap, lock-free load).
    pub fn load(&self) -> arc_swap::Guard<Arc<Index>> {
        self.current.load()
    }
}

/// Every index cell of a server, and the generation they are at.
#[derive(Clone, Default)]
pub struct Publisher {
    cells: Vec<Arc<IndexCell>>,
    generation: Arc<AtomicU64>,
}

impl Publisher {
    /// Adds a block's cell, built from `state`, and returns it for the block's handler.
    pub fn add(
        &mut self,
        config: KubernetesConfig,
        own_ips: Vec<IpAddr>,
        state: &ClusterState,
        serial: u32,
        synced: bool,
    ) -> Arc<IndexCell> {
        let index = Index::build(state, &config, &own_ips, serial, synced);
        let cell = Arc::new(IndexCell {
            config,
            own_ips,
            current: ArcSwap::from_pointee(index),
        });
        self.cells.push(cell.clone());
        cell
    }

    /// Rebuilds every index from `state` and swaps them in.
    pub fn publish(&self, state: &ClusterState, serial: u32, synced: bool) {
        for cell in &self.cells {
            let index = Index::build(state, &cell.config, &cell.own_ips, serial, synced);
            cell.current.store(Arc::new(index));
        }
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Derives every index from the current one after the changes in `affected` (the current
    /// indexes must describe the state before them), and swaps them in.
    pub fn update(&self, state: &ClusterState, affected: &Affected, serial: u32, synced: bool) {
        for cell in &self.cells {
            let next = cell
                .current
                .load()
                .update(state, &cell.config, affected, serial, synced);
            cell.current.store(Arc::new(next));
        }
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// The cells, in the order they were added.
    pub fn cells(&self) -> &[Arc<IndexCell>] {
        &self.cells
    }

    /// Marks every per-thread answer cache stale (after the handler chains changed).
    pub fn bump(&self) {
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// A handle on the generation counter.
    pub fn generation(&self) -> Arc<AtomicU64> {
        self.generation.clone()
    }
}

/// The SOA serial for state observed now: seconds since the epoch (opaque to clients).
pub fn serial_now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| {
            u32::try_from(d.as_secs() % u64::from(u32::MAX)).unwrap_or(1)
        })
}
