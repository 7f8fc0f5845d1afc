//! Live output through the queue: a piece is only taken from the worker holding the task
//! under its current lease while it runs, and never touches the task's result; adapters
//! read the tail and watch it grow ([`super::tails`] keeps it).

use openclaw_shared::{LeaseId, TaskId, TaskStatus};
use tokio::sync::watch;

use super::error::{refused, QueueError};
use super::handle::Queue;
use super::store::Refusal;
use super::tails::LiveSlice;

impl Queue {
    /// Takes a piece of a running task's live output from `worker`, which must hold the task
    /// under `lease` (the checks of [`Queue::complete`]: unknown 404, another's 403, a stale
    /// lease 409; a task that is not running, 409). Returns where the live text ends now.
    pub async fn append_output(
        &self,
        id: TaskId,
        worker: &str,
        lease: LeaseId,
        offset: u64,
        text: &str,
    ) -> Result<u64, QueueError> {
        let holder = worker.to_owned();
        let status = self
            .read(move |store| store.held(id, &holder, lease))
            .await?;
        match status {
            Ok(TaskStatus::Running) => Ok(self.inner.live.append(id, offset, text)),
            Ok(status) => Err(refused(id, Refusal::Conflict(status))),
            Err(refusal) => Err(refused(id, refusal)),
        }
    }

    /// What the bot holds of the task's live text from byte `from` on (from its tail's start
    /// when that is later); `None` when it holds none.
    pub fn live_output(&self, id: TaskId, from: u64) -> Option<LiveSlice> {
        self.inner.live.slice(id, from)
    }

    /// Tells where the task's live text ends each time it grows (and once when the task
    /// ends); closed when its tail is dropped. The caller checks the task exists first.
    pub fn watch_output(&self, id: TaskId) -> watch::Receiver<u64> {
        self.inner.live.watch(id)
    }
}
