//! The store's own threads. Every database call runs there, never on the runtime's worker
//! threads, so a database waiting for a lock (a backup, a `VACUUM`, an operator's open
//! transaction) holds up only the requests that need it: never `/health`, never the runtime.
//!
//! Two lanes: one writer (SQLite has a single writer anyway) and readers on connections of
//! their own (in WAL mode they read while a write, even another process's, is under way), so
//! reads and health checks never wait behind a blocked write. Each lane takes jobs in order
//! from a bounded line. A job that used up its allowance (`storage.busy_timeout_ms`) in line
//! fails `TimedOut` without touching the database, and one that starts in time waits for
//! locks only for what is left of it: a request gets its answer after about one allowance,
//! however many queue up behind a lock. A full line refuses at once (`Overloaded`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::health::{Access, StorageHealth};
use super::store::{Store, StoreError};

/// Most jobs one lane holds in line. Far above what a healthy store ever queues (a job
/// takes microseconds); reached only when a lock holds everything up, and then a request
/// is better refused at once than queued for a turn it will not get in time.
const LINE_CAPACITY: usize = 1024;

/// A call to run on a lane's thread against its store; it sends its own answer.
type Job = Box<dyn FnOnce(&dyn Store) + Send>;

/// The lanes the queue's store calls run on.
pub(super) struct Runner {
    writer: Lane,
    reader: Lane,
    /// How long a call may wait, for its turn and then for a lock, before it fails busy.
    allowance: Duration,
    /// Where failures are recorded for `/admin/health`.
    health: Arc<StorageHealth>,
}

/// One line of jobs and the threads that take them.
struct Lane {
    /// `None` only while dropping: closing the line is what ends the threads.
    line: Option<SyncSender<Job>>,
    threads: Vec<JoinHandle<()>>,
    access: Access,
}

impl Runner {
    /// Starts one writer thread on `writer` and one reader thread per store in `readers`
    /// (they share one line: whichever is free takes the next read). Dropping the runner
    /// closes the lines and waits for the threads to finish the job they are running, so
    /// once the queue is gone its database is closed.
    pub(super) fn start(
        writer: Arc<dyn Store>,
        readers: Vec<Arc<dyn Store>>,
        allowance: Duration,
        health: Arc<StorageHealth>,
    ) -> Result<Runner, StoreError> {
        Ok(Runner {
            writer: Lane::start(Access::Write, vec![writer])?,
            reader: Lane::start(Access::Read, readers)?,
            allowance,
            health,
        })
    }

    /// Runs `op` on the writer thread and returns its answer.
    pub(super) async fn write<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        self.run(&self.writer, op).await
    }

    /// Runs `op` on a reader thread and returns its answer. `op` must not write: a reader's
    /// connection is read-only.
    pub(super) async fn read<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        self.run(&self.reader, op).await
    }

    async fn run<T, F>(&self, lane: &Lane, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let submitted = Instant::now();
        let allowance = self.allowance;
        let health = Arc::clone(&self.health);
        let access = lane.access;
        let job: Job = Box::new(move |store| {
            let waited = submitted.elapsed();
            let changes = store.changes();
            let result = match allowance.checked_sub(waited).filter(|left| !left.is_zero()) {
                Some(left) => store.wait_for_locks(left).and_then(|()| op(store)),
                None => Err(StoreError::TimedOut { waited }),
            };
            match &result {
                Ok(_) => health.record_success(access, store.changes() != changes),
                Err(err) => health.record_failure(access, err),
            }
            // The caller may have gone (its client hung up); the change stands either way.
            let _ = answer.send(result);
        });
        let Some(line) = &lane.line else {
            return Err(StoreError::Stopped);
        };
        match line.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let err = StoreError::Overloaded {
                    waiting: LINE_CAPACITY,
                };
                self.health.record_failure(access, &err);
                return Err(err);
            }
            Err(TrySendError::Disconnected(_)) => return Err(StoreError::Stopped),
        }
        // A dropped sender means the job panicked (logged by the lane) or never ran.
        answered.await.unwrap_or(Err(StoreError::Stopped))
    }
}

impl Lane {
    fn start(access: Access, stores: Vec<Arc<dyn Store>>) -> Result<Lane, StoreError> {
        let (line, jobs) = sync_channel::<Job>(LINE_CAPACITY);
        let jobs = Arc::new(Mutex::new(jobs));
        // The threads log through the subscriber of whoever opened the queue (a test's
        // capture, or the global one).
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        let mut lane = Lane {
            line: Some(line),
            threads: Vec::with_capacity(stores.len()),
            access,
        };
        for (n, store) in stores.into_iter().enumerate() {
            let jobs = Arc::clone(&jobs);
            let dispatch = dispatch.clone();
            let thread = std::thread::Builder::new()
                .name(format!("store-{}-{n}", access.as_str()))
                .spawn(move || {
                    tracing::dispatcher::with_default(&dispatch, || serve(&*store, &jobs));
                })
                .map_err(StoreError::Spawn)?;
            lane.threads.push(thread);
        }
        Ok(lane)
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        self.line = None;
        for thread in self.threads.drain(..) {
            // A thread that panicked outside a job has nothing left to clean up.
            let _ = thread.join();
        }
    }
}

/// Takes jobs until the line closes (the runner was dropped).
fn serve(store: &dyn Store, jobs: &Mutex<Receiver<Job>>) {
    loop {
        // One thread waits on the line at a time; the others wait for the lock.
        let next = jobs.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = next else {
            return;
        };
        // A call that panics (a bug) fails its own request, not every later one: without
        // this, one panic would stop the only writer for good. The store is left as the
        // failed call left it, which is safe: an open transaction rolls back when dropped.
        if catch_unwind(AssertUnwindSafe(|| job(store))).is_err() {
            tracing::error!("a store call panicked; its request failed");
        }
    }
}
