//! Result attachments (screenshots): the worker uploads an image with a task it holds, the
//! client (and the Discord adapter, through the queue) reads it back.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use openclaw_shared::client::AttachmentInfo;
use openclaw_shared::worker::{
    is_valid_attachment_name, sniff_image_type, LEASE_HEADER, MAX_ATTACHMENT_BYTES, WORKER_HEADER,
};
use openclaw_shared::{LeaseId, TaskId};

use super::auth::{ReaderAuth, WorkerAuth};
use super::error::ApiError;
use crate::intake::fields;
use crate::state::AppState;

/// `PUT /v1/worker/tasks/:id/attachments/:name`: the raw image as the body, the worker's
/// name and lease in headers. Images only (by content), at most 10 MiB, live tasks only.
pub async fn upload(
    auth: WorkerAuth,
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::http::StatusCode, ApiError> {
    let id = parse_task_id(&id)?;
    let worker = header_text(&headers, WORKER_HEADER)?;
    fields::own_worker_name(worker)?;
    auth.act_as(worker)?;
    let lease = header_text(&headers, LEASE_HEADER)?
        .parse()
        .map(LeaseId)
        .map_err(|_| ApiError::InvalidField(format!("{LEASE_HEADER} must be a lease id")))?;
    if !is_valid_attachment_name(&name) {
        return Err(ApiError::InvalidField(
            "attachment name must be 1-128 characters of A-Z a-z 0-9 . _ - not starting with ."
                .into(),
        ));
    }
    if body.len() > MAX_ATTACHMENT_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    let content_type = sniff_image_type(&body).ok_or_else(|| {
        ApiError::InvalidField("attachments must be PNG, JPEG, GIF or WebP images".into())
    })?;
    let info = AttachmentInfo {
        name,
        content_type: content_type.to_owned(),
        size: body.len() as u64,
    };
    state
        .queue()
        .add_attachment(id, worker, lease, info, &body)
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// `GET /tasks/:id/attachments/:name`: the stored image, of a task the token sees (the
/// client token its own, the admin token any).
pub async fn download(
    auth: ReaderAuth,
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = parse_task_id(&id)?;
    // Unknown task and unknown attachment are told apart, so a client knows which it got;
    // another owner's task is an unknown one.
    super::tasks::visible(&state, &auth.scope(), id).await?;
    let (info, data) = state
        .queue()
        .attachment(id, &name)
        .await?
        .ok_or(ApiError::AttachmentNotFound)?;
    let content_type = HeaderValue::from_str(&info.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        data,
    )
        .into_response())
}

fn parse_task_id(raw: &str) -> Result<TaskId, ApiError> {
    raw.parse().map_err(|_| ApiError::TaskNotFound)
}

fn header_text<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, ApiError> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| ApiError::InvalidField(format!("header {name} is required")))
}
