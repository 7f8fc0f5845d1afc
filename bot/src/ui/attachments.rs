//! A task's attachment for the logged-in browser: shown inline only when it is one of the
//! raster image types the worker sniffs (never SVG, never HTML), otherwise downloaded; and
//! in every case under a CSP sandbox with sniffing off, so a file can never run as a page.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use openclaw_shared::TaskId;

use super::session::LoggedIn;
use super::{server_error, UiState};

/// Image types shown inline (what the worker's sniffing yields).
const INLINE_IMAGES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Whether a file of `content_type` is previewed inline.
pub fn is_image(content_type: &str) -> bool {
    INLINE_IMAGES.contains(&content_type)
}

/// `GET /ui/tasks/{id}/attachments/{name}`.
pub async fn download(
    State(state): State<UiState>,
    _me: LoggedIn,
    Path((id, name)): Path<(String, String)>,
) -> Response {
    let Ok(id) = id.parse::<TaskId>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (info, data) = match state.app.queue().attachment(id, &name).await {
        Ok(Some(found)) => found,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(err) => return server_error(&err),
    };
    let inline = is_image(&info.content_type);
    let content_type = if inline {
        HeaderValue::from_str(&info.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream"))
    } else {
        HeaderValue::from_static("application/octet-stream")
    };
    let disposition = if inline { "inline" } else { "attachment" };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static(disposition),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            ),
        ],
        data,
    )
        .into_response()
}
