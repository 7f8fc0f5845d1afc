//! [`DeliveryStore`] on SQLite: `delivered_at` on finished tasks that carry an origin.

use openclaw_shared::{EpochMillis, TaskId};
use rusqlite::params;

use super::rows::{row_to_task, to_i64, TASK_COLUMNS};
use super::SqliteStore;
use crate::queue::store::{DeliveryStore, StoreError};
use crate::queue::task::Task;

impl DeliveryStore for SqliteStore {
    fn undelivered(&self, limit: usize) -> Result<Vec<Task>, StoreError> {
        let conn = self.conn();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE origin IS NOT NULL \
             AND completed_at IS NOT NULL AND delivered_at IS NULL ORDER BY seq LIMIT ?1"
        ))?;
        let rows = stmt.query_map(params![limit], row_to_task)?;
        rows.map(|row| row?).collect()
    }

    fn mark_delivered(&self, id: TaskId, now: EpochMillis) -> Result<bool, StoreError> {
        let changed = self.conn().execute(
            "UPDATE tasks SET delivered_at = ?2 WHERE id = ?1",
            params![id.to_string(), to_i64(now)],
        )?;
        Ok(changed > 0)
    }
}
