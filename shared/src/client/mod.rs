//! The client HTTP API: request and response bodies, in the original OpenClaw Worker's shape.
//!
//! Field names follow the original (`taskId`, `exitCode`, `completedAt`, `sessionId`, but
//! `old_string`/`replace_all` for edits) so its existing clients keep working; everything we
//! add is a superset.

mod output;

use serde::{Deserialize, Serialize};

pub use output::{OutputEnd, OutputPiece, TaskOutputView, END_EVENT, OUTPUT_EVENT};
mod schedules;
pub use schedules::{
    CreateScheduleRequest, RunTime, ScheduleId, ScheduleList, SchedulePreview, ScheduleView,
    ScheduledTask,
};

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
    /// The channel's id (JSON `channelId`): a Discord snowflake as a decimal string.
    pub channel_id: String,
}

/// Fields every create request may carry besides its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommonFields {
    /// Run only on the worker with this name (1-64 of `A-Z a-z 0-9 . _ -`); any worker when
    /// absent or empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// Post the result to this Discord channel as well (JSON `discordChannelId`, or the
    /// original's `callbackChannel`): a snowflake of 1-20 digits, not 0; ignored when empty.
    #[serde(
        default,
        alias = "callbackChannel",
        skip_serializing_if = "Option::is_none"
    )]
    pub discord_channel_id: Option<String>,
    /// How soon a worker takes it, from 0 (first) to 9 (last); the bot's default for the
    /// API (5) when absent. Discord's commands default to 3, a schedule's runs to 7; a
    /// task waiting long enough goes ahead of more urgent ones enqueued after it (the
    /// bot's `queue.priority_aging_ms` per level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// Send this task's webhooks (`task.finished`, `task.awaiting_approval`) here too,
    /// signed with the bot's `webhook_delivery.callback_secret`: an `https://` URL that
    /// does not point at an internal address; ignored when empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
}

/// `POST /tasks`: run a shell command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCommandRequest {
    /// The command line to run on the Mac; required and not blank (see
    /// [`TaskSpec::Command`](crate::TaskSpec::Command) for how the worker runs it).
    pub command: String,
    /// How long it may run, in milliseconds (JSON `timeout`, or `timeout_ms`); from 1 to the
    /// bot's `limits.max_timeout_ms`, [`DEFAULT_COMMAND_TIMEOUT_MS`] when absent.
    #[serde(default, alias = "timeout_ms", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// Working directory on the Mac (absolute, `~/…`, or relative to the worker's
    /// `default_cwd`); the worker's `default_cwd` when absent or empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// `worker` and `discordChannelId`, at the top level of the same JSON object.
    #[serde(flatten)]
    pub common: CommonFields,
}

/// `POST /files/read`: read a file on the Mac; its content comes back as `stdout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileReadRequest {
    /// The file on the Mac: absolute, `~/…`, or relative to the worker's `default_cwd`.
    pub path: String,
    /// `worker` and `discordChannelId`, at the top level of the same JSON object.
    #[serde(flatten)]
    pub common: CommonFields,
}

/// `POST /files/write`: write a file on the Mac, exactly and atomically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileWriteRequest {
    /// The file on the Mac, resolved as [`FileReadRequest::path`]; replaced if it exists.
    pub path: String,
    /// The new content, as `encoding` says; may be empty. Base64 may lack padding or wrap
    /// lines; its decoded size counts against the bot's `limits.max_content_bytes`.
    pub content: String,
    /// How `content` is encoded: `utf8` (the default; `utf-8` is accepted) or `base64`.
    #[serde(default)]
    pub encoding: ContentEncoding,
    /// `worker` and `discordChannelId`, at the top level of the same JSON object.
    #[serde(flatten)]
    pub common: CommonFields,
}

/// `POST /files/edit`: replace exact text in a file on the Mac (field names in snake_case,
/// as in the original's later revision).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEditRequest {
    /// The UTF-8 text file on the Mac, resolved as [`FileReadRequest::path`].
    pub path: String,
    /// The exact text to find; must not be empty. Without `replace_all` it must occur
    /// exactly once, else the task fails with `old_string not found` / `not unique`.
    pub old_string: String,
    /// The text that replaces it; may be empty.
    pub new_string: String,
    /// Replace every occurrence instead of requiring exactly one; `false` when absent.
    #[serde(default)]
    pub replace_all: bool,
    /// `worker` and `discordChannelId` (camelCase even here), at the top level.
    #[serde(flatten)]
    pub common: CommonFields,
}

