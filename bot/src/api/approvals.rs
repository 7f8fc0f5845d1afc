//! Approval routes. Clients relay the owner's answer (`approve` with a TOTP code, or
//! `deny`); the worker reports its progress. The server never decides: it cannot verify a
//! code, and a compromised server relaying a code for the wrong task is caught on the Mac by
//! the fingerprint check.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use openclaw_shared::client::{ApproveRequest, TaskView};
use openclaw_shared::worker::{ApprovalDecision, ApprovalState, ApprovalUpdate};

use super::auth::{ClientAuth, WorkerAuth};
use super::error::ApiError;
use super::extract::{AppJson, TaskIdPath};
use super::view::task_view;
use crate::intake::fields;
use crate::queue::ApprovalProgress;
use crate::state::AppState;

/// Longest approval summary a worker may send (it is shown, not stored forever).
const MAX_SUMMARY_BYTES: usize = 4096;
/// Longest reason a worker may give for rejecting an answer.
const MAX_REASON_BYTES: usize = 1024;

/// `POST /tasks/:id/approve {code, fingerprint?}`: relays a TOTP code to the worker.
pub async fn approve(
    _: ClientAuth,
    State(state): State<AppState>,
    TaskIdPath(id): TaskIdPath,
    AppJson(req): AppJson<ApproveRequest>,
) -> Result<Json<TaskView>, ApiError> {
    let code = fields::approval_code(&req.code)?;
    let queue = state.queue();
    // Without a fingerprint, the client approves whatever this task awaits.
    let fingerprint = match req.fingerprint {
        Some(given) => fields::fingerprint(&given)?,
        None => queue
            .get(id)
            .await?
            .approval
            .map(|a| a.fingerprint)
            .unwrap_or_default(),
    };
    let decision = ApprovalDecision::Approve { fingerprint, code };
    let task = queue.submit_approval(id, decision).await?;
    Ok(Json(task_view(&task)))
}

/// `POST /tasks/:id/deny`: tells the worker not to run the task.
pub async fn deny(
    _: ClientAuth,
    State(state): State<AppState>,
    TaskIdPath(id): TaskIdPath,
) -> Result<Json<TaskView>, ApiError> {
    let task = state
        .queue()
        .submit_approval(id, ApprovalDecision::Deny)
        .await?;
    Ok(Json(task_view(&task)))
}

/// `POST /v1/worker/tasks/:id/approval`: the worker's approval progress on a task it holds.
pub async fn update(
    auth: WorkerAuth,
    State(state): State<AppState>,
    TaskIdPath(id): TaskIdPath,
    AppJson(req): AppJson<ApprovalUpdate>,
) -> Result<StatusCode, ApiError> {
    fields::own_worker_name(&req.worker)?;
    auth.act_as(&req.worker)?;
    let progress = match req.state {
        ApprovalState::Requested {
            fingerprint,
            summary,
            expires_at,
        } => {
            if summary.len() > MAX_SUMMARY_BYTES {
                return Err(ApiError::FieldTooLong {
                    field: "summary",
                    limit: MAX_SUMMARY_BYTES,
                });
            }
            ApprovalProgress::Requested {
                fingerprint: fields::fingerprint(&fingerprint)?,
                summary,
                expires_at,
            }
        }
        ApprovalState::Approved => ApprovalProgress::Approved,
        ApprovalState::Rejected { reason } => {
            if reason.len() > MAX_REASON_BYTES {
                return Err(ApiError::FieldTooLong {
                    field: "reason",
                    limit: MAX_REASON_BYTES,
                });
            }
            ApprovalProgress::Rejected { reason }
        }
    };
    state
        .queue()
        .update_approval(id, &req.worker, req.lease, progress)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
