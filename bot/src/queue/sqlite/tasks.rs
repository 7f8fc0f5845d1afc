//! [`TaskStore`] on SQLite: inserting, reading, listing, cancelling and counting tasks.

use openclaw_shared::{EpochMillis, OutcomeStatus, TaskId, TaskOutcome, TaskStatus};
use rusqlite::{params, Connection};

use super::rows::{
    from_i64, get_task, millis_i64, parse_status, row_to_brief, to_i64, write_outcome,
    BRIEF_COLUMNS,
};
use super::sessions::{record_session, session_of_another, starts_again};
use super::SqliteStore;
use crate::queue::quota::{Quota, QuotaSettings};
use crate::queue::store::{Refusal, StoreError, TaskStore, Usage};
use crate::queue::task::{NewTask, Scope, Task, TaskBrief};

impl TaskStore for SqliteStore {
    fn insert(
        &self,
        id: TaskId,
        task: &NewTask,
        now: EpochMillis,
        expires_at: EpochMillis,
        ranked_at: EpochMillis,
        quota: &QuotaSettings,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let inserted = insert_task(&tx, id, task, now, expires_at, ranked_at, quota)?;
        if inserted.is_ok() {
            tx.commit()?;
        }
        Ok(inserted)
    }

    fn get(&self, id: TaskId) -> Result<Option<Task>, StoreError> {
        let conn = self.conn();
        get_task(&conn, id)
    }

    fn list(
        &self,
        scope: &Scope,
        status: Option<TaskStatus>,
        limit: usize,
    ) -> Result<Vec<TaskBrief>, StoreError> {
        let conn = self.conn();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // Two statements rather than `?3 IS NULL OR owner = ?3`, which SQLite cannot serve
        // from `tasks_by_owner`: one user's few tasks must not cost a scan of everyone's.
        let filter = match scope {
            Scope::All => "?3 IS NULL",
            Scope::OwnedBy(_) => "owner = ?3",
        };
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {BRIEF_COLUMNS} FROM tasks WHERE {filter} AND (?1 IS NULL OR status = ?1) \
             ORDER BY seq DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(
            params![status.map(|s| s.as_str()), limit, scope.owner()],
            row_to_brief,
        )?;
        rows.map(|row| row?).collect()
    }

    fn cancel(&self, id: TaskId, now: EpochMillis) -> Result<Option<TaskStatus>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let Some(task) = get_task(&tx, id)? else {
            return Ok(None);
        };
        match task.status {
            TaskStatus::Queued => {
                let outcome = TaskOutcome {
                    error: Some("cancelled before a worker claimed it".into()),
                    ..TaskOutcome::new(OutcomeStatus::Cancelled)
                };
                write_outcome(&tx, id, TaskStatus::Cancelled, &outcome, now)?;
            }
            TaskStatus::Running | TaskStatus::AwaitingApproval => {
                tx.execute(
                    "UPDATE tasks SET cancel_requested = 1 WHERE id = ?1",
                    params![id.to_string()],
                )?;
            }
            _ => {}
        }
        tx.commit()?;
        Ok(Some(task.status))
    }

    fn usage(&self) -> Result<Usage, StoreError> {
        read_usage(&self.conn())
    }

    fn count_by_status(&self, scope: &Scope) -> Result<Vec<(TaskStatus, u64)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT status, COUNT(*) FROM tasks WHERE ?1 IS NULL OR owner = ?1 GROUP BY status",
        )?;
        let rows = stmt.query_map(params![scope.owner()], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        rows.map(|row| {
            let (status, count) = row?;
            Ok((parse_status(&status)?, u64::try_from(count).unwrap_or(0)))
        })
        .collect()
    }
}

/// Inserts a new task on `tx` (see [`TaskStore::insert`]); the caller commits. Refused,
/// inserting nothing, past the quota.
pub(super) fn insert_task(
    tx: &Connection,
    id: TaskId,
    task: &NewTask,
    now: EpochMillis,
    expires_at: EpochMillis,
    ranked_at: EpochMillis,
    quota: &QuotaSettings,
) -> Result<Result<(), Refusal>, StoreError> {
    if session_of_another(tx, &task.spec, task.owner.as_deref())? {
        return Ok(Err(Refusal::SessionOfAnother));
    }
    let restarted = if starts_again(tx, &task.spec, task.owner.as_deref())? {
        Some(restart(&task.spec))
    } else {
        None
    };
    let stored_spec = restarted.as_ref().unwrap_or(&task.spec);
    let spec = serde_json::to_string(stored_spec)?;
    let origin = task
        .origin
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    // Checked and inserted in one transaction, so concurrent creates cannot all pass a
    // check made before any of them was stored.
    let usage = read_usage(tx)?;
    if usage.live_tasks >= quota.max_live_tasks {
        return Ok(Err(Refusal::OverQuota(Quota::LiveTasks(
            quota.max_live_tasks,
        ))));
    }
    if usage.stored_bytes.saturating_add(spec.len() as u64) > quota.max_stored_bytes {
        return Ok(Err(Refusal::OverQuota(Quota::StoredBytes(
            quota.max_stored_bytes,
        ))));
    }
    // Cached: the `usage` trigger is compiled into the statement, once.
    tx.prepare_cached(
        "INSERT INTO tasks (id, kind, spec, status, timeout_ms, target_worker, origin, \
         created_at, expires_at, owner, summary, priority, ranked_at, callback_url) \
         VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        id.to_string(),
        stored_spec.kind().as_str(),
        spec,
        millis_i64(task.timeout.as_millis()),
        task.target_worker,
        origin,
        to_i64(now),
        to_i64(expires_at),
        task.owner,
        TaskBrief::summary_of(stored_spec),
        task.priority.get(),
        to_i64(ranked_at),
        task.callback_url,
    ])?;
    record_session(tx, id, stored_spec, task.owner.as_deref(), now)?;
    Ok(Ok(()))
}

/// What the kept tasks hold, from the row the `usage_*` triggers keep current.
pub(super) fn read_usage(conn: &Connection) -> Result<Usage, StoreError> {
    let (bytes, live): (i64, i64) = conn
        .prepare_cached("SELECT stored_bytes, live_tasks FROM usage WHERE id = 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(Usage {
        stored_bytes: from_i64(bytes),
        live_tasks: from_i64(live),
    })
}

/// `spec` with its session started rather than continued (see `starts_again`).
fn restart(spec: &openclaw_shared::TaskSpec) -> openclaw_shared::TaskSpec {
    let mut spec = spec.clone();
    if let openclaw_shared::TaskSpec::Claude {
        session: Some(session),
        ..
    }
    | openclaw_shared::TaskSpec::Agent {
        session: Some(session),
        ..
    } = &mut spec
    {
        session.new = true;
    }
    spec
}
