//! What passes between the tools and their backends: a task request in no transport's
//! shape, a line of a task list, and a refusal worded for the model.

use openclaw_shared::client::TaskSummary;
use openclaw_shared::{EpochMillis, ErrorCode, TaskId, TaskKind, TaskSpec};
use rmcp::model::{CallToolResult, ContentBlock};
use serde::Serialize;

use super::report::error_json;
use crate::intake::{CreateAdmission, IntakeError};
use crate::queue::{QueueError, TaskBrief};

/// A task an agent asks for, in no transport's shape.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// What to run.
    pub spec: TaskSpec,
    /// The timeout in seconds; the kind's default when `None`.
    pub timeout_secs: Option<u64>,
    /// The worker that must run it; any when `None`.
    pub worker: Option<String>,
    /// The asking token's creation rate, when the transport handed one over.
    pub admission: Option<CreateAdmission>,
}

/// One task in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskLine {
    /// The task's id.
    pub task_id: TaskId,
    /// What kind of task it is.
    pub kind: TaskKind,
    /// Where it stands (`pending` for queued).
    pub status: String,
    /// The command or path, cut short; never file content.
    pub summary: String,
    /// The worker that ran it, or the one it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// When it was created, in epoch milliseconds.
    pub created_at: EpochMillis,
    /// The exit code, once finished with one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
}

impl From<&TaskBrief> for TaskLine {
    fn from(brief: &TaskBrief) -> TaskLine {
        TaskLine {
            task_id: brief.id,
            kind: brief.kind,
            status: openclaw_shared::client::client_status(brief.status).to_owned(),
            summary: brief.summary.clone(),
            worker: brief.worker.clone().or_else(|| brief.target_worker.clone()),
            created_at: brief.created_at,
            exit_code: brief.exit_code,
        }
    }
}

impl From<TaskSummary> for TaskLine {
    fn from(summary: TaskSummary) -> TaskLine {
        TaskLine {
            task_id: summary.task_id,
            kind: summary.kind,
            status: summary.status,
            summary: summary.summary,
            worker: summary.worker,
            created_at: summary.created_at,
            exit_code: summary.exit_code,
        }
    }
}

/// Why a tool call was refused or failed, as a tool error (never a protocol error): the
/// model reads it and can correct its call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolFailure {
    /// Our stable error code (`invalid_field`, `field_too_long`, `not_found`, …).
    pub code: ErrorCode,
    /// What went wrong, safe to show.
    pub message: String,
    /// The refused field, as the tool's parameters spell it, when one was.
    pub field: Option<String>,
}

impl ToolFailure {
    /// A failure with no particular field.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ToolFailure {
        ToolFailure {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// The tool error result.
    pub fn into_result(self) -> CallToolResult {
        let text = format!("Refused ({}): {}", self.code.as_str(), self.message);
        let structured = error_json(self.code.as_str(), &self.message, self.field.as_deref());
        let mut result = CallToolResult::error(vec![ContentBlock::text(text)]);
        result.structured_content = Some(structured);
        result
    }
}

impl From<IntakeError> for ToolFailure {
    fn from(error: IntakeError) -> ToolFailure {
        let code = match error.problem {
            crate::intake::Problem::TooLong { .. } => ErrorCode::FieldTooLong,
            _ => ErrorCode::InvalidField,
        };
        ToolFailure {
            code,
            message: error.to_string(),
            field: Some(parameter_name(error.field).to_owned()),
        }
    }
}

/// The tool parameter an intake field name stands for (intake speaks the HTTP API's names).
/// Names that are the same in both come back as they are.
pub fn parameter_name(field: &str) -> &str {
    match field {
        "sessionId" => "session_id",
        "timeout" => "timeout_seconds",
        "discordChannelId (callbackChannel)" => "discord_channel_id",
        other => other,
    }
}

impl From<QueueError> for ToolFailure {
    fn from(error: QueueError) -> ToolFailure {
        use crate::queue::StoreFault;
        let code = match &error {
            QueueError::NotFound(_) => {
                return ToolFailure::new(ErrorCode::NotFound, "Task not found")
            }
            QueueError::ScheduleNotFound(_) => {
                return ToolFailure::new(ErrorCode::NotFound, "Schedule not found")
            }
            QueueError::SessionOfAnother => ErrorCode::Forbidden,
            QueueError::Conflict { .. } | QueueError::FingerprintMismatch(_) => ErrorCode::Conflict,
            QueueError::QuotaExceeded(_) | QueueError::TooManyClaims { .. } => {
                ErrorCode::QuotaExceeded
            }
            QueueError::NotHolder(_) => ErrorCode::Forbidden,
            QueueError::LeaseMismatch(_) => ErrorCode::LeaseMismatch,
            QueueError::Store(store) => {
                tracing::warn!(error = %crate::telemetry::error_chain(store), "MCP tool call failed in the task store");
                let (code, message) = match store.fault() {
                    StoreFault::Busy => (
                        ErrorCode::StorageBusy,
                        "the task store is busy; retry shortly",
                    ),
                    StoreFault::Full => (
                        ErrorCode::StorageFull,
                        "the server's disk is full; retry later",
                    ),
                    StoreFault::ReadOnly => (
                        ErrorCode::StorageReadOnly,
                        "the task store cannot be written; retry later",
                    ),
                    StoreFault::Corrupt | StoreFault::Failed => (
                        ErrorCode::StorageFailed,
                        "the task store failed; retry later",
                    ),
                };
                return ToolFailure::new(code, message);
            }
        };
        ToolFailure::new(code, error.to_string())
    }
}
