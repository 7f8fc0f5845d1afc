//! Typed client for the worker protocol (`/v1/worker/...`). It makes one attempt per call
//! and classifies failures; the poll loop retries transient ones with [`Backoff`].

use std::error::Error as StdError;
use std::path::Path;
use std::time::Duration;

use openclaw_shared::worker::{
    ApprovalState, ApprovalUpdate, ClaimRequest, ClaimResponse, HeartbeatRequest,
    HeartbeatResponse, HeldLease, ResultAck, SandboxReport, LEASE_HEADER, WORKER_API_PREFIX,
    WORKER_HEADER,
};
use openclaw_shared::{ErrorBody, ErrorCode, LeaseId, TaskId, TaskOutcome};
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Timeout for requests that are not long polls.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Extra time a claim gets beyond its long-poll wait, for the server to answer.
const CLAIM_TIMEOUT_MARGIN: Duration = Duration::from_secs(15);
/// Timeout for an attachment upload (up to 10 MiB over a home uplink).
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(120);
/// How long to wait for a TCP/TLS connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Most bytes one slot of a claim answer may take. A task as the bot hands it out is no
/// larger than the client's request that made it, and the bot refuses request bodies over
/// `http.body_limit_bytes` (32 MiB by default): this leaves room to spare. A server that
/// sends more could send gigabytes, which would all be held in memory before parsing.
pub const MAX_CLAIM_BYTES_PER_SLOT: usize = 64 * 1024 * 1024;
/// Most bytes any other answer may take (heartbeats, result acknowledgements: a few
/// hundred bytes per lease).
const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// Most bytes of an error answer read (only a short excerpt is kept).
const MAX_ERROR_BYTES: usize = 64 * 1024;

/// First retry delay after a transient failure; doubles per attempt.
const BACKOFF_BASE: Duration = Duration::from_millis(500);
/// Longest retry delay for transient failures.
const BACKOFF_CAP: Duration = Duration::from_secs(30);

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
        status: StatusCode,
        /// The stable code from the body, when the body was ours.
        code: Option<ErrorCode>,
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

    /// The server's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ClientError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// [`ResultRequest`] made of borrows: an outcome can be megabytes and may be sent many
/// times, so it is serialized in place rather than cloned for each attempt.
#[derive(Serialize)]
struct ResultBody<'a> {
    worker: &'a str,
    lease: LeaseId,
    outcome: &'a TaskOutcome,
}

/// Cheap-to-clone client for one server and worker token.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    /// The server URL without a trailing slash, with the protocol prefix appended.
    base: String,
    /// The `Authorization` header, marked sensitive so it never shows in debug output.
    auth: HeaderValue,
    /// What this worker's sandbox is, told to the server with every claim and heartbeat.
    sandbox: Option<SandboxReport>,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// Builds a client for `server_url` authenticating with `token`.
    pub fn new(server_url: &str, token: &SecretString) -> anyhow::Result<Self> {
        Self::with_ca_file(server_url, token, None)
    }

    /// Builds a client like [`ApiClient::new`] that also trusts the CA certificates in
    /// `ca_file` (PEM, the `server_ca_file` key), besides the built-in public roots.
    pub fn with_ca_file(
        server_url: &str,
        token: &SecretString,
        ca_file: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
            .map_err(|_| anyhow::anyhow!("the worker token is not a valid HTTP header value"))?;
        auth.set_sensitive(true);
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("openclaw-worker/", env!("CARGO_PKG_VERSION")));
        if let Some(path) = ca_file {
            for certificate in crate::tls::read_ca_file(path)? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder
            .build()
            .map_err(|err| anyhow::anyhow!("building the HTTP client: {err}"))?;
        Ok(Self {
            http,
            base: format!("{}{WORKER_API_PREFIX}", server_url.trim_end_matches('/')),
            auth,
            sandbox: None,
        })
    }

    /// The same client, telling the server about `sandbox` with every claim and heartbeat.
    pub fn with_sandbox(mut self, sandbox: SandboxReport) -> Self {
        self.sandbox = Some(sandbox);
        self
    }

    /// Asks for up to `slots` tasks, letting the server hold the request up to `wait`.
    pub async fn claim(
        &self,
        worker: &str,
        slots: u32,
        wait: Duration,
    ) -> Result<ClaimResponse, ClientError> {
        let body = ClaimRequest {
            worker: worker.to_owned(),
            slots,
            wait_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            sandbox: self.sandbox.clone(),
        };
        let limit = usize::try_from(slots.max(1))
            .unwrap_or(usize::MAX)
            .saturating_mul(MAX_CLAIM_BYTES_PER_SLOT);
        self.post("/claim", &body, wait + CLAIM_TIMEOUT_MARGIN, limit)
            .await
    }

    /// Extends `leases`; the answer says, per lease, whether to keep going.
    pub async fn heartbeat(
        &self,
        worker: &str,
        leases: Vec<HeldLease>,
    ) -> Result<HeartbeatResponse, ClientError> {
        let body = HeartbeatRequest {
            worker: worker.to_owned(),
            leases,
            sandbox: self.sandbox.clone(),
        };
        self.post("/heartbeat", &body, REQUEST_TIMEOUT, MAX_ANSWER_BYTES)
            .await
    }

    /// Reports a task's outcome under its lease. Safe to repeat: a duplicate is acknowledged.
    pub async fn submit_result(
        &self,
        worker: &str,
        task_id: TaskId,
        lease: LeaseId,
        outcome: &TaskOutcome,
    ) -> Result<ResultAck, ClientError> {
        let body = ResultBody {
            worker,
            lease,
            outcome,
        };
        let path = format!("/tasks/{task_id}/result");
        self.post(&path, &body, REQUEST_TIMEOUT, MAX_ANSWER_BYTES)
            .await
    }

    /// Tells the server where a task it holds stands with respect to approval.
    pub async fn report_approval(
        &self,
        worker: &str,
        task_id: TaskId,
        lease: LeaseId,
        state: ApprovalState,
    ) -> Result<(), ClientError> {
        let body = ApprovalUpdate {
            worker: worker.to_owned(),
            lease,
            state,
        };
        let request = self
            .http
            .post(format!("{}/tasks/{task_id}/approval", self.base))
            .timeout(REQUEST_TIMEOUT)
            .json(&body);
        self.send(request).await.map(drop)
    }

    /// Uploads an image as attachment `name` of a task the worker holds under `lease`.
    pub async fn upload_attachment(
        &self,
        worker: &str,
        task_id: TaskId,
        lease: LeaseId,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<(), ClientError> {
        let request = self
            .http
            .put(format!("{}/tasks/{task_id}/attachments/{name}", self.base))
            .timeout(UPLOAD_TIMEOUT)
            .header(WORKER_HEADER, worker)
            .header(LEASE_HEADER, lease.to_string())
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(bytes);
        self.send(request).await.map(drop)
    }

    /// Posts `body` and decodes an answer of at most `limit` bytes.
    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
        timeout: Duration,
        limit: usize,
    ) -> Result<T, ClientError> {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .timeout(timeout)
            .json(body);
        let response = self.send(request).await?;
        let bytes = read_capped(response, limit).await?;
        serde_json::from_slice(&bytes).map_err(ClientError::Decode)
    }

    /// Sends `request` with the token; a success status returns the response, anything
    /// else becomes a classified [`ClientError`].
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ClientError> {
        let response = request
            .header(AUTHORIZATION, self.auth.clone())
            .send()
            .await
            .map_err(ClientError::Network)?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        // The body is ours (`ErrorBody`) unless a proxy answered; keep a short excerpt then.
        let bytes = read_capped(response, MAX_ERROR_BYTES)
            .await
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        let (code, message) = match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => (Some(body.code), body.error),
            Err(_) => (None, text.chars().take(200).collect()),
        };
        Err(ClientError::Status {
            status,
            code,
            message,
            retry_after,
        })
    }
}

