//! Keeping the heap small: glibc's malloc tuned at start ([`tune_allocator`]) and free memory
//! given back to the operating system after relists and changes ([`TrimSchedule`]).
//!
//! Listing 100k endpoints decodes pages of full API objects that are dropped as soon as they
//! are converted to slim records; glibc keeps the freed pages in its arenas, so the process
//! stays at its peak size. After a relist Cairn asks the allocator to give free memory back
//! (`malloc_trim`), which is where most of the difference between the slim state and the RSS
//! came from (measured in `bench/api.sh`). Changes free memory too (each derived index drops
//! parts of the previous one): 200 changes left 6 MiB free in the arenas, so the source also
//! trims once changes pause ([`TrimSchedule`]).

use std::time::{Duration, Instant};

/// Under constant churn, trim at least this often.
const CHURN_TRIM_INTERVAL: Duration = Duration::from_secs(30);

/// When to give free memory back after changes: on the first tick with no change since the
/// previous one, and at most every [`CHURN_TRIM_INTERVAL`] while changes keep coming.
#[derive(Debug, Default)]
pub struct TrimSchedule {
    /// A change was published since the last trim, and when the first such change was.
    pending_since: Option<Instant>,
    /// A change was published since the last tick.
    changed_since_tick: bool,
}

impl TrimSchedule {
    /// A change was published (its freed memory is still in the arenas).
    pub fn changed(&mut self, now: Instant) {
        self.pending_since.get_or_insert(now);
        self.changed_since_tick = true;
    }

    /// Trims at once (after a relist).
    pub fn now(&mut self) {
        release_free_memory();
        self.pending_since = None;
        self.changed_since_tick = false;
    }

    /// Called on the source's periodic tick; returns whether it trimmed.
    pub fn on_tick(&mut self, now: Instant) -> bool {
        let Some(since) = self.pending_since else {
            return false;
        };
        let quiet = !std::mem::replace(&mut self.changed_since_tick, false);
        if quiet || now.duration_since(since) >= CHURN_TRIM_INTERVAL {
            self.now();
            return true;
        }
        false
    }
}

/// Releases free heap memory to the OS (glibc on Linux; a no-op elsewhere).
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: `malloc_trim` is glibc's documented, thread-safe function that only returns
        // unused memory at the top of and inside the heaps to the kernel; it takes no pointers
        // and does not touch live allocations.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// glibc's `mallopt` parameters (malloc.h).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const M_ARENA_MAX: i32 = -8;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const M_MMAP_THRESHOLD: i32 = -3;

/// Allocations at least this large get their own mapping, returned to the kernel when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: i32 = 256 * 1024;

/// Tunes glibc's malloc for a long-lived server with one thread per core. Call once, first
/// thing in `main`.
///
/// * Two arenas. By default glibc makes up to eight per core, each keeping its own free
///   memory; two saved 4 MiB of RSS at 10k Services / 100k endpoints on two cores
///   (`bench/api.sh`); the answer path barely allocates, so the contention costs nothing
///   measurable.
/// * A fixed mmap threshold. glibc raises it dynamically to the size of the largest mapped
///   block freed (up to 32 MiB), after which the large transient buffers (a list page of API
///   JSON, each snapshot's encoding, 2.2 MiB at 10k/100k) come from the heap and leave it
///   fragmented: RSS crept up by a few MiB with every snapshot write. Fixing it keeps them in
///   mappings that go back to the kernel on free.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        // SAFETY: `mallopt` is glibc's documented function for tuning malloc; it takes two
        // integers, touches no memory of ours, and is called before other threads exist.
        unsafe {
            mallopt(M_ARENA_MAX, 2);
            mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        }
    }
}
#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{TrimSchedule, CHURN_TRIM_INTERVAL};

    #[test]
    fn trims_once_changes_pause_or_after_long_churn() {
        let t0 = Instant::now();
        let tick = |n: u64| t0 + Duration::from_secs(n);
        let mut trim = TrimSchedule::default();
        assert!(
            !trim.on_tick(tick(1)),
            "nothing changed, nothing to give back"
        );
        trim.changed(tick(1));
        assert!(
            !trim.on_tick(tick(2)),
            "a change since the last tick: still busy"
        );
        assert!(trim.on_tick(tick(3)), "a quiet tick after changes trims");
        assert!(!trim.on_tick(tick(4)), "once");

        let mut churn = TrimSchedule::default();
        let mut trimmed = Vec::new();
        for s in 10..(15 + 2 * CHURN_TRIM_INTERVAL.as_secs()) {
            churn.changed(tick(s));
            if churn.on_tick(tick(s)) {
                trimmed.push(s);
            }
        }
        assert_eq!(
            trimmed.len(),
            2,
            "every interval under constant churn: {trimmed:?}"
        );
    }
}
