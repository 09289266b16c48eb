//! Phase timings for performance work: with `PACK_TIMING=1`, each [`mark`] prints the time
//! since the process's first mark and the thread's name to stderr.

use std::sync::OnceLock;
use std::time::Instant;

static START: OnceLock<Option<Instant>> = OnceLock::new();

/// Notes that `phase` is done (nothing unless `PACK_TIMING` is set).
pub fn mark(phase: &str) {
    let start = START.get_or_init(|| std::env::var_os("PACK_TIMING").map(|_| Instant::now()));
    if let Some(start) = start {
        let thread = std::thread::current();
        eprintln!(
            "[timing] {:>8.3} ms  {:<12} {phase}",
            start.elapsed().as_secs_f64() * 1e3,
            thread.name().unwrap_or("?")
        );
    }
}
