//! Client routes, compatible with the original OpenClaw Worker: create tasks, wait for and
//! read their results, list and cancel them. The client token creates and cancels, and sees
//! only the tasks it created; the admin token may read (list, get) everyone's. Creations
//! also stay within the token's creation rate.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::Json;
use openclaw_shared::client::{
    CommonFields, CreateCommandRequest, FileEditRequest, FileReadRequest, FileWriteRequest,
    TaskCreated, TaskList, TaskView, MAX_WAIT_MS,
};
use openclaw_shared::{TaskId, TaskSpec, TaskStatus};
use serde::Deserialize;

use super::auth::{ClientAuth, ReaderAuth};
use super::error::ApiError;
use super::extract::{AppJson, AppQuery, TaskIdPath};
use super::ratelimit::RateLimits;
use super::view::{task_summary, task_view};
use crate::intake::{self, ReplyTo, RequestedTimeout, Requester, TaskRequest};
use crate::metrics::Source;
use crate::queue::{Scope, Task};
use crate::state::AppState;

/// Tasks listed when `limit` is absent.
const DEFAULT_LIST_LIMIT: usize = 20;
/// Most tasks one list returns; larger limits are capped.
const MAX_LIST_LIMIT: usize = 200;

/// `POST /tasks`: run a shell command.
pub async fn create_command(
    _: Creator,
    State(state): State<AppState>,
    AppJson(req): AppJson<CreateCommandRequest>,
) -> Result<Json<TaskCreated>, ApiError> {
    let spec = TaskSpec::Command {
        command: req.command,
        cwd: req.cwd,
    };
    let task = enqueue(&state, spec, req.timeout, req.common).await?;
    Ok(answer(task, "Task created, waiting for worker", None))
}

/// `POST /files/read`.
pub async fn create_file_read(
    _: Creator,
    State(state): State<AppState>,
    AppJson(req): AppJson<FileReadRequest>,
) -> Result<Json<TaskCreated>, ApiError> {
    let spec = TaskSpec::FileRead { path: req.path };
    let task = enqueue(&state, spec, None, req.common).await?;
    Ok(answer(task, "File read task created", None))
}

/// `POST /files/write`: `content` may be empty; base64 content is checked on its decoded size.
pub async fn create_file_write(
    _: Creator,
    State(state): State<AppState>,
    AppJson(req): AppJson<FileWriteRequest>,
) -> Result<Json<TaskCreated>, ApiError> {
    let spec = TaskSpec::FileWrite {
        path: req.path,
        content: req.content,
        encoding: req.encoding,
    };
    let task = enqueue(&state, spec, None, req.common).await?;
    Ok(answer(task, "File write task created", None))
}

/// `POST /files/edit`: exact-match replace; `old_string` must not be empty.
pub async fn create_file_edit(
    _: Creator,
    State(state): State<AppState>,
    AppJson(req): AppJson<FileEditRequest>,
) -> Result<Json<TaskCreated>, ApiError> {
    let spec = TaskSpec::FileEdit {
        path: req.path,
        old_string: req.old_string,
        new_string: req.new_string,
        replace_all: req.replace_all,
    };
    let task = enqueue(&state, spec, None, req.common).await?;
    Ok(answer(task, "File edit task created", None))
}

/// A client allowed to create a task now: the client token, within its creation rate
/// (`rate_limit.creates_per_sec`). Checked before the body is read, so a refused create
/// costs no parsing.
pub struct Creator;

impl FromRequestParts<AppState> for Creator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = ClientAuth::from_request_parts(parts, state).await?;
        // There whenever `api::router` built the app with rate limits enabled.
        if let Some(limits) = parts.extensions.get::<Arc<RateLimits>>() {
            limits.admit_create(auth.holder())?;
        }
        Ok(Creator)
    }
}

