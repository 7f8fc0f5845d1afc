//! [`SweepStore`] on SQLite: requeuing lapsed offers, ending overdue tasks, pruning — each
//! call at most `limit` rows, so one call holds the writer for a batch, never a whole backlog.

use openclaw_shared::{EpochMillis, LeaseId, OutcomeStatus, TaskId, TaskOutcome, TaskStatus};
use rusqlite::{params, Connection};

use super::rows::{parse_id, to_i64, write_outcome};
use super::SqliteStore;
use crate::queue::store::{LapsedOffers, StoreError, SweepStore};

impl SweepStore for SqliteStore {
    fn requeue_unaccepted(
        &self,
        now: EpochMillis,
        limit: usize,
    ) -> Result<LapsedOffers, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let limit = limit_i64(limit);
        let overdue = "status IN ('running', 'awaiting_approval') AND accepted_at IS NULL \
                       AND lease_expires_at <= ?1";
        let cancelled: Vec<TaskId> = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT id FROM tasks WHERE {overdue} AND cancel_requested = 1 \
                 ORDER BY seq LIMIT ?2"
            ))?;
            let rows =
                stmt.query_map(params![to_i64(now), limit], |row| row.get::<_, String>(0))?;
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
                 approval_decision = NULL \
                 WHERE seq IN (SELECT seq FROM tasks WHERE {overdue} ORDER BY seq LIMIT ?2) \
                 RETURNING id"
            ))?;
            let rows =
                stmt.query_map(params![to_i64(now), limit], |row| row.get::<_, String>(0))?;
            rows.map(|id| parse_id(&id?))
                .collect::<Result<_, StoreError>>()?
        };
        tx.commit()?;
        Ok(LapsedOffers {
            requeued,
            cancelled,
        })
    }

    fn expire_queued(
        &self,
        now: EpochMillis,
        why: &str,
        limit: usize,
    ) -> Result<Vec<TaskId>, StoreError> {
        end_overdue(
            &self.conn(),
            &Overdue {
                from: &[TaskStatus::Queued],
                deadline_column: "expires_at",
                to: TaskStatus::Expired,
                why,
            },
            now,
            "[]",
            limit,
        )
    }

    fn lose_lapsed(
        &self,
        now: EpochMillis,
        why: &str,
        spared: &[LeaseId],
        limit: usize,
    ) -> Result<Vec<TaskId>, StoreError> {
        let spared: Vec<String> = spared.iter().map(LeaseId::to_string).collect();
        end_overdue(
            &self.conn(),
            &Overdue {
                from: &[TaskStatus::Running, TaskStatus::AwaitingApproval],
                deadline_column: "lease_expires_at",
                to: TaskStatus::Lost,
                why,
            },
            now,
            &serde_json::to_string(&spared)?,
            limit,
        )
    }

    fn prune(&self, cutoff: EpochMillis, limit: usize) -> Result<usize, StoreError> {
        let conn = self.conn();
        // Sessions go when their latest task is past the retention too (it is pruned, or
        // about to be); channel bindings stay: one row per channel, user and agent.
        conn.prepare_cached("DELETE FROM agent_sessions WHERE updated_at <= ?1")?
            .execute(params![to_i64(cutoff)])?;
        Ok(conn.execute(
            "DELETE FROM tasks WHERE seq IN (SELECT seq FROM tasks \
             WHERE completed_at IS NOT NULL AND completed_at <= ?1 LIMIT ?2)",
            params![to_i64(cutoff), limit_i64(limit)],
        )?)
    }

    fn prune_abandoned(&self, cutoff: EpochMillis, limit: usize) -> Result<usize, StoreError> {
        // Read through `tasks_by_status`: only the cancelled and expired tasks of the last
        // `abandoned_retention` are left to look at, since older ones are gone.
        Ok(self.conn().execute(
            "DELETE FROM tasks WHERE seq IN (SELECT seq FROM tasks \
             WHERE status IN ('cancelled', 'expired') AND completed_at <= ?1 \
             AND (origin IS NULL OR delivered_at IS NOT NULL) LIMIT ?2)",
            params![to_i64(cutoff), limit_i64(limit)],
        )?)
    }
}

/// Which tasks a pass ends, and how.
struct Overdue<'a> {
    /// The statuses it ends.
    from: &'a [TaskStatus],
    /// The column holding each one's deadline.
    deadline_column: &'static str,
    /// The status they end with.
    to: TaskStatus,
    /// The error their outcome carries.
    why: &'a str,
}

/// Ends up to `limit` tasks still in one of `overdue.from` whose deadline is at or before
/// `now`, oldest first, except those under a lease in `spared` (a JSON array of lease
/// ids). Returns the ids it ended.
fn end_overdue(
    conn: &Connection,
    overdue: &Overdue<'_>,
    now: EpochMillis,
    spared: &str,
    limit: usize,
) -> Result<Vec<TaskId>, StoreError> {
    let statuses = overdue
        .from
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let deadline_column = overdue.deadline_column;
    let mut stmt = conn.prepare_cached(&format!(
        "UPDATE tasks SET status = ?1, completed_at = ?2, error = ?3, stdout = '', \
         stderr = '', stdout_encoding = 'utf8', stdout_truncated = 0, \
         stderr_truncated = 0, duration_ms = 0, metadata = '{{}}', lease_expires_at = NULL \
         WHERE seq IN (SELECT seq FROM tasks WHERE status IN ({statuses}) \
         AND {deadline_column} <= ?2 \
         AND (lease_id IS NULL OR lease_id NOT IN (SELECT value FROM json_each(?4))) \
         ORDER BY seq LIMIT ?5) \
         RETURNING id"
    ))?;
    let rows = stmt.query_map(
        params![
            overdue.to.as_str(),
            to_i64(now),
            overdue.why,
            spared,
            limit_i64(limit)
        ],
        |row| row.get::<_, String>(0),
    )?;
    rows.map(|id| parse_id(&id?))
        .collect::<Result<Vec<_>, StoreError>>()
}

/// A row limit as SQLite binds it.
fn limit_i64(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}
