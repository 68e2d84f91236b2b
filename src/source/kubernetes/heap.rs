//! Returning the memory a full list used to the operating system.
//!
//! Listing 100k endpoints decodes pages of full API objects that are dropped as soon as they
//! are converted to slim records; glibc keeps the freed pages in its arenas, so the process
//! stays at its peak size. After a relist Cairn asks the allocator to give free memory back
//! (`malloc_trim`), which is where most of the difference between the slim state and the RSS
//! came from (measured in `bench/api.sh`).

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

/// glibc's `M_ARENA_MAX` option (malloc.h).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const M_ARENA_MAX: i32 = -8;

/// Caps glibc's malloc at two arenas. By default it makes up to eight per core, and Cairn runs
/// a thread per core: on a large node each arena keeps its own free memory. Two arenas saved
/// 4 MiB of RSS at 10k Services / 100k endpoints on two cores (`bench/api.sh`); the answer path
/// barely allocates, so the contention costs nothing measurable. Call once, first thing in
/// `main`.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        // SAFETY: `mallopt` is glibc's documented function for tuning malloc; it takes two
        // integers, touches no memory of ours, and is called before other threads exist.
        unsafe {
            mallopt(M_ARENA_MAX, 2);
        }
    }
}
