//! `ApiError`: every way a request can fail, mapped in one place to a status, a stable
//! [`ErrorCode`], a message safe to show, and a log level.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use openclaw_shared::{ErrorBody, ErrorCode};

use crate::intake::{IntakeError, Problem};
use crate::queue::{QueueError, Quota, StoreFault, TooManyWorkers};
use crate::telemetry::{error_chain, Throttled};

/// A failed request. Client mistakes carry a message for the client; server failures
/// carry their cause for the log and show only a generic message on the wire.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON of the expected shape.
    #[error("{0}")]
    InvalidJson(String),
    /// A field or query parameter is missing, empty, malformed or out of range.
    #[error("{0}")]
    InvalidField(String),
    /// A field is longer than its configured limit.
    #[error("{field} is longer than {limit} bytes")]
    FieldTooLong {
        /// The field's name as the client spells it.
        field: &'static str,
        /// The limit, in bytes.
        limit: usize,
    },
    /// No valid `Authorization: Bearer <token>`.
    #[error("Unauthorized")]
    Unauthorized,
    /// The token is valid but its role may not use this route.
    #[error("this token's role ({0}) may not use this route")]
    Forbidden(&'static str),
    /// A per-worker token named another worker than its own.
    #[error("this token belongs to worker {bound:?} and may not act as {named:?}")]
    WrongWorker {
        /// The worker the token is bound to.
        bound: String,
        /// The worker the request named.
        named: String,
    },
    /// The shared worker token named a new worker while its cap of names is live.
    #[error(transparent)]
    TooManyWorkers(#[from] TooManyWorkers),
    /// Over a rate limit (per client IP or per token); `Retry-After` says when to retry.
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited {
        /// Whole seconds until a retry can succeed (at least 1).
        retry_after_secs: u64,
    },
    /// No such task (also for ids that are not UUIDs: to a client they are the same).
    #[error("Task not found")]
    TaskNotFound,
    /// The task exists but has no attachment of that name.
    #[error("Attachment not found")]
    AttachmentNotFound,
    /// No such route.
    #[error("no route for {0}")]
    RouteNotFound(String),
    /// The route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The body is over `http.body_limit_bytes`.
    #[error("request body is larger than the limit")]
    PayloadTooLarge,
    /// The request ran past `http.request_timeout_secs`.
    #[error("request timed out")]
    Timeout,
    /// A handler panicked (a bug); the panic message goes to the log only.
    #[error("handler panicked: {0}")]
    Panic(String),
    /// The queue refused or failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl From<IntakeError> for ApiError {
    fn from(error: IntakeError) -> Self {
        match error.problem {
            Problem::TooLong { limit } => ApiError::FieldTooLong {
                field: error.field,
                limit,
            },
            _ => ApiError::InvalidField(error.to_string()),
        }
    }
}

/// Refusals worth a warning (a forbidden role, a worker token used for another worker).
static REFUSALS_LOG: Throttled = Throttled::new(LOG_INTERVAL);
/// Server failures (a storage outage fails every request alike).
static FAILURES_LOG: Throttled = Throttled::new(LOG_INTERVAL);
/// Least time between two log lines of one kind of repeated failure.
const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// How loudly a failure is logged: client mistakes are routine, server failures are not.
enum Log {
    Debug,
    Warn,
    Error,
}

impl ApiError {
    /// Status, code, wire message and log level, all decided here.
    fn parts(&self) -> (StatusCode, ErrorCode, String, Log) {
        use ApiError as E;
        let shown = || self.to_string();
        match self {
            E::InvalidJson(_) => (
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidJson,
                shown(),
                Log::Debug,
            ),
            E::InvalidField(_) => (
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidField,
                shown(),
                Log::Debug,
            ),
            E::FieldTooLong { .. } => (
                StatusCode::BAD_REQUEST,
                ErrorCode::FieldTooLong,
                shown(),
                Log::Debug,
            ),
            // The original's exact text, which its clients may match on.
            E::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                shown(),
                Log::Debug,
            ),
            E::Forbidden(_) => (
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                shown(),
                Log::Warn,
            ),
            // Either a bug in a worker's config (name vs token) or a stolen token used for
            // another worker: worth a warning.
            E::WrongWorker { .. } => (
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                shown(),
                Log::Warn,
            ),
            // Made-up names from the shared token are an attack or a misconfigured fleet:
            // worth a (throttled) warning either way.
            E::TooManyWorkers(_) => (
                StatusCode::FORBIDDEN,
                ErrorCode::TooManyWorkers,
                shown(),
                Log::Warn,
            ),
            // Debug, not warn: under a flood, one line per refused request would be the
            // flood's second victim.
            E::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                shown(),
                Log::Debug,
            ),
            E::TaskNotFound => (
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                shown(),
                Log::Debug,
            ),
            E::AttachmentNotFound => (
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                shown(),
                Log::Debug,
            ),
            E::RouteNotFound(_) => (
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                shown(),
                Log::Debug,
            ),
            E::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MethodNotAllowed,
                shown(),
                Log::Debug,
            ),
            E::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                shown(),
                Log::Debug,
            ),
            E::Timeout => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                shown(),
                Log::Warn,
            ),
            E::Panic(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                ErrorCode::Internal,
                "internal error".into(),
                Log::Error,
            ),
            E::Queue(err) => match err {
                QueueError::NotFound(_) => (
                    StatusCode::NOT_FOUND,
                    ErrorCode::NotFound,
                    "Task not found".into(),
                    Log::Debug,
                ),
                QueueError::ScheduleNotFound(_) => (
                    StatusCode::NOT_FOUND,
                    ErrorCode::NotFound,
                    "Schedule not found".into(),
                    Log::Debug,
                ),
                // A worker reporting a task it does not hold is worth noticing: it is either
                // a bug or a forged report.
                QueueError::NotHolder(_) => (
                    StatusCode::FORBIDDEN,
                    ErrorCode::Forbidden,
                    err.to_string(),
                    Log::Warn,
                ),
                QueueError::LeaseMismatch(_) => (
                    StatusCode::CONFLICT,
                    ErrorCode::LeaseMismatch,
                    err.to_string(),
                    Log::Warn,
                ),
                QueueError::Conflict { .. } => (
                    StatusCode::CONFLICT,
                    ErrorCode::Conflict,
                    err.to_string(),
                    Log::Debug,
                ),
                // Someone approving a task other than the one the Mac showed is worth a look.
                QueueError::FingerprintMismatch(_) => (
                    StatusCode::CONFLICT,
                    ErrorCode::Conflict,
                    err.to_string(),
                    Log::Warn,
                ),
                // Someone reaching for another owner's conversation is worth a look.
                QueueError::SessionOfAnother => (
                    StatusCode::FORBIDDEN,
                    ErrorCode::Forbidden,
                    err.to_string(),
                    Log::Warn,
                ),
                // Past a quota: the message names it and its limit.
                QueueError::QuotaExceeded(_) | QueueError::TooManyClaims { .. } => (
                    quota_status(err),
                    ErrorCode::QuotaExceeded,
                    err.to_string(),
                    Log::Warn,
                ),
                // Never a 500: the request was fine and nothing changed; the client
                // should retry (a busy store in a second, a full disk much later).
                QueueError::Store(err) => {
                    let (code, message, log) = match err.fault() {
                        StoreFault::Busy => (
                            ErrorCode::StorageBusy,
                            "the task store is busy; retry shortly",
                            Log::Warn,
                        ),
                        StoreFault::Full => (
                            ErrorCode::StorageFull,
                            "the server's disk is full; retry later",
                            Log::Error,
                        ),
                        StoreFault::ReadOnly => (
                            ErrorCode::StorageReadOnly,
                            "the task store cannot be written; retry later",
                            Log::Error,
                        ),
                        StoreFault::Corrupt | StoreFault::Failed => (
                            ErrorCode::StorageFailed,
                            "the task store failed; retry later",
                            Log::Error,
                        ),
                    };
                    (StatusCode::SERVICE_UNAVAILABLE, code, message.into(), log)
                }
            },
        }
    }

    /// Seconds a client should wait before retrying (`Retry-After`), for the failures a
    /// retry can fix.
    fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ApiError::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            ApiError::Queue(QueueError::Store(err)) => Some(match err.fault() {
                // A lock held by a backup or an operator is usually gone within seconds.
                StoreFault::Busy => 1,
                // Space and permissions come back when an operator acts, not sooner.
                StoreFault::Full => 30,
                StoreFault::ReadOnly => 60,
                StoreFault::Corrupt | StoreFault::Failed => 10,
            }),
            // A worker's other claim ends within one long poll (30 s at most); most end
            // sooner, and the worker backs off from there.
            ApiError::Queue(QueueError::TooManyClaims { .. }) => Some(1),
            ApiError::Queue(QueueError::QuotaExceeded(Quota::LiveTasks(_))) => {
                Some(LIVE_TASKS_RETRY_SECS)
            }
            _ => None,
        }
    }
}

