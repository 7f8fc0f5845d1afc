//! Tasks: what a client asks the Mac to do, where the task stands, and what became of it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A task's id. Random (v4), so ids cannot be guessed from one another. On the wire it is
/// the UUID's hyphenated lower-case string, e.g. `6f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskId(pub Uuid);

impl TaskId {
    /// A fresh random id.
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }
}

impl Default for TaskId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for TaskId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// The id of one claim on a task. Only the holder of the current lease may heartbeat or
/// report the task, so a stolen worker token cannot forge results for tasks it never claimed.
/// The server mints one per claim; on the wire it is a hyphenated UUID string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LeaseId(pub Uuid);

impl LeaseId {
    /// A fresh random lease id.
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }
}

impl Default for LeaseId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for LeaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How file content travels as JSON text: `"utf8"` or `"base64"` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentEncoding {
    /// The content is the text itself.
    #[default]
    #[serde(alias = "utf-8", alias = "UTF-8", alias = "UTF8")]
    Utf8,
    /// The content is standard base64 (with padding) of the raw bytes.
    Base64,
}

/// What the worker is asked to do. Unknown kinds fail to deserialize, so a worker never
/// half-understands a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskSpec {
    /// Run a command line (`"kind": "command"`). The worker's policy decides how: a simple
    /// command runs its resolved program directly with its words as argv; shell syntax runs
    /// only once the owner approved it, as ONE argument to the worker's configured shell.
    Command {
        /// The command line as the client typed it: not blank, no NUL, at most the bot's
        /// `limits.max_command_bytes`.
        command: String,
        /// Working directory on the Mac: absolute, `~/…`, or relative to the worker's
        /// `default_cwd`. Omitted when absent; the worker then runs in its `default_cwd`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cwd: Option<String>,
    },
    /// Read a file (`"kind": "file_read"`); its content comes back in [`TaskOutcome::stdout`].
    FileRead {
        /// The file on the Mac: absolute, `~/…`, or relative to the worker's `default_cwd`.
        /// It must be a regular file within the worker's read limit (`max_read_bytes`).
        path: String,
    },
    /// Write these exact bytes atomically, creating parent directories (`"kind": "file_write"`).
    FileWrite {
        /// The file on the Mac, resolved as a read's `path`; replaced whole if it exists.
        path: String,
        /// The bytes to write, as `encoding` says: the text itself, or padded standard
        /// base64 (the bot makes client base64 canonical before queueing it). May be empty;
        /// at most the bot's `limits.max_content_bytes` once decoded.
        content: String,
        /// How `content` is encoded; `utf8` when absent.
        #[serde(default)]
        encoding: ContentEncoding,
    },
    /// Replace `old_string` by `new_string` in a text file, exact match (`"kind": "file_edit"`).
    FileEdit {
        /// The UTF-8 text file on the Mac, resolved as a read's `path`; it must exist.
        path: String,
        /// The exact text to find; never empty, and whitespace counts. Without
        /// `replace_all` it must occur exactly once, or the task fails with the original's
        /// words `old_string not found` / `old_string not unique` and exit code 1.
        old_string: String,
        /// The text that replaces it; empty deletes `old_string`.
        new_string: String,
        /// Replace every occurrence instead of requiring exactly one; `false` when absent.
        #[serde(default)]
        replace_all: bool,
    },
    /// Run the local `claude` CLI with `prompt` as one argv element (`"kind": "claude"`).
    Claude {
        /// The prompt, passed to `claude -p` after `--`: `$(…)` or a leading `-` stays text.
        prompt: String,
        /// A Claude CLI session to resume (`--resume <id>`); omitted when absent, which
        /// starts a new session. The worker takes only up to 128 of `A-Z a-z 0-9 - _`, not
        /// starting with `-`, so it can never pose as a flag.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_id: Option<String>,
        /// Working directory for the run, resolved as a command's `cwd`; omitted when
        /// absent: the policy's `[claude] cwd`, else the worker's `default_cwd`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cwd: Option<String>,
    },
}

