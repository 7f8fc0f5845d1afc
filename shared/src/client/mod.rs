//! The client HTTP API: request and response bodies, in the original OpenClaw Worker's shape.
//!
//! Field names follow the original (`taskId`, `exitCode`, `completedAt`, `sessionId`, but
//! `old_string`/`replace_all` for edits) so its existing clients keep working; everything we
//! add is a superset.

use serde::{Deserialize, Serialize};

use crate::task::{ContentEncoding, TaskId, TaskKind, TaskStatus};
use crate::EpochMillis;

/// Default command timeout when a client sends none (the original's 30 s).
pub const DEFAULT_COMMAND_TIMEOUT_MS: u64 = 30_000;
/// Default `claude` timeout when a client sends none (the original's 120 s).
pub const DEFAULT_CLAUDE_TIMEOUT_MS: u64 = 120_000;
/// Longest a `GET /tasks/:id?wait=` is held. Longer waits are capped, not rejected: agent
/// recipes send `wait=300000`.
pub const MAX_WAIT_MS: u64 = 60_000;

/// Where a task's result should be posted in Discord, for tasks submitted over HTTP. Replaces
/// the original's `callbackChannel` + `callbackBotToken`: the bot token never travels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscordTarget {
    /// The channel id (a Discord snowflake, as a string).
    pub channel_id: String,
}

/// Fields every create request may carry besides its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommonFields {
    /// Run on the worker with this name; any worker when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// Post the result to this Discord channel (the original's `callbackChannel`).
    #[serde(
        default,
        alias = "callbackChannel",
        skip_serializing_if = "Option::is_none"
    )]
    pub discord_channel_id: Option<String>,
}

/// `POST /tasks`: run a shell command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCommandRequest {
    pub command: String,
    /// Milliseconds; [`DEFAULT_COMMAND_TIMEOUT_MS`] when absent.
    #[serde(default, alias = "timeout_ms", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(flatten)]
    pub common: CommonFields,
}

/// `POST /files/read`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileReadRequest {
    pub path: String,
    #[serde(flatten)]
    pub common: CommonFields,
}

/// `POST /files/write`. `content` may be empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileWriteRequest {
    pub path: String,
    pub content: String,
    #[serde(default)]
    pub encoding: ContentEncoding,
    #[serde(flatten)]
    pub common: CommonFields,
}

/// `POST /files/edit` (field names as in the original's later revision).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEditRequest {
    pub path: String,
    pub old_string: String,
    pub new_string: String,
    #[serde(default)]
    pub replace_all: bool,
    #[serde(flatten)]
    pub common: CommonFields,
}

/// `POST /claude`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaudeRequest {
    pub prompt: String,
    /// Milliseconds; [`DEFAULT_CLAUDE_TIMEOUT_MS`] when absent.
    #[serde(default, alias = "timeout_ms", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    #[serde(default, alias = "session_id", skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(flatten)]
    pub common: CommonFields,
}

/// The answer to every create request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskCreated {
    pub task_id: TaskId,
    /// Always `pending` on creation (the original's word for queued).
    pub status: String,
    /// The original's message, e.g. "Task created, waiting for worker".
    pub message: String,
    /// Echoed for `/claude` requests that named a session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

/// The status word clients see: the original's `pending` for queued, our name otherwise.
pub fn client_status(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Queued => "pending",
        other => other.as_str(),
    }
}

/// `GET /tasks/:id`. A finished task carries its result; an unfinished one carries
/// `message: "Result not ready yet"` and no result fields, as in the original.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskView {
    pub task_id: TaskId,
    /// See [`client_status`].
    pub status: String,
    pub kind: TaskKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The worker that claimed it (or the one it targets, while queued).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    pub created_at: EpochMillis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<EpochMillis>,
    /// Present (possibly empty) once finished; absent while live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
    /// `null` when the task finished without a process exit (expired, lost, cancelled early).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<Option<i32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// `null` on success, as in the original.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<EpochMillis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// How `stdout` is encoded (base64 for a binary file read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<ContentEncoding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_truncated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_truncated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// While `awaiting_approval`: the fingerprint the owner approves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Files the worker uploaded with the result (screenshots), each readable at
    /// `GET /tasks/:id/attachments/:name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentInfo>>,
}

/// A file uploaded with a task's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentInfo {
    pub name: String,
    /// Sniffed from the content (images only).
    pub content_type: String,
    pub size: u64,
}

/// `POST /tasks/:id/approve`: the owner's TOTP code for an `awaiting_approval` task. The
/// fingerprint, when given, must match the task's (it is what the owner read on the Mac's
/// own notification); the worker checks both again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApproveRequest {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

/// One row of `GET /tasks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskSummary {
    pub task_id: TaskId,
    pub status: String,
    pub kind: TaskKind,
    /// The command or path, cut to a readable length. Never file content.
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    pub created_at: EpochMillis,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<EpochMillis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

/// `GET /tasks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskList {
    pub tasks: Vec<TaskSummary>,
}

/// `GET /health`: minimal and unauthenticated, for load balancers and Docker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
}

#[cfg(test)]
mod tests;