/// How long a client refused for too many live tasks is told to wait: about how long a
/// few tasks take to run.
const LIVE_TASKS_RETRY_SECS: u64 = 5;

/// The status of a refusal past a quota: too many tasks or claims is a rate to slow down
/// to (429), a task's own attachments are too large a request (413), a full store is 507.
fn quota_status(err: &QueueError) -> StatusCode {
    match err {
        QueueError::QuotaExceeded(Quota::AttachmentsPerTask(_))
        | QueueError::QuotaExceeded(Quota::AttachmentBytesPerTask(_)) => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        QueueError::QuotaExceeded(Quota::StoredBytes(_)) => StatusCode::INSUFFICIENT_STORAGE,
        _ => StatusCode::TOO_MANY_REQUESTS,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, log) = self.parts();
        match log {
            Log::Debug => {
                tracing::debug!(status = status.as_u16(), code = code.as_str(), error = %self, "request refused")
            }
            // A storage outage fails every request alike: one line per interval.
            Log::Warn if status.is_server_error() => {
                if let Some(count) = FAILURES_LOG.hit() {
                    tracing::warn!(status = status.as_u16(), code = code.as_str(), error = %error_chain(&self), count, "request failed (count: failures since the last such line)")
                }
            }
            // A refusal anyone holding a token can repeat at will: one line per interval,
            // with the count, so the log is not the flood's second victim.
            Log::Warn => {
                if let Some(count) = REFUSALS_LOG.hit() {
                    tracing::warn!(status = status.as_u16(), code = code.as_str(), error = %self, count, "request refused (count: refusals logged at warn since the last such line)")
                }
            }
            Log::Error => {
                if let Some(count) = FAILURES_LOG.hit() {
                    tracing::error!(status = status.as_u16(), code = code.as_str(), error = %error_chain(&self), count, "request failed (count: failures since the last such line)")
                }
            }
        }
        let mut response = (status, Json(ErrorBody::new(code, message))).into_response();
        if let Some(secs) = self.retry_after_secs() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests;
