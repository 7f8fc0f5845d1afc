//! SQLite persistence for the queue: schema migrations, and one method per state change.
//!
//! Every method runs synchronously under one connection mutex. Each statement takes
//! microseconds (WAL, `synchronous=NORMAL`), so holding a `std::sync::Mutex` for it is
//! cheaper than hopping to a blocking thread, and it makes each state change atomic with
//! respect to every other without `BEGIN IMMEDIATE` retries.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use openclaw_shared::worker::{HeldLease, LeaseState};
use openclaw_shared::{
    ContentEncoding, EpochMillis, LeaseId, OutcomeStatus, TaskId, TaskOutcome, TaskSpec, TaskStatus,
};
use rusqlite::{params, Connection, OptionalExtension, Row};
use uuid::Uuid;

use super::task::{NewTask, PendingApproval, Task};

/// Schema migrations, applied in order at open. Index `i` brings the schema to version
/// `i + 1` (kept in `PRAGMA user_version`). Never edit a shipped migration: add one.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_tasks.sql"),
    include_str!("migrations/0002_deliveries_attachments.sql"),
    include_str!("migrations/0003_approvals.sql"),
    include_str!("migrations/0004_claim_offers.sql"),
];

/// The columns `row_to_task` reads, in its order.
pub(super) const TASK_COLUMNS: &str =
    "id, spec, status, timeout_ms, target_worker, worker, origin, \
     cancel_requested, created_at, started_at, completed_at, stdout, stdout_encoding, stderr, \
     exit_code, signal, error, stdout_truncated, stderr_truncated, duration_ms, metadata, \
     fingerprint, approval_summary, approval_expires_at";

/// A failure of the database itself (not of the caller's request).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored JSON does not parse")]
    Json(#[from] serde_json::Error),
    #[error("stored value `{value}` in column `{column}` is invalid")]
    Corrupt { column: &'static str, value: String },
    #[error("database schema version {found} is newer than this build knows ({known})")]
    SchemaTooNew { found: i64, known: i64 },
}

/// What the store found when asked to change a task it could not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NotFound,
    NotHolder,
    LeaseMismatch,
    Conflict(TaskStatus),
}

/// The SQLite database behind the queue.
pub struct Store {
    /// One connection: SQLite has a single writer anyway, and every operation is short.
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens or creates the database and applies pending migrations.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL in WAL mode survives a crash of this process; only a power loss may drop
        // the last commits. FULL would add an fsync to every enqueue.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "busy_timeout", 5000)?;
        // Attachments go with their task when it is pruned.
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    pub(super) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-applied change behind (each
        // change is one statement or one transaction), so a poisoned lock is safe to reuse.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Inserts a new queued task.
    pub fn insert(
        &self,
        id: TaskId,
        task: &NewTask,
        now: EpochMillis,
        expires_at: EpochMillis,
    ) -> Result<(), StoreError> {
        let spec = serde_json::to_string(&task.spec)?;
        let origin = task
            .origin
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?;
        self.conn().execute(
            "INSERT INTO tasks (id, kind, spec, status, timeout_ms, target_worker, origin, \
             created_at, expires_at) VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7, ?8)",
            params![
                id.to_string(),
                task.spec.kind().as_str(),
                spec,
                millis_i64(task.timeout.as_millis()),
                task.target_worker,
                origin,
                to_i64(now),
                to_i64(expires_at),
            ],
        )?;
        Ok(())
    }

    /// The task with this id, if stored.
    pub fn get(&self, id: TaskId) -> Result<Option<Task>, StoreError> {
        let conn = self.conn();
        get_task(&conn, id)
    }

    /// Tasks, most recent first.
    pub fn list(&self, status: Option<TaskStatus>, limit: usize) -> Result<Vec<Task>, StoreError> {
        let conn = self.conn();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE ?1 IS NULL OR status = ?1 \
             ORDER BY seq DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![status.map(|s| s.as_str()), limit], row_to_task)?;
        rows.map(|row| row?).collect()
    }