/// `POST /claude`: run the Claude Code CLI on the Mac with a prompt. Also the body of
/// `POST /agents/<name>` (and `/codex`, `/gemini`), which run an agent CLI the worker has
/// configured, in the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaudeRequest {
    /// The prompt; required and not blank. It reaches the CLI as one argument, never
    /// through a shell.
    pub prompt: String,
    /// How long it may run, in milliseconds (JSON `timeout`, or `timeout_ms`); from 1 to the
    /// bot's `limits.max_timeout_ms`, [`DEFAULT_CLAUDE_TIMEOUT_MS`] when absent.
    #[serde(default, alias = "timeout_ms", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// The session to continue (JSON `sessionId`, or `session_id`): one the bot started
    /// is continued (`--resume`); an id it never saw is taken to be one the CLI already
    /// knows and resumed too, unless `newSession` says otherwise. When absent or empty the
    /// bot makes up a new id (a UUID) and the task starts that session; either way the
    /// answer's `sessionId` names it. The id follows
    /// [`is_valid_session_id`](crate::task::is_valid_session_id).
    #[serde(default, alias = "session_id", skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Start `sessionId` as a new session rather than continue it (JSON `newSession`);
    /// without a `sessionId` a new one is made up. `false` when absent.
    #[serde(
        default,
        alias = "new_session",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub new_session: bool,
    /// Working directory on the Mac, as [`CreateCommandRequest::cwd`]; when absent, the
    /// worker policy's Claude directory or its `default_cwd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// `worker` and `discordChannelId`, at the top level of the same JSON object.
    #[serde(flatten)]
    pub common: CommonFields,
}

/// The answer to every create request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskCreated {
    /// The new task's id (JSON `taskId`), to poll with `GET /tasks/:id?wait=<ms>`.
    pub task_id: TaskId,
    /// Always `pending` on creation (the original's word for queued).
    pub status: String,
    /// The original's message, e.g. "Task created, waiting for worker".
    pub message: String,
    /// The agent session the task runs in (JSON `sessionId`): the one asked for, or the new
    /// one the bot made up. Always present on `/claude` and `/agents/<name>`; send it back
    /// to continue the conversation. Absent on other routes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

/// The status word clients see in `status`, in the original's vocabulary for unfinished
/// tasks: only ever `pending` (queued, or awaiting the owner's approval) or `running`, so
/// the original's clients, which know no other unfinished words, never take a waiting task
/// for a finished one. Final tasks show our name (`succeeded`, `failed`, …). The full
/// status is [`TaskView::state`].
pub fn client_status(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Queued | TaskStatus::AwaitingApproval => "pending",
        other => other.as_str(),
    }
}

/// What an unfinished task awaiting the owner's approval waits for (JSON `approval`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalView {
    /// The fingerprint the owner approves (on the Mac's notification, `/approve`).
    pub fingerprint: String,
    /// When the request lapses on the worker, in epoch milliseconds (JSON `expiresAt`).
    pub expires_at: EpochMillis,
}

/// `GET /tasks/:id`. A finished task carries its result; an unfinished one carries
/// `message: "Result not ready yet"` and no result fields, as in the original.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskView {
    /// The task's id (JSON `taskId`).
    pub task_id: TaskId,
    /// Where the task stands, as [`client_status`] spells it: `pending` or `running` while
    /// unfinished (the original's words), our final status once finished.
    pub status: String,
    /// Where the task stands, in full (JSON `state`): `queued`, `running`,
    /// `awaiting_approval`, or the final status. Ours, not the original's.
    pub state: TaskStatus,
    /// What kind of task it is.
    pub kind: TaskKind,
    /// While live, `Result not ready yet`, or what awaits the owner's approval; absent once
    /// finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The worker that claimed it (or the one it targets, while queued).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// Whose task it is: `api` (the client token), `discord:<user id>`; absent on tasks
    /// stored before owners were recorded (the admin's). Only the admin token sees others'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// How soon a worker takes it: 0 (first) to 9 (last). Absent in views of older bots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    /// When a client created it, in epoch milliseconds (JSON `createdAt`).
    pub created_at: EpochMillis,
    /// When a worker last claimed it, in epoch milliseconds (JSON `startedAt`); absent
    /// while queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<EpochMillis>,
    /// Standard output, or a read file's content; present (possibly empty) once finished,
    /// absent while live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout: Option<String>,
    /// Standard error; present (possibly empty) once finished, absent while live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
    /// The exit code (JSON `exitCode`), as in
    /// [`TaskOutcome::exit_code`](crate::TaskOutcome::exit_code); `null` when the task
    /// finished without a process exit (expired, lost, cancelled early).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<Option<i32>>,
    /// The number of the signal that ended the process, if one did; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// Why it failed, in words; `null` on success, as in the original. Absent while live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Option<String>>,
    /// When it became final, in epoch milliseconds (JSON `completedAt`); absent while live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<EpochMillis>,
    /// The worker's free-form facts ([`TaskOutcome::metadata`](crate::TaskOutcome::metadata));
    /// present once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// How `stdout` is encoded (base64 for a binary file read); present once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<ContentEncoding>,
    /// Whether `stdout` was cut at the worker's output cap (JSON `stdoutTruncated`);
    /// present once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_truncated: Option<bool>,
    /// Whether `stderr` was cut at the worker's output cap (JSON `stderrTruncated`);
    /// present once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_truncated: Option<bool>,
    /// For a stdout past the worker's cap: bytes left out between the head and the tail it
    /// kept (JSON `stdoutOmittedBytes`; the text has a `… N bytes omitted …` line there,
    /// and `metadata.stdoutOmitted` has the head's and tail's sizes too). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_omitted_bytes: Option<u64>,
    /// The same for stderr (JSON `stderrOmittedBytes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_omitted_bytes: Option<u64>,
    /// Wall-clock run time on the worker, in milliseconds (JSON `durationMs`); present once
    /// finished, 0 when nothing ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// While `awaiting_approval`: the fingerprint the owner approves (also in `approval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// While `awaiting_approval`: what the owner's approval is awaited for, and until when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalView>,
    /// Files the worker uploaded with the result (screenshots), each readable at
    /// `GET /tasks/:id/attachments/:name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentInfo>>,
}

