//! Memory copies and comparisons for the static musl build, which exports them as
//! `memcpy`, `memmove`, `memcmp` and `bcmp` (`main.rs`). musl's x86-64 `memcpy` moves an
//! unaligned head and tail one byte at a time and starts `rep movsq` even for a few bytes:
//! in profiles of `pack template` it took 12% of a large chart's time against 2% for
//! glibc's. Its `memcmp` compares one byte at a time (5% of cert-manager's render thread,
//! whose templates hold 1.2 MB of CRDs). Rust code copies and compares mostly short strings
//! and small structs, which here cost a few loads and stores.
//!
//! Copies up to 128 bytes load everything before storing anything, so overlap is harmless.
//! Longer ones run a 16-byte loop in inline assembly (a loop written in Rust would be
//! recognised by LLVM as a copy and compiled into a call to `memcpy`: itself), or `rep movsb`
//! from 4 KiB, which is fastest there on CPUs with fast string moves. Comparisons take 16
//! bytes at a time with SSE2, and shorter ones two overlapping big-endian words.

#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::{
    __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_storeu_si128,
};

/// From this length, forward copies use `rep movsb`.
#[cfg(target_arch = "x86_64")]
const REP_MOVSB_FROM: usize = 4096;

/// Copies `n` bytes from `src` to `dst`; the ranges may overlap.
///
/// # Safety
/// `src` must be valid for reads and `dst` for writes of `n` bytes.
#[cfg(target_arch = "x86_64")]
#[inline]
pub unsafe fn copy(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller's promise; each helper reads and writes only within `n` bytes.
    unsafe {
        if n <= 16 {
            copy_upto16(dst, src, n);
        } else if n <= 128 {
            copy_upto128(dst, src, n);
        } else if (dst as usize).wrapping_sub(src as usize) >= n {
            // `dst` is below `src` or past the end of the source: copying forwards never
            // overwrites a byte before it has been read.
            copy_forward(dst, src, n);
        } else {
            copy_backward(dst, src, n);
        }
    }
}

/// Up to 16 bytes: two possibly overlapping loads of the largest width that fits.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn copy_upto16(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: every access lies within the first `n` bytes of `src` or `dst`.
    unsafe {
        if n >= 8 {
            let a = src.cast::<u64>().read_unaligned();
            let b = src.add(n - 8).cast::<u64>().read_unaligned();
            dst.cast::<u64>().write_unaligned(a);
            dst.add(n - 8).cast::<u64>().write_unaligned(b);
        } else if n >= 4 {
            let a = src.cast::<u32>().read_unaligned();
            let b = src.add(n - 4).cast::<u32>().read_unaligned();
            dst.cast::<u32>().write_unaligned(a);
            dst.add(n - 4).cast::<u32>().write_unaligned(b);
        } else if n >= 2 {
            let a = src.cast::<u16>().read_unaligned();
            let b = src.add(n - 2).cast::<u16>().read_unaligned();
            dst.cast::<u16>().write_unaligned(a);
            dst.add(n - 2).cast::<u16>().write_unaligned(b);
        } else if n == 1 {
            *dst = *src;
        }
    }
}

/// 17 to 128 bytes: 16-byte blocks from both ends, all loaded before the first store.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn copy_upto128(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: `16 < n <= 128`; every block starts at or after offset 0 and ends at or
    // before `n`.
    unsafe {
        let ld = |at: usize| _mm_loadu_si128(src.add(at).cast::<__m128i>());
        let st = |at: usize, v| _mm_storeu_si128(dst.add(at).cast::<__m128i>(), v);
        if n <= 32 {
            let (a, b) = (ld(0), ld(n - 16));
            st(0, a);
            st(n - 16, b);
        } else if n <= 64 {
            let (a, b, c, d) = (ld(0), ld(16), ld(n - 32), ld(n - 16));
            st(0, a);
            st(16, b);
            st(n - 32, c);
            st(n - 16, d);
        } else {
            let (a, b, c, d) = (ld(0), ld(16), ld(32), ld(48));
            let (e, f, g, h) = (ld(n - 64), ld(n - 48), ld(n - 32), ld(n - 16));
            st(0, a);
            st(16, b);
            st(32, c);
            st(48, d);
            st(n - 64, e);
            st(n - 48, f);
            st(n - 32, g);
            st(n - 16, h);
        }
    }
}