    /// Moves up to `slots` claimable tasks to `running` for `worker`, each with a new
    /// lease, oldest first, in one transaction. Each is only offered: un-accepted, with its
    /// lease running out at `offer_expires_at` unless a heartbeat accepts it.
    pub fn claim(
        &self,
        worker: &str,
        slots: u32,
        now: EpochMillis,
        offer_expires_at: EpochMillis,
    ) -> Result<Vec<(Task, LeaseId)>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let ids: Vec<String> = {
            let mut stmt = tx.prepare_cached(
                "SELECT id FROM tasks WHERE status = 'queued' AND expires_at > ?1 \
                 AND (target_worker IS NULL OR target_worker = ?2) ORDER BY seq LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![to_i64(now), worker, slots], |row| row.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut claimed = Vec::with_capacity(ids.len());
        for id in ids {
            let lease = LeaseId::new();
            tx.execute(
                "UPDATE tasks SET status = 'running', worker = ?2, lease_id = ?3, \
                 lease_expires_at = ?4, started_at = ?5, accepted_at = NULL WHERE id = ?1",
                params![
                    id,
                    worker,
                    lease.to_string(),
                    to_i64(offer_expires_at),
                    to_i64(now)
                ],
            )?;
            let task_id = parse_id(&id)?;
            if let Some(task) = get_task(&tx, task_id)? {
                claimed.push((task, lease));
            }
        }
        tx.commit()?;
        Ok(claimed)
    }

    /// Extends each lease `worker` holds (accepting it, at `now`, if it was still only
    /// offered); answers each with its state and, once, the owner's pending approval
    /// decision (JSON) if there is one.
    pub fn heartbeat(
        &self,
        worker: &str,
        leases: &[HeldLease],
        now: EpochMillis,
        lease_expires_at: EpochMillis,
    ) -> Result<Vec<(LeaseState, Option<String>)>, StoreError> {
        let conn = self.conn();
        let mut read = conn.prepare_cached(
            "SELECT cancel_requested, approval_decision FROM tasks WHERE id = ?1 \
             AND worker = ?2 AND lease_id = ?3 AND status IN ('running', 'awaiting_approval')",
        )?;
        let mut extend = conn.prepare_cached(
            "UPDATE tasks SET lease_expires_at = ?2, approval_decision = NULL, \
             accepted_at = COALESCE(accepted_at, ?3) WHERE id = ?1",
        )?;
        leases
            .iter()
            .map(|held| {
                let id = held.task_id.to_string();
                let found: Option<(bool, Option<String>)> = read
                    .query_row(params![id, worker, held.lease.to_string()], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })
                    .optional()?;
                let Some((cancel, decision)) = found else {
                    return Ok((LeaseState::Gone, None));
                };
                // Same connection, same lock: nothing changes between the read and this.
                extend.execute(params![id, to_i64(lease_expires_at), to_i64(now)])?;
                let state = if cancel {
                    LeaseState::CancelRequested
                } else {
                    LeaseState::Active
                };
                Ok((state, decision))
            })
            .collect()
    }

