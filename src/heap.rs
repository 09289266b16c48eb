//! The allocator of short commands (`template`, `validate`…): small blocks packed densely in one
//! reserved region, so a run touches few pages. Everything else goes to mimalloc.
//!
//! Why: a first touch of a page costs ~1.3 µs here (zeroing and accounting), and a general
//! allocator spreads a short run's blocks over one page per size class and per thread —
//! `pack template` of the create chart touched 199 heap pages for 83 pages of peak live
//! data. Here each thread carves its blocks out of one run of memory, whatever their size,
//! and keeps the blocks it frees for reuse by size class.
//!
//! What it gives up, and why that is fine for a command that ends in milliseconds: memory
//! is never returned to the system, a block freed by another thread than its allocator's
//! joins the freeing thread's lists, and a thread's lists are lost when it ends. Long-running
//! commands (the API server) never [`enable`] it.
//!
//! Blocks are at most [`MAX_SMALL`] bytes with alignment at most 16; larger or more aligned
//! ones, allocations made before [`enable`], and all allocations once the region is used up
//! go to mimalloc. Freeing tells the two apart by address.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

/// The largest block served from the region.
pub const MAX_SMALL: usize = 64 * 1024;
/// Size classes: 16 to 128 bytes in steps of 16, then four steps per power of two.
const CLASSES: usize = 44;
/// Address space reserved for the region (only pages touched take memory).
const RESERVE: usize = 16 << 30;
/// What a thread takes from the region at a time.
const CHUNK: usize = 1 << 20;

/// Whether small blocks come from the region.
static ENABLED: AtomicBool = AtomicBool::new(false);
/// The region's first address (0 until [`enable`]).
static BASE: AtomicUsize = AtomicUsize::new(0);
/// The region's end.
static END: AtomicUsize = AtomicUsize::new(0);
/// The start of the region's part no thread has taken yet.
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// One thread's state: the rest of its chunk and its freed blocks by class.
struct Local {
    /// Next free address of the thread's chunk.
    bump: Cell<usize>,
    /// End of the thread's chunk.
    end: Cell<usize>,
    /// Heads of the lists of freed blocks (each block starts with the next one's address).
    free: [Cell<usize>; CLASSES],
}

thread_local! {
    static LOCAL: Local = const {
        Local {
            bump: Cell::new(0),
            end: Cell::new(0),
            free: [const { Cell::new(0) }; CLASSES],
        }
    };
}

/// The size class of a block of `size` bytes (`1..=MAX_SMALL`).
#[inline]
pub fn class_of(size: usize) -> usize {
    if size <= 128 {
        size.saturating_sub(1) / 16
    } else {
        let s = size - 1;
        let log = (usize::BITS - 1 - s.leading_zeros()) as usize;
        8 + (log - 7) * 4 + ((s >> (log - 2)) & 3)
    }
}

/// The size of the blocks of class `class`.
#[inline]
pub fn class_size(class: usize) -> usize {
    if class < 8 {
        (class + 1) * 16
    } else {
        let log = (class - 8) / 4 + 7;
        (5 + (class - 8) % 4) << (log - 2)
    }
}

/// Reserves the region and serves small blocks from it from now on; false when the region
/// could not be reserved (mimalloc then serves everything, as before). Calls after the
/// first, from any thread, wait for it and give its answer.
#[cfg(unix)]
pub fn enable() -> bool {
    use rustix::mm::{MapFlags, ProtFlags, mmap_anonymous};
    const IDLE: u8 = 0;
    const BUSY: u8 = 1;
    const READY: u8 = 2;
    const FAILED: u8 = 3;
    static STATE: AtomicU8 = AtomicU8::new(IDLE);
    if let Err(state) = STATE.compare_exchange(IDLE, BUSY, Ordering::Acquire, Ordering::Acquire) {
        let mut state = state;
        while state == BUSY {
            std::hint::spin_loop();
            state = STATE.load(Ordering::Acquire);
        }
        return state != FAILED;
    }
    // SAFETY: a fresh anonymous mapping at an address of the kernel's choosing touches no
    // existing memory.
    let mapped = unsafe {
        mmap_anonymous(
            std::ptr::null_mut(),
            RESERVE,
            ProtFlags::READ | ProtFlags::WRITE,
            MapFlags::PRIVATE | MapFlags::NORESERVE,
        )
    };
    let Ok(base) = mapped else {
        STATE.store(FAILED, Ordering::Release);
        return false;
    };
    let base = base as usize;
    BASE.store(base, Ordering::Relaxed);
    END.store(base + RESERVE, Ordering::Relaxed);
    NEXT.store(base, Ordering::Relaxed);
    ENABLED.store(true, Ordering::Release);
    STATE.store(READY, Ordering::Release);
    true
}

