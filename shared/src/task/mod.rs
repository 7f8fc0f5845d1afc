//! Tasks: what a client asks the Mac to do, where the task stands, and what became of it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

mod agent;
mod outcome;

pub use agent::{
    is_valid_agent_name, is_valid_session_id, AgentSession, AGENT_NAME_RULE, CLAUDE_AGENT,
    MAX_AGENT_NAME_LEN, MAX_SESSION_ID_LEN, SESSION_ID_RULE,
};
pub use outcome::{OutcomeStatus, TaskOutcome};

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
        /// The Claude CLI session: started with `--session-id <id>` when `new`, continued
        /// with `--resume <id>` otherwise; omitted when absent (the CLI then makes up its
        /// own). The id follows [`is_valid_session_id`], checked by the bot and again by the
        /// worker. Read from `session_id` too, where a bare string means resume.
        #[serde(default, alias = "session_id", skip_serializing_if = "Option::is_none")]
        session: Option<AgentSession>,
        /// Working directory for the run, resolved as a command's `cwd`; omitted when
        /// absent: the policy's `[claude] cwd`, else the worker's `default_cwd`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cwd: Option<String>,
    },
    /// Run an agent CLI the worker has configured (`[agents.<name>]`) with `prompt` as one
    /// argv element (`"kind": "agent"`). The bot does not know which agents a worker has: a
    /// worker without this one fails the task and runs nothing.
    Agent {
        /// The agent's name, as [`is_valid_agent_name`] allows (never `claude`, which is
        /// [`TaskSpec::Claude`]).
        agent: String,
        /// The prompt: exactly one argv element where the agent's template says `{prompt}`.
        prompt: String,
        /// The agent's session, as [`TaskSpec::Claude`]'s; passed with the agent's
        /// configured start or resume flags, ignored by an agent that has none.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<AgentSession>,
        /// Working directory for the run, resolved as a command's `cwd`.
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
            TaskSpec::Agent { .. } => TaskKind::Agent,
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
            TaskSpec::Agent { agent, prompt, .. } => format!("{agent}: {prompt}"),
        }
    }

    /// The agent session the task runs in, for the kinds that have one.
    pub fn session(&self) -> Option<&AgentSession> {
        match self {
            TaskSpec::Claude { session, .. } | TaskSpec::Agent { session, .. } => session.as_ref(),
            _ => None,
        }
    }

    /// The agent a task asks for: `claude` or the configured agent's name; `None` for the
    /// kinds that run no agent.
    pub fn agent(&self) -> Option<&str> {
        match self {
            TaskSpec::Claude { .. } => Some(CLAUDE_AGENT),
            TaskSpec::Agent { agent, .. } => Some(agent),
            _ => None,
        }
    }
}

/// The six kinds of task, spelled on the wire as [`TaskSpec`]'s `kind` tag.
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
    /// A configured agent CLI's run ([`TaskSpec::Agent`]); `"agent"` on the wire.
    Agent,
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
            TaskKind::Agent => "agent",
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

#[cfg(test)]
mod tests;
