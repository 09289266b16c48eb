//! The render thread: started early (its start-up overlaps chart loading), it has the deep
//! stack templates need, parses Go templates beside value computation, renders, and frees
//! a render's memory after handing the result back.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::sync::mpsc;

type Job = Box<dyn FnOnce() + Send>;

thread_local! {
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
    static TRASH: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// A thread with [`super::gotmpl::STACK_BYTES`] of stack that runs jobs in the order they
/// are sent. Dropping the handle lets the thread end once its jobs are done; nobody waits
/// for it.
#[derive(Debug)]
pub struct Worker {
    jobs: mpsc::Sender<Job>,
}

impl Worker {
    /// Starts the thread; `None` when the system refuses one (callers render in place).
    pub fn start() -> Option<Worker> {
        let (jobs, queue) = mpsc::channel::<Job>();
        #[cfg(target_os = "linux")]
        let starter = rustix::thread::sched_getcpu();
        std::thread::Builder::new()
            .name("pack-render".into())
            .stack_size(super::gotmpl::STACK_BYTES)
            .spawn(move || {
                #[cfg(target_os = "linux")]
                leave_cpu(starter);
                ON_WORKER.with(|w| w.set(true));
                while let Ok(job) = queue.recv() {
                    job();
                    // What jobs set aside is freed now, after their results were sent.
                    TRASH.with(|t| t.borrow_mut().clear());
                }
            })
            .ok()?;
        Some(Worker { jobs })
    }

    /// Queues `job` without waiting for it.
    pub fn send(&self, job: impl FnOnce() + Send + 'static) {
        // A worker that is gone has no jobs to run; a `submit` caller's receiver notices.
        let _ = self.jobs.send(Box::new(job));
    }

    /// Queues `job` after the jobs already queued; its result arrives on the receiver (which
    /// fails if the thread died: a panic in a job).
    pub fn submit<R: Send + 'static>(
        &self,
        job: impl FnOnce() -> R + Send + 'static,
    ) -> mpsc::Receiver<R> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.send(move || {
            let _ = tx.send(job());
        });
        rx
    }
}

/// True on a [`Worker`]'s thread (renders run there directly instead of on a new thread).
pub fn on_worker() -> bool {
    ON_WORKER.with(Cell::get)
}

/// Moves the calling thread off CPU `busy` (where the thread that started it runs) when
/// another CPU is allowed, then allows every CPU again. Why: right after another program
/// has kept the other CPUs busy, Linux places a new thread beside its starter (the others'
/// recent load counts against them), and an idle CPU pulls it away only at a later
/// balancing tick. Seen with `perf sched` after `helm template`: the render thread queued
/// behind the main thread on one CPU for 1–3 ms while the other idled.
#[cfg(target_os = "linux")]
fn leave_cpu(busy: usize) {
    use rustix::thread::{sched_getaffinity, sched_setaffinity};
    let Ok(allowed) = sched_getaffinity(None) else {
        return;
    };
    if allowed.count() < 2 || !allowed.is_set(busy) {
        return;
    }
    let mut others = allowed;
    others.unset(busy);
    if sched_setaffinity(None, &others).is_ok() {
        let _ = sched_setaffinity(None, &allowed);
    }
}

/// Whether [`discard`] may leave values unfreed (see [`forget_discarded`]).
static FORGET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Lets [`discard`] leave what it is given unfreed from now on: for a process that renders
/// once and then ends (`pack template`), whose memory goes back whole at its exit. Commands
/// that render again (`lint` renders once per values file) must not call it: their freed
/// memory is reused.
pub fn forget_discarded() {
    FORGET.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Drops `value` later when on a worker (after the current job's result is handed back, so
/// freeing a large render is not on the caller's path), now elsewhere; never after
/// [`forget_discarded`].
pub fn discard<T: 'static>(value: T) {
    if FORGET.load(std::sync::atomic::Ordering::Relaxed) {
        std::mem::forget(value);
    } else if on_worker() {
        TRASH.with(|t| t.borrow_mut().push(Box::new(value)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn a_thread_leaves_its_starters_cpu_and_keeps_every_cpu_allowed() {
        use rustix::thread::{sched_getaffinity, sched_getcpu};
        std::thread::spawn(|| {
            let before = sched_getaffinity(None).expect("affinity");
            let here = sched_getcpu();
            leave_cpu(here);
            let after = sched_getaffinity(None).expect("affinity");
            assert_eq!(after, before, "every CPU allowed again");
            if before.count() >= 2 && before.is_set(here) {
                assert_ne!(sched_getcpu(), here, "moved to another CPU");
            }
        })
        .join()
        .expect("the thread ran");
    }

    #[test]
    fn jobs_run_in_order_on_the_worker() {
        let w = Worker::start().expect("a thread");
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        w.send(move || tx.send(("first", on_worker())).unwrap_or(()));
        w.send(move || tx2.send(("second", on_worker())).unwrap_or(()));
        assert_eq!(w.submit(|| 42).recv().ok(), Some(42));
        assert_eq!(rx.try_recv().ok(), Some(("first", true)));
        assert_eq!(rx.try_recv().ok(), Some(("second", true)));
        assert!(!on_worker());
    }

    #[test]
    fn discarded_values_outlive_the_result() {
        struct Flag(std::sync::Arc<std::sync::atomic::AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let w = Worker::start().expect("a thread");
        let d = dropped.clone();
        let seen_at_return = w
            .submit(move || {
                discard(Flag(d.clone()));
                d.load(std::sync::atomic::Ordering::SeqCst)
            })
            .recv()
            .ok();
        assert_eq!(seen_at_return, Some(false));
        // The next job runs after the trash of the previous one was emptied.
        assert_eq!(w.submit(|| ()).recv().ok(), Some(()));
        assert!(dropped.load(std::sync::atomic::Ordering::SeqCst));
        // Off the worker, `discard` drops at once.
        let now = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        discard(Flag(now.clone()));
        assert!(now.load(std::sync::atomic::Ordering::SeqCst));
    }
}
