//! Byte searches that need no run-time CPU detection. On x86-64 they use memchr's SSE2
//! kernels (SSE2 is part of the architecture); memchr's default entry points first probe
//! the CPU with `cpuid`, which traps to the hypervisor on a virtual machine and cost about
//! 0.1 ms per process, a twentieth of rendering a small chart.

/// The first position of `n` in `hay`.
pub fn find(n: u8, hay: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(f) = memchr::arch::x86_64::sse2::memchr::One::new(n) {
        return f.find(hay);
    }
    memchr::arch::all::memchr::One::new(n).find(hay)
}

/// The first position of `a` or `b` in `hay`.
pub fn find2(a: u8, b: u8, hay: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(f) = memchr::arch::x86_64::sse2::memchr::Two::new(a, b) {
        return f.find(hay);
    }
    memchr::arch::all::memchr::Two::new(a, b).find(hay)
}

/// The first position of `a`, `b` or `c` in `hay`.
pub fn find3(a: u8, b: u8, c: u8, hay: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(f) = memchr::arch::x86_64::sse2::memchr::Three::new(a, b, c) {
        return f.find(hay);
    }
    memchr::arch::all::memchr::Three::new(a, b, c).find(hay)
}

/// The first position of `needle` in `hay`.
pub fn find_str(needle: &[u8], hay: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    if let Some(f) = memchr::arch::x86_64::sse2::packedpair::Finder::new(needle)
        && hay.len() >= f.min_haystack_len()
    {
        return f.find(hay, needle);
    }
    memchr::arch::all::twoway::Finder::new(needle).find(hay, needle)
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_like_memchr() {
        let hay: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        for n in [0u8, 7, 100, 250, 251, 255] {
            assert_eq!(super::find(n, &hay), memchr::memchr(n, &hay));
            assert_eq!(super::find2(n, 3, &hay), memchr::memchr2(n, 3, &hay));
            assert_eq!(super::find3(n, 3, 9, &hay), memchr::memchr3(n, 3, 9, &hay));
            assert_eq!(super::find(n, &hay[5..17]), memchr::memchr(n, &hay[5..17]));
        }
        assert_eq!(super::find(b'x', b""), None);
    }

    #[test]
    fn finds_strings_like_str_find() {
        let text = "a: 1\n--- \nb: [-, --]\n---\nc: ---\n".repeat(40);
        for needle in ["---", "\n---", "-", "b: [", "zz", "c: ---\n"] {
            for start in [0, 1, 7, 100, text.len() - 3] {
                let hay = &text[start..];
                assert_eq!(
                    super::find_str(needle.as_bytes(), hay.as_bytes()),
                    hay.find(needle),
                    "{needle:?} from {start}"
                );
            }
        }
        assert_eq!(super::find_str(b"---", b"--"), None);
    }
}
