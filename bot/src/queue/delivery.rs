//! Delivery: getting a finished task's result back to where the task came from. An adapter
//! marks a result delivered, so a restart or a failed delivery can pick it up again.

use openclaw_shared::TaskId;

use super::clock::now_millis;
use super::error::QueueError;
use super::handle::Queue;
use super::task::Task;

impl Queue {
    /// Finished tasks that carry an origin and whose result no adapter has marked delivered
    /// yet, oldest first: what to (re)deliver after a restart or a failed delivery.
    pub async fn undelivered(&self, limit: usize) -> Result<Vec<Task>, QueueError> {
        Ok(self.read(move |store| store.undelivered(limit)).await?)
    }

    /// Records that the task's result reached where the task came from.
    pub async fn mark_delivered(&self, id: TaskId) -> Result<(), QueueError> {
        let now = now_millis();
        if self
            .write(move |store| store.mark_delivered(id, now))
            .await?
        {
            Ok(())
        } else {
            Err(QueueError::NotFound(id))
        }
    }
}