/// The body of `response`, refused as soon as it is known to exceed `limit` bytes: by its
/// `Content-Length`, or while it is read.
async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, ClientError> {
    let too_large = ClientError::TooLarge { limit };
    let announced = response.content_length().unwrap_or(0);
    if usize::try_from(announced).map_or(true, |len| len > limit) {
        return Err(too_large);
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ClientError::Network)? {
        if bytes.len().saturating_add(chunk.len()) > limit {
            return Err(too_large);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// `err: cause: cause`, for logs: the top-level message alone hides why a request failed.
pub fn error_chain(err: &dyn StdError) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Capped exponential backoff with jitter: half the delay fixed, half random, so many
/// workers restarting together do not retry in lockstep.
#[derive(Debug, Default)]
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    /// The delay before the next attempt; grows with each call up to the cap.
    pub fn next_delay(&mut self) -> Duration {
        let exp = BACKOFF_BASE.saturating_mul(1 << self.attempt.min(16));
        self.attempt = self.attempt.saturating_add(1);
        let ceiling = exp.min(BACKOFF_CAP);
        let half = ceiling / 2;
        let half_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(fastrand::u64(0..=half_ms))
    }

    /// Starts over after a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_shared::worker::ResultRequest;

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

    #[test]
    fn borrowed_result_body_is_a_result_request() {
        let outcome = TaskOutcome::failure("boom");
        let lease = LeaseId::new();

        let value = serde_json::to_value(ResultBody {
            worker: "mac",
            lease,
            outcome: &outcome,
        })
        .unwrap();

        let back: ResultRequest = serde_json::from_value(value).unwrap();
        assert_eq!(back.worker, "mac");
        assert_eq!(back.lease, lease);
        assert_eq!(back.outcome, outcome);
    }

    #[test]
    fn debug_output_hides_the_token() {
        let client =
            ApiClient::new("http://127.0.0.1:1/", &SecretString::from("sekrit-token")).unwrap();

        let shown = format!("{client:?}");

        assert!(!shown.contains("sekrit-token"));
        assert!(shown.contains("http://127.0.0.1:1/v1/worker"));
    }

    #[test]
    fn backoff_grows_and_stays_under_the_cap() {
        let mut backoff = Backoff::default();

        let first = backoff.next_delay();
        let delays: Vec<Duration> = (0..20).map(|_| backoff.next_delay()).collect();

        assert!(first <= BACKOFF_BASE);
        assert!(delays.iter().all(|d| *d <= BACKOFF_CAP));
        assert!(delays.last().unwrap() >= &(BACKOFF_CAP / 2));
    }

    #[test]
    fn backoff_reset_starts_over() {
        let mut backoff = Backoff::default();
        for _ in 0..10 {
            backoff.next_delay();
        }

        backoff.reset();

        assert!(backoff.next_delay() <= BACKOFF_BASE);
    }
}