/// The original's answer to a create.
pub(super) fn answer(task: Task, message: &str, session_id: Option<String>) -> Json<TaskCreated> {
    Json(TaskCreated {
        task_id: task.id,
        status: openclaw_shared::client::client_status(task.status).to_owned(),
        message: message.to_owned(),
        session_id,
    })
}

/// Checks the request through [`intake::check`] and enqueues the task.
pub(super) async fn enqueue(
    state: &AppState,
    spec: TaskSpec,
    timeout_ms: Option<u64>,
    common: CommonFields,
) -> Result<Task, ApiError> {
    let request = TaskRequest {
        timeout: timeout_ms.map(RequestedTimeout::Millis),
        worker: common.worker,
        reply_to: common
            .discord_channel_id
            .map_or(ReplyTo::Nowhere, ReplyTo::DiscordChannel),
        priority: common.priority,
        callback_url: common.callback_url,
        ..TaskRequest::new(spec, Requester::ApiClient)
    };
    let new_task = intake::check(request, &state.intake_rules())?;
    let kind = new_task.spec.kind();
    let task = state.queue().enqueue(new_task).await?;
    state.metrics().task_created(kind, Source::Api);
    tracing::info!(task_id = %task.id, kind = kind.as_str(), "task created");
    Ok(task)
}

/// Query of `GET /tasks/:id`. Kept as text so a malformed or huge `wait` gets our error
/// (or the cap) instead of axum's.
#[derive(Debug, Deserialize)]
pub struct WaitQuery {
    wait: Option<String>,
}

/// `GET /tasks/:id?wait=<ms>`: waits (capped at 60 s) for the task to finish, returning at
/// once when it does, and shows it as it then is. Unknown ids, and tasks the token may not
/// see, are a 404 at once.
pub async fn get(
    auth: ReaderAuth,
    State(state): State<AppState>,
    TaskIdPath(id): TaskIdPath,
    AppQuery(query): AppQuery<WaitQuery>,
) -> Result<Json<TaskView>, ApiError> {
    let wait = parse_wait(query.wait.as_deref())?;
    let queue = state.queue();
    let task = visible(&state, &auth.scope(), id).await?;
    // A finished task has nothing to wait for: read it with its attachments at once.
    let wait = if task.status.is_terminal() {
        Duration::ZERO
    } else {
        wait
    };
    let (task, attachments) = tokio::select! {
        res = queue.wait_finished_with_attachments(id, wait) => res?,
        // Shutting down: answer with the task as it is rather than hold the exit.
        () = state.stopping().cancelled() => {
            queue.wait_finished_with_attachments(id, Duration::ZERO).await?
        }
    };
    let mut view = task_view(&task);
    if !attachments.is_empty() {
        view.attachments = Some(attachments);
    }
    Ok(Json(view))
}

/// The task `id` if `scope` covers it. Another owner's task is a 404 like an unknown one,
/// so a token learns nothing about tasks that are not its own.
pub(super) async fn visible(state: &AppState, scope: &Scope, id: TaskId) -> Result<Task, ApiError> {
    let task = state.queue().get(id).await?;
    if scope.covers(&task) {
        Ok(task)
    } else {
        Err(ApiError::TaskNotFound)
    }
}

/// `wait` in ms: absent or empty is 0; larger than [`MAX_WAIT_MS`] is capped, never refused
/// (agent recipes send `wait=300000`).
fn parse_wait(raw: Option<&str>) -> Result<Duration, ApiError> {
    let raw = raw.unwrap_or("").trim();
    if raw.is_empty() {
        return Ok(Duration::ZERO);
    }
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::InvalidField(format!(
            "wait must be a whole number of milliseconds, got {raw:?}"
        )));
    }
    // All digits, so a parse failure can only be overflow: cap it like any long wait.
    let ms = raw.parse::<u64>().unwrap_or(u64::MAX).min(MAX_WAIT_MS);
    Ok(Duration::from_millis(ms))
}

/// Query of `GET /tasks`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    limit: Option<String>,
}

