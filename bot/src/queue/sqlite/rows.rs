//! The `tasks` table, row by row: which columns make a [`Task`], how a row reads back into
//! one, how a result is written, and the conversions between SQLite's types and ours.

use std::time::Duration;

use openclaw_shared::{
    ContentEncoding, EpochMillis, OutcomeStatus, TaskId, TaskOutcome, TaskSpec, TaskStatus,
};
use rusqlite::{params, Connection, OptionalExtension, Row};
use uuid::Uuid;

use crate::queue::priority::Priority;
use crate::queue::store::StoreError;
use crate::queue::task::{PendingApproval, Task, TaskBrief};

/// The columns `row_to_task` reads, in its order.
pub(super) const TASK_COLUMNS: &str =
    "id, spec, status, timeout_ms, target_worker, worker, origin, \
     cancel_requested, created_at, started_at, completed_at, stdout, stdout_encoding, stderr, \
     exit_code, signal, error, stdout_truncated, stderr_truncated, duration_ms, metadata, \
     fingerprint, approval_summary, approval_expires_at, owner, priority";

/// The columns `row_to_brief` reads, in its order: what a list shows. The spec only for a
/// task stored before summaries were (its summary is NULL).
pub(super) const BRIEF_COLUMNS: &str =
    "id, kind, status, summary, CASE WHEN summary IS NULL THEN spec END, target_worker, \
     worker, created_at, completed_at, exit_code, owner";

/// Reads one row of `BRIEF_COLUMNS`. The inner result carries decoding failures (ours).
pub(super) fn row_to_brief(row: &Row<'_>) -> rusqlite::Result<Result<TaskBrief, StoreError>> {
    let id: String = row.get(0)?;
    let kind: String = row.get(1)?;
    let status: String = row.get(2)?;
    let summary: Option<String> = row.get(3)?;
    let spec: Option<String> = row.get(4)?;
    let completed_at: Option<i64> = row.get(8)?;
    let brief = (|| {
        let summary = match (summary, spec) {
            (Some(summary), _) => summary,
            (None, Some(spec)) => TaskBrief::summary_of(&serde_json::from_str::<TaskSpec>(&spec)?),
            (None, None) => String::new(),
        };
        Ok(TaskBrief {
            id: parse_id(&id)?,
            kind: serde_json::from_value(serde_json::Value::String(kind.clone())).map_err(
                |_| StoreError::Corrupt {
                    column: "kind",
                    value: kind,
                },
            )?,
            status: parse_status(&status)?,
            summary,
            target_worker: row.get(5)?,
            worker: row.get(6)?,
            created_at: from_i64(row.get(7)?),
            completed_at: completed_at.map(from_i64),
            exit_code: row.get(9)?,
            owner: row.get(10)?,
        })
    })();
    Ok(brief)
}

/// The task with this id, read on `conn` (a transaction, or the store's connection).
pub(super) fn get_task(conn: &Connection, id: TaskId) -> Result<Option<Task>, StoreError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = ?1"))?;
    stmt.query_row(params![id.to_string()], row_to_task)
        .optional()?
        .transpose()
}

/// Finishes task `id` with `status` and `outcome` at `now`, ending its lease.
pub(super) fn write_outcome(
    conn: &Connection,
    id: TaskId,
    status: TaskStatus,
    outcome: &TaskOutcome,
    now: EpochMillis,
) -> Result<(), StoreError> {
    // Cached: the `usage` triggers are compiled into the statement, once.
    conn.prepare_cached(
        "UPDATE tasks SET status = ?2, completed_at = ?3, stdout = ?4, stdout_encoding = ?5, \
         stderr = ?6, exit_code = ?7, signal = ?8, error = ?9, stdout_truncated = ?10, \
         stderr_truncated = ?11, duration_ms = ?12, metadata = ?13, lease_expires_at = NULL \
         WHERE id = ?1",
    )?
    .execute(params![
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
    ])?;
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
    let owner: Option<String> = row.get(24)?;
    let priority: i64 = row.get(25)?;
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
            timeout: Duration::from_millis(from_i64(timeout_ms)),
            target_worker: row.get(4)?,
            worker: row.get(5)?,
            origin: origin.as_deref().map(serde_json::from_str).transpose()?,
            owner,
            priority: Priority::new(priority).ok_or_else(|| StoreError::Corrupt {
                column: "priority",
                value: priority.to_string(),
            })?,
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

/// How a stdout encoding is stored.
fn encoding_str(encoding: ContentEncoding) -> &'static str {
    match encoding {
        ContentEncoding::Utf8 => "utf8",
        ContentEncoding::Base64 => "base64",
    }
}

/// A stored task id, or `Corrupt`.
pub(super) fn parse_id(text: &str) -> Result<TaskId, StoreError> {
    Uuid::parse_str(text)
        .map(TaskId)
        .map_err(|_| StoreError::Corrupt {
            column: "id",
            value: text.to_owned(),
        })
}

/// A stored task status, or `Corrupt`.
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

/// A stored timestamp or duration; a negative one (never written) reads as 0.
pub(super) fn from_i64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A duration in milliseconds as SQLite stores it.
pub(super) fn millis_i64(value: u128) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