/// More than 128 bytes, front to back; safe when `dst` is not inside the source after `src`.
#[cfg(target_arch = "x86_64")]
#[inline(never)]
unsafe fn copy_forward(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the loop covers `[0, 16 * blocks)` with `16 * blocks < n`, and the last 16
    // bytes, read before any store, cover the rest; `rep movsb` copies exactly `n`.
    unsafe {
        if n >= REP_MOVSB_FROM {
            core::arch::asm!(
                "rep movsb",
                inout("rcx") n => _,
                inout("rdi") dst => _,
                inout("rsi") src => _,
                options(nostack, preserves_flags),
            );
            return;
        }
        let last = _mm_loadu_si128(src.add(n - 16).cast::<__m128i>());
        let blocks = (n - 1) / 16;
        core::arch::asm!(
            "2:",
            "movdqu {t}, xmmword ptr [{s}]",
            "movdqu xmmword ptr [{d}], {t}",
            "add {s}, 16",
            "add {d}, 16",
            "dec {k}",
            "jnz 2b",
            s = inout(reg) src => _,
            d = inout(reg) dst => _,
            k = inout(reg) blocks => _,
            t = out(xmm_reg) _,
            options(nostack),
        );
        _mm_storeu_si128(dst.add(n - 16).cast::<__m128i>(), last);
    }
}

/// More than 128 bytes, back to front; for `dst` inside the source after `src`.
#[cfg(target_arch = "x86_64")]
#[inline(never)]
unsafe fn copy_backward(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the loop covers `[n - 16 * blocks, n)` with `16 * blocks < n`, and the
    // first 16 bytes, read before any store, cover the rest.
    unsafe {
        let first = _mm_loadu_si128(src.cast::<__m128i>());
        let blocks = (n - 1) / 16;
        core::arch::asm!(
            "2:",
            "sub {s}, 16",
            "sub {d}, 16",
            "movdqu {t}, xmmword ptr [{s}]",
            "movdqu xmmword ptr [{d}], {t}",
            "dec {k}",
            "jnz 2b",
            s = inout(reg) src.add(n) => _,
            d = inout(reg) dst.add(n) => _,
            k = inout(reg) blocks => _,
            t = out(xmm_reg) _,
            options(nostack),
        );
        _mm_storeu_si128(dst.cast::<__m128i>(), first);
    }
}

/// Compares `n` bytes as C's `memcmp` does: negative, zero or positive as the first byte
/// that differs is lower in `a`, absent, or higher in `a`.
///
/// # Safety
/// `a` and `b` must be valid for reads of `n` bytes.
#[cfg(target_arch = "x86_64")]
#[inline]
pub unsafe fn compare(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: every load lies within the first `n` bytes of `a` and `b`.
    unsafe {
        if n >= 16 {
            return compare_blocks(a, b, n);
        }
        if n >= 8 {
            return compare_words(a, b, n, |p| p.cast::<u64>().read_unaligned().to_be());
        }
        if n >= 4 {
            return compare_words(a, b, n, |p| p.cast::<u32>().read_unaligned().to_be());
        }
        for i in 0..n {
            let (x, y) = (*a.add(i), *b.add(i));
            if x != y {
                return i32::from(x) - i32::from(y);
            }
        }
        0
    }
}

/// `size_of::<T>()` to twice that many bytes: the big-endian words at 0 and ending at `n`.
/// They overlap when `n` is less than twice the size; the second decides only when the
/// first is equal, and then its equal head does not matter.
///
/// # Safety
/// `a` and `b` valid for reads of `n` bytes, `size_of::<T>() <= n`; `load` reads one `T`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn compare_words<T: Ord>(
    a: *const u8,
    b: *const u8,
    n: usize,
    load: impl Fn(*const u8) -> T,
) -> i32 {
    for at in [0, n - size_of::<T>()] {
        // SAFETY: each word lies within the first `n` bytes (the caller's promise).
        let (x, y) = unsafe { (load(a.add(at)), load(b.add(at))) };
        if x != y {
            return if x < y { -1 } else { 1 };
        }
    }
    0
}

