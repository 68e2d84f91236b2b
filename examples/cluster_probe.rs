//! Where the memory of a large cluster goes, measured by a counting allocator: the slim state,
//! the answer index built from it, and the snapshot of both; optionally writes that snapshot
//! (for `bench/cold_start.sh`).
//!
//! ```sh
//! cargo run --release --example cluster_probe -- --services 10000 --per-service 10 [--snapshot PATH]
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use cairn::config::model::Location;
use cairn::plugin::kubernetes::index::Index;
use cairn::plugin::kubernetes::KubernetesConfig;

/// Counts live bytes and live allocations (malloc adds roughly 8–16 bytes to each).
struct Counting;

static BYTES: AtomicIsize = AtomicIsize::new(0);
static BLOCKS: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the counters are only
// bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        BLOCKS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        BLOCKS.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        BYTES.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> (f64, isize) {
    (
        BYTES.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0),
        BLOCKS.load(Ordering::Relaxed),
    )
}

fn arg(args: &[String], flag: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let services = arg(&args, "--services", 10_000);
    let per_service = arg(&args, "--per-service", 10);
    let snapshot_path = args
        .iter()
        .position(|a| a == "--snapshot")
        .and_then(|i| args.get(i + 1));

    let (base, base_blocks) = live();
    let mut state = cairn::cluster::synthetic::cluster(services, per_service, 100);
    // As the API source keeps it: pod names only for `endpoint_pod_names` (`--pod-names`).
    if !args.iter().any(|a| a == "--pod-names") {
        for slice in state.endpoint_slices.values_mut() {
            for ep in &mut slice.endpoints {
                ep.forget_target_pod();
            }
        }
    }
    let (after_state, state_blocks) = live();
    // `--forward-only`: no reverse zones, to see what PTR answers cost.
    let zones = if args.iter().any(|a| a == "--forward-only") {
        vec!["cluster.local.".into()]
    } else {
        vec![
            "cluster.local.".into(),
            "in-addr.arpa.".into(),
            "ip6.arpa.".into(),
        ]
    };
    let config = KubernetesConfig::with_zones(
        zones,
        Location {
            file: "Corefile".into(),
            line: 1,
        },
    );
    let started = Instant::now();
    let index = Index::build(&state, &config, &[], 1, true);
    let built = started.elapsed();
    let (after_index, index_blocks) = live();
    let started = Instant::now();
    let bytes = cairn::snapshot::encode(&cairn::snapshot::SnapshotRef {
        written_at_unix_ms: 0,
        api_endpoints: &[],
        state: &state,
    });
    let encoded = started.elapsed();
    println!("cluster: {services} services x {per_service} endpoints");
    println!(
        "slim state: {:.1} MiB in {} allocations",
        after_state - base,
        state_blocks - base_blocks
    );
    println!(
        "index:      {:.1} MiB in {} allocations (built in {built:?})",
        after_index - after_state,
        index_blocks - state_blocks
    );
    println!(
        "snapshot:   {:.1} MiB encoded in {encoded:?}",
        bytes.len() as f64 / (1024.0 * 1024.0)
    );
    if let Some(path) = snapshot_path {
        if let Err(err) = cairn::snapshot::write_atomic(std::path::Path::new(path), &bytes) {
            eprintln!("cluster_probe: {err}");
            std::process::exit(1);
        }
        println!("wrote {path}");
    }
    drop(index);
}
