//! The worker protocol, v1 (`/v1/worker/...`): long-poll claims, heartbeats and results.
//! Worker token only; a per-worker token only under its own name. A result needs the
//! current lease of a task the worker holds.

use axum::extract::State;
use axum::Json;
use openclaw_shared::worker::{
    ClaimRequest, ClaimResponse, HeartbeatRequest, HeartbeatResponse, ResultAck, ResultRequest,
    SandboxReport, MAX_CLAIM_SLOTS, MAX_CLAIM_WAIT_MS, MAX_SANDBOX_DETAIL_LEN,
};
use std::time::Duration;

use super::auth::WorkerAuth;
use super::error::ApiError;
use super::extract::{AppJson, TaskIdPath};
use super::view::{claimed_task, millis};
use crate::intake::fields;
use crate::queue::Completion;
use crate::state::AppState;

/// Most leases one heartbeat may carry: far above any worker's slots, low enough that a
/// heartbeat stays cheap.
const MAX_HEARTBEAT_LEASES: usize = 1024;

/// `POST /v1/worker/claim`: up to `slots` tasks for this worker, waiting up to `wait_ms`
/// (capped at 30 s) for one to be queued. An empty list when the wait runs out.
pub async fn claim(
    auth: WorkerAuth,
    State(state): State<AppState>,
    AppJson(req): AppJson<ClaimRequest>,
) -> Result<Json<ClaimResponse>, ApiError> {
    fields::own_worker_name(&req.worker)?;
    auth.act_as(&req.worker)?;
    note_sandbox(&state, &req.worker, req.sandbox)?;
    if !(1..=MAX_CLAIM_SLOTS).contains(&req.slots) {
        return Err(ApiError::InvalidField(format!(
            "slots must be between 1 and {MAX_CLAIM_SLOTS}, got {}",
            req.slots
        )));
    }
    let wait = Duration::from_millis(req.wait_ms.min(MAX_CLAIM_WAIT_MS));
    let _held = (!wait.is_zero()).then(|| state.metrics().long_poll());
    let claims = tokio::select! {
        res = state.queue().claim(&req.worker, req.slots, wait) => res?,
        // Shutting down: an empty answer makes the worker poll again later.
        () = state.stopping().cancelled() => Vec::new(),
    };
    Ok(Json(ClaimResponse {
        tasks: claims.into_iter().map(claimed_task).collect(),
    }))
}

/// Records the sandbox a worker reports, refusing one unfit to show (control characters
/// could forge lines in `/status`).
fn note_sandbox(
    state: &AppState,
    worker: &str,
    sandbox: Option<SandboxReport>,
) -> Result<(), ApiError> {
    let Some(sandbox) = sandbox else {
        return Ok(());
    };
    if !sandbox.is_valid() {
        return Err(ApiError::InvalidField(format!(
            "sandbox.detail must be at most {MAX_SANDBOX_DETAIL_LEN} bytes without control characters"
        )));
    }
    state.queue().note_sandbox(worker, sandbox);
    Ok(())
}

/// `POST /v1/worker/heartbeat`: extends the worker's leases and says, per lease, whether to
/// keep running, stop because a client cancelled, or stop because the lease is gone.
pub async fn heartbeat(
    auth: WorkerAuth,
    State(state): State<AppState>,
    AppJson(req): AppJson<HeartbeatRequest>,
) -> Result<Json<HeartbeatResponse>, ApiError> {
    fields::own_worker_name(&req.worker)?;
    auth.act_as(&req.worker)?;
    if req.leases.len() > MAX_HEARTBEAT_LEASES {
        return Err(ApiError::InvalidField(format!(
            "leases may list at most {MAX_HEARTBEAT_LEASES} entries"
        )));
    }
    note_sandbox(&state, &req.worker, req.sandbox)?;
    let leases = state.queue().heartbeat(&req.worker, &req.leases).await?;
    Ok(Json(HeartbeatResponse {
        leases,
        lease_ttl_ms: millis(state.queue().settings().lease_ttl),
    }))
}

/// `POST /v1/worker/tasks/:id/result`: stores the result. The same result again is a no-op
/// answering `duplicate: true`; a task marked `lost` under this lease takes it, answering
/// `late: true`; an unknown task is a 404, another worker's task a 403, a stale lease a
/// 409, and none of them changes anything.
pub async fn report(
    auth: WorkerAuth,
    State(state): State<AppState>,
    TaskIdPath(id): TaskIdPath,
    AppJson(req): AppJson<ResultRequest>,
) -> Result<Json<ResultAck>, ApiError> {
    fields::own_worker_name(&req.worker)?;
    auth.act_as(&req.worker)?;
    let status = req.outcome.status;
    let completion = state
        .queue()
        .complete(id, &req.worker, req.lease, req.outcome)
        .await?;
    let duplicate = completion == Completion::Duplicate;
    let late = completion == Completion::StoredLate;
    tracing::debug!(task_id = %id, worker = %req.worker, ?status, duplicate, late, "result reported");
    Ok(Json(ResultAck { duplicate, late }))
}