    /// Stores a worker's result if `worker` holds `lease` on the live task. Returns
    /// `Ok(Ok(true))` when stored, `Ok(Ok(false))` when the same result was already stored.
    pub fn complete(
        &self,
        id: TaskId,
        worker: &str,
        lease: LeaseId,
        outcome: &TaskOutcome,
        now: EpochMillis,
    ) -> Result<Result<bool, Refusal>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if let Err(refusal) = held_status(&tx, id, worker, lease)? {
            return Ok(Err(refusal));
        }
        let Some(task) = get_task(&tx, id)? else {
            return Ok(Err(Refusal::NotFound));
        };
        if task.status.is_terminal() {
            return Ok(if task.outcome.as_ref() == Some(outcome) {
                Ok(false)
            } else {
                Err(Refusal::Conflict(task.status))
            });
        }
        write_outcome(&tx, id, TaskStatus::from(outcome.status), outcome, now)?;
        tx.commit()?;
        Ok(Ok(true))
    }

    /// Cancels a queued task at once, or flags a live one for its worker. Returns the
    /// status the task had.
    pub fn cancel(&self, id: TaskId, now: EpochMillis) -> Result<Option<TaskStatus>, StoreError> {
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

    /// Puts back on the queue every task offered by a claim but never accepted whose offer
    /// ran out at or before `now`: its worker never started it (a dead long poll, a Mac
    /// that fell asleep), so it may run elsewhere or later. One flagged for cancel ends
    /// `cancelled` instead. Returns the ids requeued and the ids cancelled.
    pub fn requeue_unaccepted(
        &self,
        now: EpochMillis,
    ) -> Result<(Vec<TaskId>, Vec<TaskId>), StoreError> {
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
        Ok((requeued, cancelled))
    }

    /// Ends every task still in one of `from` whose `deadline_column` is at or before
    /// `now`, with `to` and an outcome saying `why`. Returns the ids it ended.
    pub fn end_overdue(
        &self,
        from: &[TaskStatus],
        deadline_column: &'static str,
        to: TaskStatus,
        why: &str,
        now: EpochMillis,
    ) -> Result<Vec<TaskId>, StoreError> {
        let statuses = from
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "UPDATE tasks SET status = ?1, completed_at = ?2, error = ?3, stdout = '', \
             stderr = '', stdout_encoding = 'utf8', stdout_truncated = 0, \
             stderr_truncated = 0, duration_ms = 0, metadata = '{{}}', lease_expires_at = NULL \
             WHERE status IN ({statuses}) AND {deadline_column} <= ?2 RETURNING id"
        ))?;
        let rows = stmt.query_map(params![to.as_str(), to_i64(now), why], |row| {
            row.get::<_, String>(0)
        })?;
        rows.map(|id| parse_id(&id?))
            .collect::<Result<Vec<_>, StoreError>>()
    }

    /// Deletes finished tasks completed at or before `cutoff`.
    pub fn prune(&self, cutoff: EpochMillis) -> Result<usize, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM tasks WHERE completed_at IS NOT NULL AND completed_at <= ?1",
            params![to_i64(cutoff)],
        )?)
    }

    /// Number of tasks per status.
    pub fn count_by_status(&self) -> Result<Vec<(TaskStatus, u64)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT status, COUNT(*) FROM tasks GROUP BY status")?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        rows.map(|row| {
            let (status, count) = row?;
            Ok((parse_status(&status)?, u64::try_from(count).unwrap_or(0)))
        })
        .collect()
    }

    /// Number of live (leased) tasks per worker.
    pub fn running_by_worker(&self) -> Result<Vec<(String, usize)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT worker, COUNT(*) FROM tasks WHERE status IN ('running', 'awaiting_approval') \
             AND worker IS NOT NULL GROUP BY worker",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        rows.map(|row| {
            let (worker, count) = row?;
            Ok((worker, usize::try_from(count).unwrap_or(0)))
        })
        .collect()
    }

    /// Runs a trivial query, to tell whether the database answers.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.conn().query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(index + 1).unwrap_or(i64::MAX),
        )?;
        tx.commit()?;
        tracing::info!(version = index + 1, "applied database migration");
    }
    Ok(())
}

/// The status of task `id` if `worker` holds it under `lease`; otherwise why not. Every
/// worker write (result, attachment, approval progress) goes through this one check.
pub(super) fn held_status(
    conn: &Connection,
    id: TaskId,
    worker: &str,
    lease: LeaseId,
) -> Result<Result<TaskStatus, Refusal>, StoreError> {
    let held: Option<(String, Option<String>, Option<String>)> = conn
        .query_row(
            "SELECT status, worker, lease_id FROM tasks WHERE id = ?1",
            params![id.to_string()],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let Some((status, holder, current_lease)) = held else {
        return Ok(Err(Refusal::NotFound));
    };
    if holder.as_deref() != Some(worker) {
        return Ok(Err(Refusal::NotHolder));
    }
    if current_lease.as_deref() != Some(lease.to_string().as_str()) {
        return Ok(Err(Refusal::LeaseMismatch));
    }
    Ok(Ok(parse_status(&status)?))
}

fn get_task(conn: &Connection, id: TaskId) -> Result<Option<Task>, StoreError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?1"))?;
    stmt.query_row(params![id.to_string()], row_to_task)
        .optional()?
        .transpose()
}

fn write_outcome(
    conn: &Connection,
    id: TaskId,
    status: TaskStatus,
    outcome: &TaskOutcome,
    now: EpochMillis,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE tasks SET status = ?2, completed_at = ?3, stdout = ?4, stdout_encoding = ?5, \
         stderr = ?6, exit_code = ?7, signal = ?8, error = ?9, stdout_truncated = ?10, \
         stderr_truncated = ?11, duration_ms = ?12, metadata = ?13, lease_expires_at = NULL \
         WHERE id = ?1",
        params![
            id.to_string(),
            status.as_str(),
            to_i64(now),
            outcome.stdout,
            encoding_str(outcome.stdout_encoding),
            outcome.stderr,
            outcome.exit_code,
            outcome.signal,
            outcome.error,
            outcome.stdout_truncated,
            outcome.stderr_truncated,
            to_i64(outcome.duration_ms),
            serde_json::to_string(&outcome.metadata)?,
        ],
    )?;
    Ok(())
}

