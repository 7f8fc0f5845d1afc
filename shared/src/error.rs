//! The JSON error body every endpoint returns, with a stable machine-readable `code`.

use serde::{Deserialize, Serialize};

/// Stable error codes. Clients match on these, never on the human-readable text, so a
/// variant is never renamed (the golden-string test pins the spelling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not JSON, or not the JSON shape the endpoint takes (400).
    InvalidJson,
    /// A field is missing, empty or has a value out of range (400).
    InvalidField,
    /// A field is longer than its configured limit; the message names field and limit (400).
    FieldTooLong,
    /// No `Authorization: Bearer <token>`, or the token is not known (401).
    Unauthorized,
    /// The token is valid but its role may not do this (403).
    Forbidden,
    /// No such task, or no such route (404).
    NotFound,
    /// A result, approval update or attachment upload names a lease that is not the task's
    /// current lease (409). A heartbeat answers such a lease `gone` instead.
    LeaseMismatch,
    /// The request conflicts with the task's state, e.g. cancelling a finished task (409).
    Conflict,
    /// The request body is larger than the configured limit (413).
    PayloadTooLarge,
    /// Too many requests; retry after the `Retry-After` header (429).
    RateLimited,
    /// The method is not allowed on this route (405).
    MethodNotAllowed,
    /// Something failed on the server; details are in its log, not on the wire (500).
    Internal,
    /// The server is shutting down, or a request ran past the server's time limit (503).
    Unavailable,
    /// The server holds as many connections as it takes (in total or from this address);
    /// retry after the `Retry-After` header, or reuse an open connection (503).
    TooManyConnections,
    /// Storing this would pass one of the bot's quotas; the message names which and its
    /// limit. Too many live tasks or open claims: 429 with `Retry-After`; too many or too
    /// large attachments for one task: 413; the bot's storage budget is full: 507.
    QuotaExceeded,
    /// A worker name the shared worker token may not take on: as many names as it may
    /// serve at once are already live. Give the worker its own token, or wait until an
    /// unused name is forgotten (403).
    TooManyWorkers,
    /// The task store is busy (another process holds its lock, e.g. a backup) or has too
    /// many requests waiting; nothing was changed. Retry after the `Retry-After` header (503).
    StorageBusy,
    /// The server's disk is full; nothing was changed. Retry after the `Retry-After` header,
    /// once the operator freed space (503).
    StorageFull,
    /// The task store cannot be written (a read-only file or file system); nothing was
    /// changed. An operator must fix it; retry after the `Retry-After` header (503).
    StorageReadOnly,
    /// The task store failed (an I/O error, a damaged file); nothing was changed. Details
    /// are in the server's log and `/admin/health`; retry after the `Retry-After` header (503).
    StorageFailed,
}

impl ErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::FieldTooLong => "field_too_long",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::LeaseMismatch => "lease_mismatch",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::TooManyConnections => "too_many_connections",
            ErrorCode::QuotaExceeded => "quota_exceeded",
            ErrorCode::TooManyWorkers => "too_many_workers",
            ErrorCode::StorageBusy => "storage_busy",
            ErrorCode::StorageFull => "storage_full",
            ErrorCode::StorageReadOnly => "storage_read_only",
            ErrorCode::StorageFailed => "storage_failed",
        }
    }
}

/// `{"error": "...", "code": "..."}`: the original's clients read `error`; ours read `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Human-readable message, safe to show to a user (never an internal error chain).
    pub error: String,
    /// Stable machine-readable code.
    pub code: ErrorCode,
}

impl ErrorBody {
    /// Builds an error body from a code and a message.
    pub fn new(code: ErrorCode, error: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_original_error_field_and_stable_code() {
        let body = ErrorBody::new(ErrorCode::PayloadTooLarge, "body over 1 MiB");
        let json = serde_json::to_string(&body).unwrap();
        assert_eq!(
            json,
            r#"{"error":"body over 1 MiB","code":"payload_too_large"}"#
        );
    }

    #[test]
    fn quota_exceeded_is_spelled_for_good() {
        let json = serde_json::to_string(&ErrorCode::QuotaExceeded).unwrap();

        assert_eq!(json, r#""quota_exceeded""#);
    }

    #[test]
    fn too_many_workers_has_its_golden_spelling() {
        let json = serde_json::to_string(&ErrorCode::TooManyWorkers).unwrap();
        assert_eq!(json, r#""too_many_workers""#);
    }

    #[test]
    fn storage_codes_have_their_golden_spelling() {
        let codes = [
            ErrorCode::StorageBusy,
            ErrorCode::StorageFull,
            ErrorCode::StorageReadOnly,
            ErrorCode::StorageFailed,
        ];

        let spelled: Vec<String> = codes
            .iter()
            .map(|code| serde_json::to_string(code).unwrap())
            .collect();

        assert_eq!(
            spelled,
            [
                r#""storage_busy""#,
                r#""storage_full""#,
                r#""storage_read_only""#,
                r#""storage_failed""#
            ]
        );
    }

    #[test]
    fn as_str_matches_serde_spelling() {
        for code in [
            ErrorCode::InvalidJson,
            ErrorCode::InvalidField,
            ErrorCode::FieldTooLong,
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::LeaseMismatch,
            ErrorCode::Conflict,
            ErrorCode::PayloadTooLarge,
            ErrorCode::RateLimited,
            ErrorCode::MethodNotAllowed,
            ErrorCode::Internal,
            ErrorCode::Unavailable,
            ErrorCode::TooManyConnections,
            ErrorCode::QuotaExceeded,
            ErrorCode::TooManyWorkers,
            ErrorCode::StorageBusy,
            ErrorCode::StorageFull,
            ErrorCode::StorageReadOnly,
            ErrorCode::StorageFailed,
        ] {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, serde_json::Value::String(code.as_str().to_owned()));
        }
    }
}
