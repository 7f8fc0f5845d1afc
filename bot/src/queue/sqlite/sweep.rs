//! [`SweepStore`] on SQLite: requeuing lapsed offers, ending overdue tasks, pruning.

use openclaw_shared::{EpochMillis, LeaseId, OutcomeStatus, TaskId, TaskOutcome, TaskStatus};
use rusqlite::{params, Connection};

use super::rows::{parse_id, to_i64, write_outcome};
use super::SqliteStore;
use crate::queue::store::{LapsedOffers, StoreError, SweepStore};

impl SweepStore for SqliteStore {
    fn requeue_unaccepted(&self, now: EpochMillis) -> Result<LapsedOffers, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let overdue = "status IN ('running', 'awaiting_approval') AND accepted_at IS NULL \
                       AND lease_expires_at <= ?1";
        let cancelled: Vec<TaskId> = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT id FROM tasks WHERE {overdue} AND cancel_requested = 1"
            ))?;
            let rows = stmt.query_map(params![to_i64(now)], |row| row.get::<_, String>(0))?;
            rows.map(|id| parse_id(&id?))
                .collect::<Result<_, StoreError>>()?
        };
        let outcome = TaskOutcome {
            error: Some("cancelled before a worker started it".into()),
            ..TaskOutcome::new(OutcomeStatus::Cancelled)
        };
        for &id in &cancelled {
            write_outcome(&tx, id, TaskStatus::Cancelled, &outcome, now)?;
        }
        let requeued: Vec<TaskId> = {
            let mut stmt = tx.prepare_cached(&format!(
                "UPDATE tasks SET status = 'queued', worker = NULL, lease_id = NULL, \
                 lease_expires_at = NULL, started_at = NULL, fingerprint = NULL, \
                 approval_summary = NULL, approval_expires_at = NULL, \
                 approval_decision = NULL WHERE {overdue} RETURNING id"
            ))?;
            let rows = stmt.query_map(params![to_i64(now)], |row| row.get::<_, String>(0))?;
            rows.map(|id| parse_id(&id?))
                .collect::<Result<_, StoreError>>()?
        };
        tx.commit()?;
        Ok(LapsedOffers {
            requeued,
            cancelled,
        })
    }

    fn expire_queued(&self, now: EpochMillis, why: &str) -> Result<Vec<TaskId>, StoreError> {
        end_overdue(
            &self.conn(),
            &[TaskStatus::Queued],
            "expires_at",
            TaskStatus::Expired,
            why,
            now,
            "[]",
        )
    }

    fn lose_lapsed(
        &self,
        now: EpochMillis,
        why: &str,
        spared: &[LeaseId],
    ) -> Result<Vec<TaskId>, StoreError> {
        let spared: Vec<String> = spared.iter().map(LeaseId::to_string).collect();
        end_overdue(
            &self.conn(),
            &[TaskStatus::Running, TaskStatus::AwaitingApproval],
            "lease_expires_at",
            TaskStatus::Lost,
            why,
            now,
            &serde_json::to_string(&spared)?,
        )
    }

    fn prune(&self, cutoff: EpochMillis) -> Result<usize, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM tasks WHERE completed_at IS NOT NULL AND completed_at <= ?1",
            params![to_i64(cutoff)],
        )?)
    }
}

/// Ends every task still in one of `from` whose `deadline_column` is at or before `now`,
/// with `to` and an outcome saying `why`, except those under a lease in `spared` (a JSON
/// array of lease ids). Returns the ids it ended.
fn end_overdue(
    conn: &Connection,
    from: &[TaskStatus],
    deadline_column: &'static str,
    to: TaskStatus,
    why: &str,
    now: EpochMillis,
    spared: &str,
) -> Result<Vec<TaskId>, StoreError> {
    let statuses = from
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = conn.prepare_cached(&format!(
        "UPDATE tasks SET status = ?1, completed_at = ?2, error = ?3, stdout = '', \
         stderr = '', stdout_encoding = 'utf8', stdout_truncated = 0, \
         stderr_truncated = 0, duration_ms = 0, metadata = '{{}}', lease_expires_at = NULL \
         WHERE status IN ({statuses}) AND {deadline_column} <= ?2 \
         AND (lease_id IS NULL OR lease_id NOT IN (SELECT value FROM json_each(?4))) \
         RETURNING id"
    ))?;
    let rows = stmt.query_map(params![to.as_str(), to_i64(now), why, spared], |row| {
        row.get::<_, String>(0)
    })?;
    rows.map(|id| parse_id(&id?))
        .collect::<Result<Vec<_>, StoreError>>()
}
