//! Typed client for the worker protocol (`/v1/worker/...`). It makes one attempt per call
//! and classifies failures; the poll loop retries transient ones with [`Backoff`].
//!
//! # Layout
//! - this file: [`ApiClient`], its calls and the caps on what it reads.
//! - `error.rs`: [`ClientError`] and the [`FailureKind`] a caller acts on.
//! - `backoff.rs`: [`Backoff`], capped and jittered retry delays.

mod backoff;
mod error;

use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use openclaw_shared::worker::{
    ApprovalState, ApprovalUpdate, ClaimRequest, ClaimResponse, HeartbeatRequest,
    HeartbeatResponse, HeldLease, OutputAck, OutputChunk, ResultAck, SandboxReport, LEASE_HEADER,
    WORKER_API_PREFIX, WORKER_HEADER,
};
use openclaw_shared::{ErrorBody, LeaseId, TaskId, TaskOutcome};
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;

pub use backoff::Backoff;
pub use error::{ClientError, FailureKind};

/// Timeout for requests that are not long polls.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Extra time a claim gets beyond its long-poll wait, for the server to answer: the claim's
/// client-side deadline is the hold it asked for plus this. A connection that died unseen
/// (half-open after a network change, a proxy that stopped forwarding) is given up at that
/// deadline instead of being waited on; a live server answers within the hold.
pub const CLAIM_TIMEOUT_MARGIN: Duration = Duration::from_secs(5);
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

/// [`ResultRequest`](openclaw_shared::worker::ResultRequest) made of borrows: an outcome can be megabytes and may be sent many
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
    /// The connection pool, replaced by [`ApiClient::reconnect`] (clones share it). A std
    /// lock: held only to clone or swap the client (an `Arc` inside), never across a request.
    http: Arc<RwLock<reqwest::Client>>,
    /// Extra CA certificates trusted for the server (`server_ca_file`), kept so a rebuilt
    /// pool trusts them too.
    roots: Arc<Vec<reqwest::Certificate>>,
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
        let roots = match ca_file {
            Some(path) => crate::tls::read_ca_file(path)?,
            None => Vec::new(),
        };
        let http = http_client(&roots)
            .map_err(|err| anyhow::anyhow!("building the HTTP client: {err}"))?;
        Ok(Self {
            http: Arc::new(RwLock::new(http)),
            roots: Arc::new(roots),
            base: format!("{}{WORKER_API_PREFIX}", server_url.trim_end_matches('/')),
            auth,
            sandbox: None,
        })
    }

    /// Drops every pooled connection: the next requests open new ones. After a sleep the
    /// pool's idle connections are most likely dead (the NAT or the server forgot them),
    /// and a request sent on one would wait for its timeout. Keeps the old pool if a new
    /// client cannot be built.
    pub fn reconnect(&self) {
        match http_client(&self.roots) {
            Ok(fresh) => *self.http.write().unwrap_or_else(PoisonError::into_inner) = fresh,
            Err(err) => {
                tracing::warn!(error = %err, "cannot rebuild the HTTP client; keeping the old connections")
            }
        }
    }

    /// The current connection pool.
    fn http(&self) -> reqwest::Client {
        self.http
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
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
            .http()
            .post(format!("{}/tasks/{task_id}/approval", self.base))
            .timeout(REQUEST_TIMEOUT)
            .json(&body);
        self.send(request).await.map(drop)
    }

    /// Sends the next piece of a running task's live output (see [`crate::live`]). One
    /// attempt: the sender tries again with its next piece.
    pub async fn send_output(
        &self,
        worker: &str,
        task_id: TaskId,
        lease: LeaseId,
        offset: u64,
        text: &str,
    ) -> Result<OutputAck, ClientError> {
        let body = OutputChunk {
            worker: worker.to_owned(),
            lease,
            offset,
            text: text.to_owned(),
        };
        let path = format!("/tasks/{task_id}/output");
        self.post(&path, &body, REQUEST_TIMEOUT, MAX_ANSWER_BYTES)
            .await
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
            .http()
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
            .http()
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

/// A new connection pool with the worker's timeouts and user agent.
fn http_client(roots: &[reqwest::Certificate]) -> reqwest::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("openclaw-worker/", env!("CARGO_PKG_VERSION")));
    for certificate in roots {
        builder = builder.add_root_certificate(certificate.clone());
    }
    builder.build()
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

#[cfg(test)]
mod tests {
    use openclaw_shared::worker::ResultRequest;

    use super::*;

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
}