/// Reads one row of `TASK_COLUMNS`. The inner result carries decoding failures, which are
/// ours (corrupt data), not rusqlite's.
pub(super) fn row_to_task(row: &Row<'_>) -> rusqlite::Result<Result<Task, StoreError>> {
    let id: String = row.get(0)?;
    let spec: String = row.get(1)?;
    let status: String = row.get(2)?;
    let origin: Option<String> = row.get(6)?;
    let completed_at: Option<i64> = row.get(10)?;
    let encoding: Option<String> = row.get(12)?;
    let metadata: Option<String> = row.get(20)?;
    let raw = RawOutcome {
        stdout: row.get(11)?,
        stderr: row.get(13)?,
        exit_code: row.get(14)?,
        signal: row.get(15)?,
        error: row.get(16)?,
        stdout_truncated: row.get(17)?,
        stderr_truncated: row.get(18)?,
        duration_ms: row.get(19)?,
    };
    let timeout_ms: i64 = row.get(3)?;
    let fingerprint: Option<String> = row.get(21)?;
    let approval_summary: Option<String> = row.get(22)?;
    let approval_expires_at: Option<i64> = row.get(23)?;
    let task = (|| {
        let status = parse_status(&status)?;
        let outcome = match completed_at {
            Some(_) => Some(raw.into_outcome(status, encoding.as_deref(), metadata.as_deref())?),
            None => None,
        };
        Ok(Task {
            id: parse_id(&id)?,
            spec: serde_json::from_str::<TaskSpec>(&spec)?,
            status,
            timeout: std::time::Duration::from_millis(from_i64(timeout_ms)),
            target_worker: row.get(4)?,
            worker: row.get(5)?,
            origin: origin.as_deref().map(serde_json::from_str).transpose()?,
            cancel_requested: row.get(7)?,
            created_at: from_i64(row.get(8)?),
            started_at: row.get::<_, Option<i64>>(9)?.map(from_i64),
            completed_at: completed_at.map(from_i64),
            outcome,
            approval: fingerprint.map(|fingerprint| PendingApproval {
                fingerprint,
                summary: approval_summary.unwrap_or_default(),
                expires_at: approval_expires_at.map_or(0, from_i64),
            }),
        })
    })();
    Ok(task)
}

/// The result columns of a finished row.
struct RawOutcome {
    stdout: Option<String>,
    stderr: Option<String>,
    exit_code: Option<i32>,
    signal: Option<i32>,
    error: Option<String>,
    stdout_truncated: Option<bool>,
    stderr_truncated: Option<bool>,
    duration_ms: Option<i64>,
}

impl RawOutcome {
    fn into_outcome(
        self,
        status: TaskStatus,
        encoding: Option<&str>,
        metadata: Option<&str>,
    ) -> Result<TaskOutcome, StoreError> {
        let outcome_status = match status {
            TaskStatus::Succeeded => OutcomeStatus::Succeeded,
            TaskStatus::TimedOut => OutcomeStatus::TimedOut,
            TaskStatus::Cancelled => OutcomeStatus::Cancelled,
            TaskStatus::Denied => OutcomeStatus::Denied,
            // Expired and lost tasks never ran to a report: to a client they failed.
            _ => OutcomeStatus::Failed,
        };
        Ok(TaskOutcome {
            status: outcome_status,
            stdout: self.stdout.unwrap_or_default(),
            stdout_encoding: match encoding {
                Some("base64") => ContentEncoding::Base64,
                _ => ContentEncoding::Utf8,
            },
            stderr: self.stderr.unwrap_or_default(),
            exit_code: self.exit_code,
            signal: self.signal,
            error: self.error,
            stdout_truncated: self.stdout_truncated.unwrap_or(false),
            stderr_truncated: self.stderr_truncated.unwrap_or(false),
            duration_ms: self.duration_ms.map(from_i64).unwrap_or(0),
            metadata: match metadata {
                Some(text) => serde_json::from_str(text)?,
                None => serde_json::Map::new(),
            },
        })
    }
}

fn encoding_str(encoding: ContentEncoding) -> &'static str {
    match encoding {
        ContentEncoding::Utf8 => "utf8",
        ContentEncoding::Base64 => "base64",
    }
}

fn parse_id(text: &str) -> Result<TaskId, StoreError> {
    Uuid::parse_str(text)
        .map(TaskId)
        .map_err(|_| StoreError::Corrupt {
            column: "id",
            value: text.to_owned(),
        })
}

pub(super) fn parse_status(text: &str) -> Result<TaskStatus, StoreError> {
    text.parse().map_err(|_| StoreError::Corrupt {
        column: "status",
        value: text.to_owned(),
    })
}

/// SQLite integers are i64; our timestamps and durations are u64 far below i64::MAX.
pub(super) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(super) fn from_i64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn millis_i64(value: u128) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