/// 16 bytes or more: 16-byte blocks from the front, then the last 16 bytes.
#[cfg(target_arch = "x86_64")]
#[inline(never)]
unsafe fn compare_blocks(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: `n >= 16`; each block starts at or before `n - 16`.
    unsafe {
        let differs_at = |at: usize| -> Option<usize> {
            let x = _mm_loadu_si128(a.add(at).cast::<__m128i>());
            let y = _mm_loadu_si128(b.add(at).cast::<__m128i>());
            let equal = _mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) as u32;
            (equal != 0xFFFF).then(|| at + (!equal).trailing_zeros() as usize)
        };
        let mut at = 0;
        while at + 16 <= n {
            if let Some(i) = differs_at(at) {
                return i32::from(*a.add(i)) - i32::from(*b.add(i));
            }
            at += 16;
        }
        if at < n
            && let Some(i) = differs_at(n - 16)
        {
            return i32::from(*a.add(i)) - i32::from(*b.add(i));
        }
        0
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::{compare, copy};

    #[test]
    fn compares_like_memcmp_at_every_length_and_difference() {
        let sign = |x: i32| x.signum();
        for n in (0..200).chain([255, 256, 257, 1000, 4097]) {
            let a = pattern(n + 3);
            for off in [0, 1, 3] {
                let a = &a[off..off + n];
                // SAFETY: both slices hold `n` bytes.
                assert_eq!(
                    unsafe { compare(a.as_ptr(), a.to_vec().as_ptr(), n) },
                    0,
                    "n={n}"
                );
                for i in (0..n).step_by(1 + n / 40).chain(n.checked_sub(1)) {
                    for delta in [1u8, 0x80, 0xFF] {
                        let mut b = a.to_vec();
                        b[i] = b[i].wrapping_add(delta);
                        let want = sign(i32::from(a[i]) - i32::from(b[i]));
                        // SAFETY: both hold `n` bytes.
                        let got = unsafe { compare(a.as_ptr(), b.as_ptr(), n) };
                        assert_eq!(sign(got), want, "n={n} i={i} delta={delta}");
                        // SAFETY: as above.
                        let back = unsafe { compare(b.as_ptr(), a.as_ptr(), n) };
                        assert_eq!(sign(back), -want, "n={n} i={i} delta={delta}");
                        // A later difference does not override an earlier one.
                        if i + 1 < n {
                            let mut c = b.clone();
                            c[n - 1] = a[n - 1].wrapping_sub(1);
                            if n - 1 > i {
                                // SAFETY: as above.
                                let got = unsafe { compare(a.as_ptr(), c.as_ptr(), n) };
                                assert_eq!(sign(got), want, "n={n} i={i} later");
                            }
                        }
                    }
                }
            }
        }
    }

    /// A buffer of distinct-looking bytes.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 131 + 7) as u8).collect()
    }

    #[test]
    fn copies_between_buffers_at_every_length_and_offset() {
        let lengths = (0..300).chain([511, 512, 513, 4095, 4096, 4097, 10_000]);
        for n in lengths {
            for (so, doff) in [(0, 0), (1, 0), (0, 3), (7, 5), (15, 1)] {
                let src = pattern(n + so);
                let mut dst = vec![0xAAu8; n + doff + 8];
                // SAFETY: both buffers hold the ranges copied.
                unsafe { copy(dst.as_mut_ptr().add(doff), src.as_ptr().add(so), n) };
                assert_eq!(&dst[doff..doff + n], &src[so..so + n], "n={n} so={so}");
                assert!(
                    dst[..doff].iter().all(|&b| b == 0xAA),
                    "wrote before, n={n}"
                );
                assert!(
                    dst[doff + n..].iter().all(|&b| b == 0xAA),
                    "wrote after, n={n}"
                );
            }
        }
    }

    #[test]
    fn overlapping_copies_behave_like_memmove() {
        for n in (0..300).chain([1000, 4096, 5000]) {
            for shift in [1usize, 2, 8, 15, 16, 17, 64, 200] {
                let len = n + shift + 4;
                let original = pattern(len);
                // Forwards: destination above the source.
                let mut buf = original.clone();
                let p = buf.as_mut_ptr();
                // SAFETY: both ranges lie in `buf`.
                unsafe { copy(p.add(shift), p, n) };
                let mut want = original.clone();
                want.copy_within(0..n, shift);
                assert_eq!(buf, want, "up n={n} shift={shift}");
                // Backwards: destination below the source.
                let mut buf = original.clone();
                let p = buf.as_mut_ptr();
                // SAFETY: both ranges lie in `buf`.
                unsafe { copy(p, p.add(shift), n) };
                let mut want = original.clone();
                want.copy_within(shift..shift + n, 0);
                assert_eq!(buf, want, "down n={n} shift={shift}");
            }
        }
    }
}
