//! What a task came to: how it ended and what the worker reports about it.

use serde::{Deserialize, Serialize};

use super::{ContentEncoding, TaskStatus};

/// How a task ended, as the worker reports it. A subset of [`TaskStatus`]: the worker can
/// only report what it saw; `expired` and `lost` are decided by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// The process exited 0, or the file operation succeeded; `"succeeded"` on the wire.
    Succeeded,
    /// The process exited non-zero, died by a signal the worker did not send, or could not
    /// start, or the file operation failed; `"failed"` on the wire.
    Failed,
    /// The worker killed it when it ran past its `timeout_ms`; `"timed_out"` on the wire.
    TimedOut,
    /// The worker stopped it because a client cancelled it (heard on a heartbeat);
    /// `"cancelled"` on the wire.
    Cancelled,
    /// The worker's local policy refused it, or the owner denied the approval or let it
    /// lapse; nothing ran. `"denied"` on the wire.
    Denied,
}

impl From<OutcomeStatus> for TaskStatus {
    fn from(status: OutcomeStatus) -> Self {
        match status {
            OutcomeStatus::Succeeded => TaskStatus::Succeeded,
            OutcomeStatus::Failed => TaskStatus::Failed,
            OutcomeStatus::TimedOut => TaskStatus::TimedOut,
            OutcomeStatus::Cancelled => TaskStatus::Cancelled,
            OutcomeStatus::Denied => TaskStatus::Denied,
        }
    }
}

/// What the worker reports when a task ends: the `outcome` of a
/// [`ResultRequest`](crate::worker::ResultRequest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskOutcome {
    /// How the task ended; it becomes the task's [`TaskStatus`].
    pub status: OutcomeStatus,
    /// Standard output, or a read file's content. Secrets are redacted and process output
    /// is cut at the worker's `max_output_bytes` before it leaves the Mac; empty when absent.
    #[serde(default)]
    pub stdout: String,
    /// How `stdout` is encoded: base64 for a file read that is not valid UTF-8.
    #[serde(default)]
    pub stdout_encoding: ContentEncoding,
    /// Standard error, redacted and cut like `stdout`; empty for file tasks and when absent.
    #[serde(default)]
    pub stderr: String,
    /// The process exit code. For a death by signal, `128 + signal` as shells report it
    /// (the original's clients read 143 as "killed by SIGTERM"); 127/126 when the program
    /// was not found/not runnable; 1 for the worker's own errors. `None` when nothing ran.
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// The number of the signal that ended the process (e.g. 15 for SIGTERM), if one did.
    #[serde(default)]
    pub signal: Option<i32>,
    /// Why the task failed, in words for the user (e.g. `exited with code 2`, `timed out
    /// after 30s`); `None` on success.
    #[serde(default)]
    pub error: Option<String>,
    /// `stdout` was cut at the worker's output cap.
    #[serde(default)]
    pub stdout_truncated: bool,
    /// `stderr` was cut at the worker's output cap.
    #[serde(default)]
    pub stderr_truncated: bool,
    /// Wall-clock run time on the worker, in milliseconds; 0 when nothing ran.
    #[serde(default)]
    pub duration_ms: u64,
    /// Free-form facts from the worker, e.g. `screenshotPath`, `sessionId`, `policy`
    /// (verdict, rule, reason), `bytes`, `redactions`, `audit`; an empty object when absent.
    #[serde(default)]
    pub metadata: serde_json::Map<String, serde_json::Value>,
}

impl TaskOutcome {
    /// An outcome with no output: the starting point for the worker's executors.
    pub fn new(status: OutcomeStatus) -> Self {
        Self {
            status,
            stdout: String::new(),
            stdout_encoding: ContentEncoding::Utf8,
            stderr: String::new(),
            exit_code: None,
            signal: None,
            error: None,
            stdout_truncated: false,
            stderr_truncated: false,
            duration_ms: 0,
            metadata: serde_json::Map::new(),
        }
    }

    /// A failed outcome with an error message and exit code 1 (the original's convention
    /// for worker-side errors such as "old_string not found").
    pub fn failure(error: impl Into<String>) -> Self {
        Self {
            exit_code: Some(1),
            error: Some(error.into()),
            ..Self::new(OutcomeStatus::Failed)
        }
    }
}
