//! Worker visits: a request acting as a worker is admitted to the registry (`workers`) for
//! as long as it runs, so a worker waiting in a long poll counts as present.

use super::clock::now_millis;
use super::handle::Queue;
use super::workers::{TooManyWorkers, Voucher};

/// A request acting as a worker, admitted by [`Queue::admit_worker`]. While it lives the
/// worker counts as present, however long its long poll waits; dropping it (the request
/// ended, or its client went away) records the worker as seen at that moment.
#[must_use = "the worker counts as present only while its visit is held"]
pub struct WorkerVisit {
    queue: Queue,
    name: String,
}

impl Drop for WorkerVisit {
    fn drop(&mut self) {
        self.queue.inner.workers.leave(&self.name, now_millis());
    }
}

impl std::fmt::Debug for WorkerVisit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerVisit")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Queue {
    /// Admits `name` as a worker for one request, vouched for by `voucher`, and holds it
    /// present until the returned visit is dropped. A name already live is admitted (its
    /// token label updated); a new one from the shared token only under its cap.
    pub fn admit_worker(
        &self,
        name: &str,
        voucher: Voucher<'_>,
    ) -> Result<WorkerVisit, TooManyWorkers> {
        self.inner.workers.admit(name, voucher, now_millis())?;
        Ok(WorkerVisit {
            queue: self.clone(),
            name: name.to_owned(),
        })
    }
}
