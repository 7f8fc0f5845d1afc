//! Answers to injected faults, shaped like Discord's: an error status with its body, or a
//! 429 with `retry_after` in the body and the rate-limit headers.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::{code, RestError};
use crate::fault::FailMode;

/// The answer for an injected fault, shaped like Discord's.
pub(super) fn fault_response(mode: FailMode) -> Response {
    match mode {
        FailMode::Status(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = format!(
                "{}: {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("Error")
            );
            RestError::new(status, code::GENERAL, message).into_response()
        }
        FailMode::RateLimited { retry_after } => rate_limited(retry_after),
    }
}

/// Discord's 429: `retry_after` in seconds in the body and headers, bucket headers exhausted.
fn rate_limited(retry_after: Duration) -> Response {
    let secs = retry_after.as_secs_f64();
    let body =
        json!({"message": "You are being rate limited.", "retry_after": secs, "global": false});
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    let headers = response.headers_mut();
    let whole_secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    for (name, value) in [
        ("retry-after", whole_secs.to_string()),
        ("x-ratelimit-limit", "5".to_owned()),
        ("x-ratelimit-remaining", "0".to_owned()),
        ("x-ratelimit-reset-after", format!("{secs:.3}")),
        ("x-ratelimit-bucket", "fake-bucket".to_owned()),
        ("x-ratelimit-scope", "user".to_owned()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use axum::body::to_bytes;
    use serde_json::Value;

    use super::*;

    #[tokio::test]
    async fn a_rate_limit_carries_retry_after_in_headers_and_body() {
        let response = rate_limited(Duration::from_millis(1500));

        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "2");
        assert_eq!(response.headers()["x-ratelimit-reset-after"], "1.500");
        let body = to_bytes(response.into_body(), 1024).await.unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["retry_after"], json!(1.5));
        assert_eq!(body["global"], json!(false));
    }

    #[test]
    fn an_injected_status_has_a_discord_error_body() {
        let response = fault_response(FailMode::Status(502));

        assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    }
}
