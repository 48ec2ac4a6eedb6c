//! Hands memory that streams freed back to the operating system.
//!
//! glibc's allocator keeps freed memory in per-thread arenas for reuse and
//! returns it only from the top of each heap; what thousands of ended
//! streams freed stays resident, interleaved with live allocations, until
//! asked for with `malloc_trim`. Other allocators return it on their own.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn release_free_memory() {
    unsafe extern "C" {
        fn malloc_trim(pad: usize) -> i32;
    }
    // SAFETY: malloc_trim takes no pointers; it only walks the allocator's
    // own free lists, under the allocator's own locks.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() {}