/// `GET /tasks?status=&limit=`: the most recent tasks first, of those the token sees.
pub async fn list(
    auth: ReaderAuth,
    State(state): State<AppState>,
    AppQuery(query): AppQuery<ListQuery>,
) -> Result<Json<TaskList>, ApiError> {
    let status = query.status.as_deref().map(parse_status).transpose()?;
    let limit = parse_limit(query.limit.as_deref())?;
    let tasks = state.queue().list(&auth.scope(), status, limit).await?;
    Ok(Json(TaskList {
        tasks: tasks.iter().map(task_summary).collect(),
    }))
}

/// A status filter; `pending` is accepted for `queued`, as clients see it.
fn parse_status(raw: &str) -> Result<TaskStatus, ApiError> {
    if raw == "pending" {
        return Ok(TaskStatus::Queued);
    }
    raw.parse().map_err(|_| {
        let known: Vec<&str> = TaskStatus::ALL.iter().map(|s| s.as_str()).collect();
        ApiError::InvalidField(format!(
            "unknown status {raw:?}; expected pending or one of {}",
            known.join(", ")
        ))
    })
}

/// `limit` of a list: [`DEFAULT_LIST_LIMIT`] when absent, capped at [`MAX_LIST_LIMIT`].
pub(super) fn parse_limit(raw: Option<&str>) -> Result<usize, ApiError> {
    let Some(raw) = raw.filter(|raw| !raw.is_empty()) else {
        return Ok(DEFAULT_LIST_LIMIT);
    };
    match raw.parse::<usize>() {
        Ok(0) | Err(_) => Err(ApiError::InvalidField(format!(
            "limit must be a whole number from 1 to {MAX_LIST_LIMIT}, got {raw:?}"
        ))),
        Ok(limit) => Ok(limit.min(MAX_LIST_LIMIT)),
    }
}

/// `POST /tasks/:id/cancel`: a queued task is cancelled at once; a running one is flagged
/// and its worker stops it at its next heartbeat. A finished task is a 409; a task the
/// client token did not create is a 404, and stays as it is.
pub async fn cancel(
    _: ClientAuth,
    State(state): State<AppState>,
    TaskIdPath(id): TaskIdPath,
) -> Result<Json<TaskView>, ApiError> {
    // An owner never changes, so the check holds for the cancel that follows it.
    visible(&state, &Requester::ApiClient.own_tasks(), id).await?;
    let task = state.queue().cancel(id).await?;
    tracing::debug!(task_id = %id, status = %task.status, "cancel handled");
    Ok(Json(task_view(&task)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_capped_not_refused() {
        assert_eq!(parse_wait(None).unwrap(), Duration::ZERO);
        assert_eq!(
            parse_wait(Some("35000")).unwrap(),
            Duration::from_millis(35_000)
        );
        assert_eq!(
            parse_wait(Some("300000")).unwrap(),
            Duration::from_millis(MAX_WAIT_MS)
        );
        assert_eq!(
            parse_wait(Some("99999999999999999999999")).unwrap(),
            Duration::from_millis(MAX_WAIT_MS)
        );
        assert!(parse_wait(Some("-1")).is_err());
        assert!(parse_wait(Some("soon")).is_err());
    }

    #[test]
    fn list_limits_default_cap_and_refuse_zero() {
        assert_eq!(parse_limit(None).unwrap(), DEFAULT_LIST_LIMIT);
        assert_eq!(parse_limit(Some("1000")).unwrap(), MAX_LIST_LIMIT);
        assert!(parse_limit(Some("0")).is_err());
        assert!(parse_limit(Some("ten")).is_err());
    }

    #[test]
    fn pending_filters_queued_tasks() {
        assert_eq!(parse_status("pending").unwrap(), TaskStatus::Queued);
        assert_eq!(parse_status("lost").unwrap(), TaskStatus::Lost);
        assert!(parse_status("done").is_err());
    }
}
