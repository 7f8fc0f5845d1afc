//! A fake server speaking the worker protocol, for what a hostile or broken bot can do to
//! the claim loop: it hands out one task per claim from a script, records when each was
//! handed out, accepts every lease, and acknowledges results, or never does; it can pad
//! its first claim answer to any size, or never answer a claim at all (a connection that
//! died unseen).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use openclaw_shared::worker::{
    ClaimRequest, ClaimResponse, ClaimedTask, HeartbeatRequest, HeartbeatResponse, LeaseReport,
    LeaseState, ResultAck,
};
use openclaw_shared::{LeaseId, TaskId, TaskSpec};
use tokio_util::sync::CancellationToken;

/// Whether the fake acknowledges results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Results {
    /// `200 {duplicate: false}`.
    Acknowledged,
    /// `503` forever: the worker keeps them queued and retries.
    NeverAcknowledged,
}

#[derive(Default)]
struct Script {
    /// What the next claims hand out, in order; then nothing.
    tasks: Vec<TaskSpec>,
    /// When each task was handed out.
    handed_out: Vec<Instant>,
    /// The `slots` of every claim.
    slots_asked: Vec<u32>,
    /// Result posts received (retries included).
    result_posts: usize,
    /// Blanks added to the first claim answer that hands out a task.
    first_padding: usize,
    /// When each claim arrived.
    claims_at: Vec<Instant>,
    /// Claims are held forever, never answered.
    hang_claims: bool,
}

#[derive(Clone)]
struct Fake {
    script: Arc<Mutex<Script>>,
    results: Results,
}

/// The fake on a free loopback port; stops when dropped.
pub struct FakeServer {
    url: String,
    script: Arc<Mutex<Script>>,
    shutdown: CancellationToken,
}

impl FakeServer {
    /// Starts a fake that hands out `tasks`, one per claim, and treats results as `results`.
    pub async fn start(tasks: Vec<TaskSpec>, results: Results) -> Self {
        Self::start_padded(tasks, results, 0).await
    }

    /// [`FakeServer::start`], with `padding` blanks in the first claim answer that hands out
    /// a task: still valid JSON, only larger.
    pub async fn start_padded(tasks: Vec<TaskSpec>, results: Results, padding: usize) -> Self {
        let script = Arc::new(Mutex::new(Script {
            tasks: tasks.into_iter().rev().collect(),
            first_padding: padding,
            ..Script::default()
        }));
        let fake = Fake {
            script: Arc::clone(&script),
            results,
        };
        let app = Router::new()
            .route("/v1/worker/claim", post(claim))
            .route("/v1/worker/heartbeat", post(heartbeat))
            .route("/v1/worker/tasks/{id}/result", post(result))
            .route(
                "/v1/worker/tasks/{id}/approval",
                post(|| async { StatusCode::OK }),
            )
            .with_state(fake);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone().cancelled_owned();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await
        });
        Self {
            url,
            script,
            shutdown,
        }
    }

    /// The base URL, as a worker is configured with it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// When each task was handed out, in order.
    pub fn handed_out(&self) -> Vec<Instant> {
        self.script.lock().unwrap().handed_out.clone()
    }

    /// A fake that never answers a claim: every long poll hangs as on a connection that
    /// died unseen (a Mac asleep, a proxy that stopped forwarding).
    pub async fn start_hanging() -> Self {
        let fake = Self::start(Vec::new(), Results::Acknowledged).await;
        fake.script.lock().unwrap().hang_claims = true;
        fake
    }

    /// When each claim arrived, in order.
    pub fn claims_at(&self) -> Vec<Instant> {
        self.script.lock().unwrap().claims_at.clone()
    }

    /// The `slots` of every claim so far.
    pub fn slots_asked(&self) -> Vec<u32> {
        self.script.lock().unwrap().slots_asked.clone()
    }

    /// Result posts received so far, retries included.
    pub fn result_posts(&self) -> usize {
        self.script.lock().unwrap().result_posts
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// One scripted task per claim; an empty answer after holding the poll when none is left
/// (or when the worker asks for no slot).
async fn claim(State(fake): State<Fake>, Json(request): Json<ClaimRequest>) -> Response {
    let hang = {
        let mut script = fake.script.lock().unwrap();
        script.claims_at.push(Instant::now());
        script.hang_claims
    };
    if hang {
        return std::future::pending().await;
    }
    let (next, padding) = {
        let mut script = fake.script.lock().unwrap();
        script.slots_asked.push(request.slots);
        let next = (request.slots > 0).then(|| script.tasks.pop()).flatten();
        let mut padding = 0;
        if next.is_some() {
            script.handed_out.push(Instant::now());
            padding = std::mem::take(&mut script.first_padding);
        }
        (next, padding)
    };
    let Some(spec) = next else {
        tokio::time::sleep(Duration::from_millis(request.wait_ms.min(2_000))).await;
        return Json(ClaimResponse { tasks: Vec::new() }).into_response();
    };
    let answer = ClaimResponse {
        tasks: vec![ClaimedTask {
            id: TaskId::new(),
            lease: LeaseId::new(),
            spec,
            timeout_ms: 10_000,
            lease_ttl_ms: 60_000,
            offer_ttl_ms: 10_000,
            created_at: 0,
        }],
    };
    let json = serde_json::to_string(&answer).unwrap();
    if padding == 0 {
        return Json(answer).into_response();
    }
    // Streamed without a length, as a hostile server would: the worker learns the size
    // only by reading.
    let chunk = axum::body::Bytes::from(vec![b' '; 1024 * 1024]);
    let pads = (0..padding.div_ceil(chunk.len())).map(move |_| chunk.clone());
    let parts = std::iter::once(axum::body::Bytes::from(json.into_bytes())).chain(pads);
    let stream = futures_util::stream::iter(parts.map(Ok::<_, std::io::Error>));
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}

/// Every lease stays active.
async fn heartbeat(Json(request): Json<HeartbeatRequest>) -> Json<HeartbeatResponse> {
    let leases = request
        .leases
        .iter()
        .map(|held| LeaseReport {
            task_id: held.task_id,
            state: LeaseState::Active,
            approval: None,
            accepts_late_result: false,
        })
        .collect();
    Json(HeartbeatResponse {
        leases,
        lease_ttl_ms: 60_000,
    })
}

async fn result(State(fake): State<Fake>, Path(_id): Path<String>) -> Response {
    fake.script.lock().unwrap().result_posts += 1;
    match fake.results {
        Results::Acknowledged => Json(ResultAck {
            duplicate: false,
            late: false,
        })
        .into_response(),
        Results::NeverAcknowledged => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}
