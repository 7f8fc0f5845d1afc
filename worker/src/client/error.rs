//! How a request failed, and what the caller should do about it ([`FailureKind`]).

use std::time::Duration;

use openclaw_shared::ErrorCode;
use reqwest::StatusCode;

/// How a failed request should be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The server is unreachable, overloaded or restarting: retry with backoff.
    Transient,
    /// The token was not accepted (401): retry slowly, an operator must fix it.
    Unauthorized,
    /// The server understood and refused (4xx): retrying the same request cannot help.
    Rejected,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No answer: connection refused, reset, DNS, TLS or timeout.
    #[error("could not reach the server")]
    Network(#[source] reqwest::Error),
    /// The server answered with an error status.
    #[error("server answered {status}: {message}")]
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// The stable code from the body, when the body was ours.
        code: Option<ErrorCode>,
        /// The body's message, or a short excerpt of a body that was not ours.
        message: String,
        /// The server's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// A success status with a body that is not the expected JSON.
    #[error("server sent an unreadable answer")]
    Decode(#[source] serde_json::Error),
    /// An answer larger than the worker ever reads; the rest was not read.
    #[error("server sent an answer over {limit} bytes; refused unread")]
    TooLarge {
        /// The limit for this kind of answer, bytes.
        limit: usize,
    },
}

impl ClientError {
    /// How this failure should be handled.
    pub fn kind(&self) -> FailureKind {
        match self {
            // A garbled answer is most likely a proxy in the way or a restart in progress;
            // an oversized one costs the server a retry, never the worker's memory.
            ClientError::Network(_) | ClientError::Decode(_) | ClientError::TooLarge { .. } => {
                FailureKind::Transient
            }
            ClientError::Status { status, .. } => match *status {
                StatusCode::UNAUTHORIZED => FailureKind::Unauthorized,
                StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS => {
                    FailureKind::Transient
                }
                s if s.is_server_error() => FailureKind::Transient,
                _ => FailureKind::Rejected,
            },
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ClientError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether no answer came before the request's deadline: the connection, or the path
    /// to the server, is most likely dead rather than the server slow.
    pub fn timed_out(&self) -> bool {
        matches!(self, ClientError::Network(err) if err.is_timeout())
    }

    /// The server's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ClientError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_error(status: StatusCode) -> ClientError {
        ClientError::Status {
            status,
            code: None,
            message: String::new(),
            retry_after: None,
        }
    }

    #[test]
    fn server_errors_and_rate_limits_are_transient() {
        for status in [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::SERVICE_UNAVAILABLE,
            StatusCode::TOO_MANY_REQUESTS,
        ] {
            assert_eq!(
                status_error(status).kind(),
                FailureKind::Transient,
                "{status}"
            );
        }
    }

    #[test]
    fn client_errors_are_final_except_unauthorized() {
        assert_eq!(
            status_error(StatusCode::UNAUTHORIZED).kind(),
            FailureKind::Unauthorized
        );
        for status in [
            StatusCode::BAD_REQUEST,
            StatusCode::FORBIDDEN,
            StatusCode::NOT_FOUND,
            StatusCode::CONFLICT,
            StatusCode::PAYLOAD_TOO_LARGE,
        ] {
            assert_eq!(
                status_error(status).kind(),
                FailureKind::Rejected,
                "{status}"
            );
        }
    }
}