/// True once [`enable`] has succeeded.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Without `mmap`, mimalloc serves everything.
#[cfg(not(unix))]
pub fn enable() -> bool {
    false
}

/// True when `ptr` was served from the region. (Whoever holds a region block has seen
/// [`enable`]'s stores: through `ENABLED` or through whatever handed the block over.)
#[inline]
fn in_region(ptr: *mut u8) -> bool {
    let p = ptr as usize;
    p >= BASE.load(Ordering::Relaxed) && p < END.load(Ordering::Relaxed)
}

/// True when a block of this layout is served from the region.
#[inline]
fn small(layout: Layout) -> bool {
    layout.size() <= MAX_SMALL && layout.align() <= 16 && ENABLED.load(Ordering::Acquire)
}

/// The process's allocator: the region for small blocks once enabled, else mimalloc.
pub struct Heap;

impl Heap {
    /// A block of class `class` from this thread's lists or chunk; null when the region is
    /// used up.
    #[inline]
    fn take(class: usize) -> *mut u8 {
        LOCAL.with(|local| {
            let head = local.free[class].get();
            if head != 0 {
                // SAFETY: a freed block of this class, at least 16 bytes, whose first word
                // was set to the next block's address when it was freed.
                let next = unsafe { *(head as *const usize) };
                local.free[class].set(next);
                return head as *mut u8;
            }
            let size = class_size(class);
            let at = local.bump.get();
            if at + size <= local.end.get() && at != 0 {
                local.bump.set(at + size);
                return at as *mut u8;
            }
            let chunk = NEXT.fetch_add(CHUNK, Ordering::Relaxed);
            if chunk + CHUNK > END.load(Ordering::Relaxed) {
                return std::ptr::null_mut();
            }
            local.bump.set(chunk + size);
            local.end.set(chunk + CHUNK);
            chunk as *mut u8
        })
    }

    /// Returns a region block of class `class` to this thread's list.
    #[inline]
    fn give(ptr: *mut u8, class: usize) {
        LOCAL.with(|local| {
            // SAFETY: the block is the caller's to free, 16-aligned and at least 16 bytes.
            unsafe { *(ptr as *mut usize) = local.free[class].get() };
            local.free[class].set(ptr as usize);
        });
    }
}

// SAFETY: region blocks are handed out once (a chunk belongs to one thread, a freed block
// sits in one list) and are at least as large and as aligned as asked (class sizes are
// multiples of 16, chunks start 16-aligned); everything else is mimalloc's.
unsafe impl GlobalAlloc for Heap {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if small(layout) {
            let p = Self::take(class_of(layout.size()));
            if !p.is_null() {
                return p;
            }
        }
        // SAFETY: the caller's layout, passed on.
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if in_region(ptr) {
            Self::give(ptr, class_of(layout.size()));
        } else {
            // SAFETY: not from the region, so from mimalloc with this layout.
            unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !in_region(ptr) {
            // SAFETY: mimalloc's block, with the caller's promises.
            return unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) };
        }
        let old = class_of(layout.size());
        if new_size <= MAX_SMALL {
            let new = class_of(new_size);
            if new == old {
                return ptr;
            }
            // The thread's last carved block grows or shrinks where it is.
            let grown = LOCAL.with(|local| {
                let p = ptr as usize;
                let end = p + class_size(new);
                if p + class_size(old) == local.bump.get() && end <= local.end.get() {
                    local.bump.set(end);
                    true
                } else {
                    false
                }
            });
            if grown {
                return ptr;
            }
        }
        // SAFETY: `new_size` is non-zero and fits `isize` when rounded to the alignment
        // (the caller's promise).
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as for `alloc`.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks hold at least the smaller size and are distinct.
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
            Self::give(ptr, old);
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_cover_every_size_with_little_waste() {
        let mut last = 0;
        for size in 1..=MAX_SMALL {
            let class = class_of(size);
            assert!(class < CLASSES, "size {size}");
            let block = class_size(class);
            assert!(block >= size, "size {size} got {block}");
            assert_eq!(block % 16, 0, "size {size}");
            assert!(class >= last, "classes grow with size");
            last = class;
            // At most a quarter wasted beyond the first 16-byte steps.
            if size > 128 {
                assert!(block - size < block / 4 + 1, "size {size} got {block}");
            }
            if class > 0 {
                assert!(
                    class_size(class - 1) < size,
                    "size {size} fits a smaller class"
                );
            }
        }
        assert_eq!(class_of(MAX_SMALL), CLASSES - 1);
        assert_eq!(class_size(CLASSES - 1), MAX_SMALL);
    }
}