impl TaskSpec {
    /// The spec's kind.
    pub fn kind(&self) -> TaskKind {
        match self {
            TaskSpec::Command { .. } => TaskKind::Command,
            TaskSpec::FileRead { .. } => TaskKind::FileRead,
            TaskSpec::FileWrite { .. } => TaskKind::FileWrite,
            TaskSpec::FileEdit { .. } => TaskKind::FileEdit,
            TaskSpec::Claude { .. } => TaskKind::Claude,
        }
    }

    /// A one-line, human-readable summary (the command, or the path), for lists and logs
    /// at debug level. Never includes file content.
    pub fn summary(&self) -> String {
        match self {
            TaskSpec::Command { command, .. } => command.clone(),
            TaskSpec::FileRead { path } => format!("read {path}"),
            TaskSpec::FileWrite { path, content, .. } => {
                format!("write {path} ({} bytes)", content.len())
            }
            TaskSpec::FileEdit { path, .. } => format!("edit {path}"),
            TaskSpec::Claude { prompt, .. } => format!("claude: {prompt}"),
        }
    }
}

/// The five kinds of task, spelled on the wire as [`TaskSpec`]'s `kind` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// A command line ([`TaskSpec::Command`]); `"command"` on the wire.
    Command,
    /// A file read ([`TaskSpec::FileRead`]); `"file_read"` on the wire.
    FileRead,
    /// A file write ([`TaskSpec::FileWrite`]); `"file_write"` on the wire.
    FileWrite,
    /// A file edit ([`TaskSpec::FileEdit`]); `"file_edit"` on the wire.
    FileEdit,
    /// A Claude CLI run ([`TaskSpec::Claude`]); `"claude"` on the wire.
    Claude,
}

impl TaskKind {
    /// The kind as stored and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Command => "command",
            TaskKind::FileRead => "file_read",
            TaskKind::FileWrite => "file_write",
            TaskKind::FileEdit => "file_edit",
            TaskKind::Claude => "claude",
        }
    }
}

/// Where a task stands. The first three are live; the rest are final and never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Waiting for a worker to claim it.
    Queued,
    /// Claimed by a worker, which holds a lease on it.
    Running,
    /// The worker's local policy wants the owner's approval before running it.
    AwaitingApproval,
    /// Ran and exited 0 (or the file operation succeeded).
    Succeeded,
    /// Ran and failed: non-zero exit, signal, or a file operation error.
    Failed,
    /// Killed by the worker because it ran past its timeout.
    TimedOut,
    /// Cancelled by a client before or while it ran.
    Cancelled,
    /// Nobody claimed it within the queue TTL.
    Expired,
    /// Its worker stopped heartbeating; it is never handed to another worker, because a
    /// shell command is not idempotent.
    Lost,
    /// The worker's local policy refused it, or the approval was denied or expired.
    Denied,
}

impl TaskStatus {
    /// All statuses, in lifecycle order.
    pub const ALL: [TaskStatus; 10] = [
        TaskStatus::Queued,
        TaskStatus::Running,
        TaskStatus::AwaitingApproval,
        TaskStatus::Succeeded,
        TaskStatus::Failed,
        TaskStatus::TimedOut,
        TaskStatus::Cancelled,
        TaskStatus::Expired,
        TaskStatus::Lost,
        TaskStatus::Denied,
    ];

    /// Whether the status is final.
    pub fn is_terminal(self) -> bool {
        !matches!(
            self,
            TaskStatus::Queued | TaskStatus::Running | TaskStatus::AwaitingApproval
        )
    }

    /// The status as stored and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Queued => "queued",
            TaskStatus::Running => "running",
            TaskStatus::AwaitingApproval => "awaiting_approval",
            TaskStatus::Succeeded => "succeeded",
            TaskStatus::Failed => "failed",
            TaskStatus::TimedOut => "timed_out",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Expired => "expired",
            TaskStatus::Lost => "lost",
            TaskStatus::Denied => "denied",
        }
    }
}

impl fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for a status string that names no status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownStatus(pub String);

impl fmt::Display for UnknownStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown task status `{}`", self.0)
    }
}

impl std::error::Error for UnknownStatus {}

impl FromStr for TaskStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

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

#[cfg(test)]
mod tests;
