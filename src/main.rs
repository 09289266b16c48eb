//! The `pack` command: parses the command line and hands over to the library.

/// pack allocates many small values (YAML trees, JSON for validation, template output):
/// brief commands pack them densely (`pack::heap`), everything else goes to mimalloc, which
/// is markedly faster than glibc's allocator.
#[global_allocator]
static ALLOCATOR: pack::heap::Heap = pack::heap::Heap;

#[cfg(unix)]
unsafe extern "C" {
    /// POSIX `_exit`: ends the process without running exit handlers.
    fn _exit(status: std::ffi::c_int) -> !;
}

fn main() -> std::process::ExitCode {
    pack::timing::mark("start");
    if pack::cli::runs_briefly(std::env::args_os().skip(1)) {
        pack::heap::enable();
    }
    let status = pack::cli::run_status();
    pack::timing::mark("end");
    // Every file is closed and all output flushed by now. What remains at a normal exit is
    // the allocator's clean-up: returning freed memory to the OS page by page (`madvise`),
    // about 4% of a large chart's render, for memory the process is about to drop whole.
    #[cfg(unix)]
    // SAFETY: nothing is left to run: `run_status` has returned and flushed its output;
    // threads still running end here as they would at any exit.
    unsafe {
        _exit(std::ffi::c_int::from(status))
    }
    #[cfg(not(unix))]
    std::process::ExitCode::from(status)
}

/// musl's `memcpy`, replaced in the static musl build (see `pack::memcopy` for why). The
/// linker takes these definitions before libc's, so every copy in the program uses them.
///
/// # Safety
/// C's: `src` readable and `dst` writable for `n` bytes, the ranges not overlapping.
#[cfg(all(target_arch = "x86_64", target_env = "musl"))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the C contract of `memcpy`, which `copy` meets and exceeds (overlap allowed).
    unsafe { pack::memcopy::copy(dst, src, n) };
    dst
}

/// musl's `memcmp`, replaced for the same reason (it compares a byte at a time).
///
/// # Safety
/// C's: `a` and `b` readable for `n` bytes.
#[cfg(all(target_arch = "x86_64", target_env = "musl"))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> std::ffi::c_int {
    // SAFETY: the C contract of `memcmp`.
    unsafe { pack::memcopy::compare(a, b, n) }
}

/// musl's `bcmp` (what LLVM calls for equality tests), which calls its `memcmp`.
///
/// # Safety
/// C's: `a` and `b` readable for `n` bytes.
#[cfg(all(target_arch = "x86_64", target_env = "musl"))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> std::ffi::c_int {
    // SAFETY: the C contract of `bcmp`.
    unsafe { pack::memcopy::compare(a, b, n) }
}

/// musl's `memmove`, replaced alongside `memcpy` (musl's calls into its own `memcpy`).
///
/// # Safety
/// C's: `src` readable and `dst` writable for `n` bytes.
#[cfg(all(target_arch = "x86_64", target_env = "musl"))]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the C contract of `memmove`.
    unsafe { pack::memcopy::copy(dst, src, n) };
    dst
}
