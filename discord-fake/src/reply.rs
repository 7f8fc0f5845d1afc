//! Discord-style answers every REST route shares: the error codes the fake uses, [`RestError`]
//! (a status with a `{"message", "code"}` body), and the success helpers. A leaf: routes
//! import it, and it imports no route.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use crate::message::PayloadError;
use crate::model;
use crate::Shared;

/// Discord error codes the fake answers with.
pub(crate) mod code {
    /// Generic error (used with "404: Not Found", "401: Unauthorized", …).
    pub const GENERAL: u32 = 0;
    /// Unknown Application.
    pub const UNKNOWN_APPLICATION: u32 = 10002;
    /// Unknown Channel.
    pub const UNKNOWN_CHANNEL: u32 = 10003;
    /// Unknown Message.
    pub const UNKNOWN_MESSAGE: u32 = 10008;
    /// Unknown Webhook.
    pub const UNKNOWN_WEBHOOK: u32 = 10015;
    /// Unknown interaction (late or unknown callback).
    pub const UNKNOWN_INTERACTION: u32 = 10062;
    /// Request entity too large.
    pub const ENTITY_TOO_LARGE: u32 = 40005;
    /// Interaction has already been acknowledged.
    pub const ALREADY_ACKNOWLEDGED: u32 = 40060;
    /// Missing Access.
    pub const MISSING_ACCESS: u32 = 50001;
    /// Cannot send an empty message.
    pub const EMPTY_MESSAGE: u32 = 50006;
    /// Invalid Webhook Token (also after an interaction token's 15 minutes).
    pub const INVALID_WEBHOOK_TOKEN: u32 = 50027;
    /// Invalid Form Body.
    pub const INVALID_FORM_BODY: u32 = 50035;
    /// The request body contains invalid JSON.
    pub const INVALID_JSON: u32 = 50109;
}

/// A Discord-style error answer: a status and a `{"message", "code"}` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RestError {
    pub(crate) status: StatusCode,
    pub(crate) code: u32,
    pub(crate) message: String,
}

impl RestError {
    /// Builds an error answer.
    pub(crate) fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// Discord's answer to an unknown route or resource.
    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, code::GENERAL, "404: Not Found")
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        (self.status, Json(model::error(self.code, &self.message))).into_response()
    }
}

impl From<PayloadError> for RestError {
    fn from(err: PayloadError) -> Self {
        match err {
            PayloadError::FileTooLarge { .. } => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                code::ENTITY_TOO_LARGE,
                "Request entity too large",
            ),
            PayloadError::UnknownAttachment(_) => Self::new(
                StatusCode::BAD_REQUEST,
                code::INVALID_FORM_BODY,
                "Invalid Form Body",
            ),
            PayloadError::Empty => Self::new(
                StatusCode::BAD_REQUEST,
                code::EMPTY_MESSAGE,
                "Cannot send an empty message",
            ),
        }
    }
}

/// What a route handler returns.
pub(crate) type RestResult = Result<Response, RestError>;

/// Fails unless the path names this fake's application.
pub(crate) fn check_application(shared: &Shared, application_id: u64) -> Result<(), RestError> {
    if application_id == shared.config.application_id {
        Ok(())
    } else {
        Err(RestError::new(
            StatusCode::NOT_FOUND,
            code::UNKNOWN_APPLICATION,
            "Unknown Application",
        ))
    }
}

/// A 200 with a JSON body.
pub(crate) fn ok(value: Value) -> RestResult {
    Ok(Json(value).into_response())
}

/// A 204 with no body.
pub(crate) fn no_content() -> RestResult {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A response with raw bytes and a content type.
pub(crate) fn bytes_response(content_type: &str, bytes: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(bytes));
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}
