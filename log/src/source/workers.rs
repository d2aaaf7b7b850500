//! The threads that parse and prepare batches of stored lines for the file source: one
//! per core, each at a lowered scheduling priority. The thread that applies the records
//! (the console's screen, the watcher's detector) is the one everything waits for, and it
//! cannot be split; at normal priority it gets a core whenever it has work, and
//! preparation takes what is left — the other cores, and this one whenever the consumer
//! waits. At equal priority the scheduler shared each core three ways, and opening a day
//! took the consumer's share of the time rather than the machine's.
//!
//! The consumer's spent batches are freed here too, where most of them were allocated.
//!
//! A job that panics loses its batch (its answer is dropped), as a panicking blocking
//! task did; the thread carries on.

use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::oneshot;

/// How much lower than the rest of the process the workers run, in Unix nice steps (0
/// normal, 19 least). Ten steps make a worker weigh a tenth of a normal thread: the
/// consumer gets nearly a whole core when it competes with two workers, and other
/// programs still get their share.
pub const LOWER_BY: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// The pool, started on first use; sources share it.
pub struct Workers {
    jobs: Sender<Job>,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers").finish_non_exhaustive()
    }
}

impl Workers {
    /// The process's pool: as many workers as cores (at least two).
    pub fn shared() -> &'static Workers {
        static POOL: OnceLock<Workers> = OnceLock::new();
        POOL.get_or_init(|| {
            let n = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
            Workers::start(n)
        })
    }

    /// A pool of `n` workers (none: every job runs on its caller).
    fn start(n: usize) -> Self {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..n {
            let rx = rx.clone();
            // A pool that cannot start a thread runs its jobs with fewer; with none, the
            // caller runs them itself ([`Workers::run`]).
            let _ = std::thread::Builder::new().name(format!("zoomwatch-prep-{i}")).spawn(move || work(&rx));
        }
        Self { jobs: tx }
    }

    /// Runs `job` on a worker when one is free, nobody waiting for it (freeing what the
    /// consumer is done with). Run here if the pool is gone.
    pub fn spare(&self, job: impl FnOnce() + Send + 'static) {
        if let Err(back) = self.jobs.send(Box::new(job)) {
            (back.0)();
        }
    }

    /// Runs `job` on a worker; its result comes on the receiver (an error if it panicked).
    pub fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> oneshot::Receiver<T> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(job());
        });
        // No worker could be started: run it here rather than lose it.
        if let Err(back) = self.jobs.send(job) {
            (back.0)();
        }
        rx
    }
}

/// A worker: lowers its own priority, then runs jobs until the pool is gone.
fn work(jobs: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        let next = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = next else { return };
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
}

/// Lowers this thread's priority by [`LOWER_BY`] nice steps (on Linux a thread has its
/// own nice value). Where that is refused or unknown, the thread stays as it was: slower
/// to catch up, never wrong.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        let me = Some(rustix::thread::gettid());
        if let Ok(now) = getpriority_process(me) {
            let _ = setpriority_process(me, (now + LOWER_BY).min(19));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_off_the_caller_at_lowered_priority_and_a_panic_loses_only_its_job() {
        let pool = Workers::start(2);
        let caller = std::thread::current().id();
        let thread = pool.run(|| std::thread::current().id()).await.unwrap();
        assert_ne!(thread, caller);
        #[cfg(target_os = "linux")]
        {
            let nice_of_this_thread = || rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
            let caller_nice = nice_of_this_thread();
            let nice = pool.run(nice_of_this_thread).await.unwrap();
            assert_eq!(nice, (caller_nice + LOWER_BY).min(19), "the worker runs below the caller's priority");
        }
        let lost = pool.run(|| -> u32 { panic!("a bad job") });
        assert!(lost.await.is_err(), "a panicking job answers nothing");
        let answers: Vec<_> = (0..8).map(|i| pool.run(move || i * 2)).collect();
        let mut got = Vec::new();
        for a in answers {
            got.push(a.await.unwrap());
        }
        assert_eq!(got, (0..8).map(|i| i * 2).collect::<Vec<_>>(), "both workers still answer, every job once");
    }

    #[tokio::test]
    async fn without_workers_a_job_runs_on_its_caller_and_nothing_is_lost() {
        let pool = Workers::start(0);
        let caller = std::thread::current().id();
        assert_eq!(pool.run(|| std::thread::current().id()).await.unwrap(), caller);
        let (tx, rx) = std::sync::mpsc::channel();
        pool.spare(move || tx.send(7).unwrap());
        assert_eq!(rx.try_recv(), Ok(7), "spare work done before spare returns");
    }
}
