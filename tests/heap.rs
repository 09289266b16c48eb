//! The brief commands' allocator (`pack::heap`) as this test program's own allocator: blocks
//! keep their contents and alignment through reallocation, reuse and frees on other threads.

use pack::heap::{Heap, MAX_SMALL};
use std::alloc::{GlobalAlloc, Layout};
use std::sync::mpsc;

#[global_allocator]
static ALLOCATOR: Heap = Heap;

/// A small deterministic generator (xorshift), so failures repeat.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
}

/// A block filled with a pattern derived from its seed.
struct Block {
    ptr: *mut u8,
    layout: Layout,
    seed: u8,
}

// SAFETY: a Block owns its allocation; it is moved to another thread only to be freed there.
unsafe impl Send for Block {}

impl Block {
    fn new(rng: &mut Rng) -> Block {
        // Mostly small sizes, some past the region's limit; alignments 1 to 64.
        let size = match rng.below(10) {
            0 => MAX_SMALL - 8 + rng.below(200),
            1..=3 => 129 + rng.below(4000),
            _ => 1 + rng.below(128),
        };
        let align = 1 << rng.below(7);
        let layout = Layout::from_size_align(size, align).unwrap();
        // SAFETY: a non-zero size.
        let ptr = unsafe { ALLOCATOR.alloc(layout) };
        assert!(!ptr.is_null());
        assert_eq!(
            ptr as usize % align,
            0,
            "alignment {align} for {size} bytes"
        );
        let seed = rng.next() as u8;
        let block = Block { ptr, layout, seed };
        block.fill(0, size);
        block
    }

    fn fill(&self, from: usize, to: usize) {
        for i in from..to {
            // SAFETY: within the block.
            unsafe { *self.ptr.add(i) = self.seed.wrapping_add(i as u8) };
        }
    }

    fn check(&self) {
        for i in 0..self.layout.size() {
            // SAFETY: within the block.
            let byte = unsafe { *self.ptr.add(i) };
            assert_eq!(
                byte,
                self.seed.wrapping_add(i as u8),
                "byte {i} of {:?}",
                self.layout
            );
        }
    }

    fn resize(&mut self, rng: &mut Rng) {
        let old = self.layout.size();
        let new = match rng.below(3) {
            0 => 1 + rng.below(old as u64),
            1 => old + 1 + rng.below(300),
            _ => old * 2,
        };
        // SAFETY: this block's own layout; a non-zero new size.
        let ptr = unsafe { ALLOCATOR.realloc(self.ptr, self.layout, new) };
        assert!(!ptr.is_null());
        assert_eq!(ptr as usize % self.layout.align(), 0);
        self.ptr = ptr;
        self.layout = Layout::from_size_align(new, self.layout.align()).unwrap();
        let kept = old.min(new);
        for i in 0..kept {
            // SAFETY: within the block.
            let byte = unsafe { *ptr.add(i) };
            assert_eq!(
                byte,
                self.seed.wrapping_add(i as u8),
                "byte {i} after {old} -> {new}"
            );
        }
        self.fill(kept, new);
    }

    fn free(self) {
        self.check();
        // SAFETY: allocated with this layout and not freed yet.
        unsafe { ALLOCATOR.dealloc(self.ptr, self.layout) };
    }
}

#[test]
fn blocks_keep_their_contents_through_resizes_reuse_and_frees_on_other_threads() {
    assert!(pack::heap::enable());
    let threads = 4;
    let (senders, receivers): (Vec<_>, Vec<_>) =
        (0..threads).map(|_| mpsc::channel::<Block>()).unzip();
    let handles: Vec<_> = receivers
        .into_iter()
        .enumerate()
        .map(|(t, inbox)| {
            let outboxes = senders.clone();
            std::thread::spawn(move || {
                let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (t as u64 + 1));
                let mut live: Vec<Block> = Vec::new();
                for round in 0..6000 {
                    match rng.below(8) {
                        0..=3 => live.push(Block::new(&mut rng)),
                        4 if !live.is_empty() => {
                            let i = rng.below(live.len() as u64);
                            live[i].resize(&mut rng);
                        }
                        5 if !live.is_empty() => {
                            let i = rng.below(live.len() as u64);
                            live.swap_remove(i).free();
                        }
                        6 if !live.is_empty() => {
                            // Freed by another thread.
                            let i = rng.below(live.len() as u64);
                            let to = (t + 1 + round) % threads;
                            let _ = outboxes[to].send(live.swap_remove(i));
                        }
                        _ => {}
                    }
                    while let Ok(block) = inbox.try_recv() {
                        block.free();
                    }
                    if live.len() > 300 {
                        live.swap_remove(0).free();
                    }
                }
                live.into_iter().for_each(Block::free);
                drop(outboxes);
                inbox
            })
        })
        .collect();
    drop(senders);
    let inboxes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for inbox in inboxes {
        while let Ok(block) = inbox.try_recv() {
            block.free();
        }
    }
}

#[test]
fn a_threads_last_block_grows_in_place_and_freed_blocks_are_reused() {
    assert!(pack::heap::enable());
    std::thread::spawn(|| {
        let small = Layout::from_size_align(100, 8).unwrap();
        // SAFETY: layouts with non-zero sizes; each block freed once with its layout.
        unsafe {
            let a = ALLOCATOR.alloc(small);
            let b = ALLOCATOR.realloc(a, small, 1000);
            assert_eq!(a, b, "the thread's last block grows where it is");
            let big = Layout::from_size_align(1000, 8).unwrap();
            let c = ALLOCATOR.alloc(small);
            b.write_bytes(7, 1000);
            let d = ALLOCATOR.realloc(b, big, 2000);
            assert_ne!(b, d, "a block with another after it moves");
            assert!((0..1000).all(|i| *d.add(i) == 7));
            ALLOCATOR.dealloc(c, small);
            let e = ALLOCATOR.alloc(small);
            assert_eq!(c, e, "a freed block serves the next request of its class");
            ALLOCATOR.dealloc(e, small);
            ALLOCATOR.dealloc(d, Layout::from_size_align(2000, 8).unwrap());
            let zeroed = ALLOCATOR.alloc_zeroed(small);
            assert_eq!(zeroed, c, "reused");
            assert!(
                (0..100).all(|i| *zeroed.add(i) == 0),
                "zeroed even when reused"
            );
            ALLOCATOR.dealloc(zeroed, small);
        }
    })
    .join()
    .unwrap();
}

#[test]
fn ordinary_collections_work_on_top_of_it() {
    assert!(pack::heap::enable());
    let mut map = std::collections::HashMap::new();
    for i in 0..20_000u32 {
        map.insert(i.to_string(), vec![i; (i % 50) as usize]);
    }
    for i in (0..20_000u32).step_by(3) {
        map.remove(&i.to_string());
    }
    let total: usize = map.values().map(Vec::len).sum();
    let expected: usize = (0..20_000u32)
        .filter(|i| i % 3 != 0)
        .map(|i| (i % 50) as usize)
        .sum();
    assert_eq!(total, expected);
    let text: String = (0..5000).map(|i| format!("{i},")).collect();
    assert!(text.starts_with("0,1,2,") && text.ends_with("4999,"));
}
