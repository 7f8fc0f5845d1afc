//! Delivery: getting a finished task's result back to where the task came from. An adapter
//! marks a result delivered, so a restart or a failed delivery can pick it up again.

use openclaw_shared::{EpochMillis, TaskId};
use rusqlite::params;

use super::clock::now_millis;
use super::error::QueueError;
use super::handle::Queue;
use super::sqlite::{row_to_task, to_i64, Store, StoreError, TASK_COLUMNS};
use super::task::Task;

impl Queue {
    /// Finished tasks that carry an origin and whose result no adapter has marked delivered
    /// yet, oldest first: what to (re)deliver after a restart or a failed delivery.
    pub async fn undelivered(&self, limit: usize) -> Result<Vec<Task>, QueueError> {
        Ok(self.inner.store.undelivered(limit)?)
    }

    /// Records that the task's result reached where the task came from.
    pub async fn mark_delivered(&self, id: TaskId) -> Result<(), QueueError> {
        if self.inner.store.mark_delivered(id, now_millis())? {
            Ok(())
        } else {
            Err(QueueError::NotFound(id))
        }
    }
}

impl Store {
    /// Finished tasks with an origin whose result is not yet marked delivered, oldest first.
    pub fn undelivered(&self, limit: usize) -> Result<Vec<Task>, StoreError> {
        let conn = self.conn();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE origin IS NOT NULL \
             AND completed_at IS NOT NULL AND delivered_at IS NULL ORDER BY seq LIMIT ?1"
        ))?;
        let rows = stmt.query_map(params![limit], row_to_task)?;
        rows.map(|row| row?).collect()
    }

    /// Marks a task's result delivered. Returns whether the task exists.
    pub fn mark_delivered(&self, id: TaskId, now: EpochMillis) -> Result<bool, StoreError> {
        let changed = self.conn().execute(
            "UPDATE tasks SET delivered_at = ?2 WHERE id = ?1",
            params![id.to_string(), to_i64(now)],
        )?;
        Ok(changed > 0)
    }
}