/// A file uploaded with a task's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentInfo {
    /// The file name the worker gave it, as in its URL: 1-128 of `A-Z a-z 0-9 . _ -`, not
    /// starting with a dot ([`crate::worker::is_valid_attachment_name`]).
    pub name: String,
    /// The image's MIME type (JSON `contentType`), sniffed from the content: `image/png`,
    /// `image/jpeg`, `image/gif` or `image/webp`.
    pub content_type: String,
    /// The file's size in bytes, at most [`crate::worker::MAX_ATTACHMENT_BYTES`].
    pub size: u64,
}

/// `POST /tasks/:id/approve`: the owner's TOTP code for an `awaiting_approval` task. The
/// fingerprint, when given, must match the task's (it is what the owner read on the Mac's
/// own notification); the worker checks both again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApproveRequest {
    /// The 6-digit code from the owner's authenticator app; spaces are forgiven
    /// (`123 456`). The bot checks only its shape: the worker verifies it.
    pub code: String,
    /// The fingerprint the owner read (case, spaces and dashes forgiven); when absent,
    /// whatever the task awaits is approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

/// One row of `GET /tasks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskSummary {
    /// The task's id (JSON `taskId`).
    pub task_id: TaskId,
    /// Where the task stands, as [`client_status`] spells it (`pending` or `running` while
    /// unfinished).
    pub status: String,
    /// Where the task stands, in full, as [`TaskView::state`].
    pub state: TaskStatus,
    /// What kind of task it is.
    pub kind: TaskKind,
    /// The command or path, cut to a readable length. Never file content.
    pub summary: String,
    /// The worker that claimed it, or the one it targets while queued; absent when neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// Whose task it is: `api` (the client token), `discord:<user id>`; absent on tasks
    /// stored before owners were recorded (the admin's). Only the admin token sees others'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// When a client created it, in epoch milliseconds (JSON `createdAt`).
    pub created_at: EpochMillis,
    /// When it became final, in epoch milliseconds (JSON `completedAt`); absent while live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<EpochMillis>,
    /// The process exit code (JSON `exitCode`); absent while live or when no process
    /// exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

/// `GET /tasks?status=&limit=`: the most recently created tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskList {
    /// Newest first; only those in the `status` asked for, if any (`pending` names queued
    /// tasks); at most `limit` of them (the bot defaults and caps it).
    pub tasks: Vec<TaskSummary>,
}

/// One row of `GET /claude/recent` (and `/agents/<name>/recent`): a session the caller's
/// tasks ran in, by its latest task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    /// The session's id (JSON `sessionId`): send it as `sessionId` to continue.
    pub session_id: String,
    /// The agent it belongs to: `claude`, or a worker-configured agent's name.
    pub agent: String,
    /// The start of the latest prompt (JSON `lastPrompt`), cut to a readable length.
    pub last_prompt: String,
    /// The latest task in it (JSON `lastTaskId`).
    pub last_task_id: TaskId,
    /// When the latest task was created, in epoch milliseconds (JSON `updatedAt`).
    pub updated_at: EpochMillis,
    /// The worker that ran (or is to run) the latest task; absent while any worker may.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
}

/// `GET /claude/recent?limit=`: the caller's most recently used sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionList {
    /// Most recently used first; at most `limit` (the bot defaults and caps it).
    pub sessions: Vec<SessionSummary>,
}

/// `GET /health`: minimal and unauthenticated, for load balancers and Docker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Always `ok`: any answer at all means the bot is up.
    pub status: String,
    /// The bot's release version, e.g. `0.1.0`.
    pub version: String,
}

#[cfg(test)]
mod tests;
