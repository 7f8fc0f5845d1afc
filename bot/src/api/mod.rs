//! The HTTP API: a thin axum adapter over the queue. Client routes in the original OpenClaw
//! Worker's shape, the worker protocol under `/v1/worker`, health checks; every error is
//! JSON (`{"error", "code"}`), never HTML.
//!
//! # Layout
//! - [`auth`]: bearer tokens, one role per route group.
//! - [`error`]: `ApiError` → status + code + log level, in one match.
//! - [`extract`]: JSON/query/path extractors that reject with `ApiError`.
//! - [`ratelimit`]: per client IP (before auth), per token (after), failed-auth lockouts.
//! - `tasks`, `agents`, `schedules`, `worker`, `output`, `approvals`, `attachments`, `health`: the handlers; `view`: their pure helper (field rules live in [`crate::intake`]).

mod agents;
mod approvals;
mod attachments;
pub mod auth;
pub mod error;
pub mod extract;
mod health;
mod metrics;
mod output;
pub mod ratelimit;
mod schedules;
mod serve;
mod tasks;
mod view;
mod worker;

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::Uri;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use openclaw_shared::worker::{MAX_ATTACHMENT_BYTES, MAX_OUTPUT_CHUNK_BYTES, WORKER_API_PREFIX};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use serve::{serve, ConnectionPolicy};

use crate::state::AppState;
use ratelimit::RateLimits;

/// Body limit of routes whose requests are small by nature (claims, heartbeats, approvals,
/// cancels), and the room left for JSON around the big field of the others.
const SMALL_BODY_BYTES: usize = 64 * 1024;

/// The whole API as a router, for `App::run` and for tests that drive it directly. Rate
/// limits need the peer address: serve it with `into_make_service_with_connect_info`.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// [`router`] with the routes of other doors (the MCP endpoint) served beside the API's, for
/// the client token only: a request without it is refused here (401/403, our JSON error,
/// counted against the token's rate limit) and never reaches the door. The doors share the
/// API's connection caps, rate limits, request timeout, metrics and logs; each sets its own
/// body limit.
pub fn router_with(state: AppState, doors: Router<AppState>) -> Router {
    let body_limit = state.config().http.body_limit_bytes;
    let request_timeout = Duration::from_secs(state.config().http.request_timeout_secs);
    let limits = RateLimits::from_config(&state.config().rate_limit).map(Arc::new);
    let worker = |path: &str| format!("{WORKER_API_PREFIX}{path}");
    // Each route takes the body its largest valid request needs, not the global limit: a
    // heartbeat never needs 32 MiB, and a flood of large bodies is refused after headers.
    let small = DefaultBodyLimit::max(SMALL_BODY_BYTES);
    let fields = &state.config().limits;
    let command_body =
        DefaultBodyLimit::max(fields.max_command_bytes + fields.max_path_bytes + SMALL_BODY_BYTES);
    let prompt_body =
        DefaultBodyLimit::max(fields.max_prompt_bytes + fields.max_path_bytes + SMALL_BODY_BYTES);
    let upload_body = DefaultBodyLimit::max(MAX_ATTACHMENT_BYTES + SMALL_BODY_BYTES);
    // A piece's text may be all escapes in JSON (`\u0000`: 6 bytes each).
    let output_body = DefaultBodyLimit::max(6 * MAX_OUTPUT_CHUNK_BYTES + SMALL_BODY_BYTES);
    let routes = Router::new()
        .route(
            "/tasks",
            post(tasks::create_command)
                .layer(command_body)
                .get(tasks::list),
        )
        .route("/tasks/{id}", get(tasks::get))
        .route("/tasks/{id}/cancel", post(tasks::cancel).layer(small))
        .route("/tasks/{id}/output", get(output::read))
        .route("/tasks/{id}/attachments/{name}", get(attachments::download))
        .route("/tasks/{id}/approve", post(approvals::approve).layer(small))
        .route("/tasks/{id}/deny", post(approvals::deny).layer(small))
        .route(
            "/files/read",
            post(tasks::create_file_read).layer(command_body),
        )
        .route("/files/write", post(tasks::create_file_write))
        .route("/files/edit", post(tasks::create_file_edit))
        .route("/claude", post(agents::create_claude).layer(prompt_body))
        .route("/claude/recent", get(agents::recent_claude))
        .route(
            "/agents/{name}",
            post(agents::create_agent).layer(prompt_body),
        )
        .route("/agents/{name}/recent", get(agents::recent_agent))
        .route("/codex", post(agents::create_codex).layer(prompt_body))
        .route("/gemini", post(agents::create_gemini).layer(prompt_body))
        .route(&worker("/claim"), post(worker::claim).layer(small))
        .route(&worker("/heartbeat"), post(worker::heartbeat).layer(small))
        .route(&worker("/tasks/{id}/result"), post(worker::report))
        .route(
            &worker("/tasks/{id}/output"),
            post(output::append).layer(output_body),
        )
        .route(
            &worker("/tasks/{id}/approval"),
            post(approvals::update).layer(small),
        )
        .route(
            &worker("/tasks/{id}/attachments/{name}"),
            put(attachments::upload).layer(upload_body),
        )
        .route("/schedules", post(schedules::create).get(schedules::list))
        .route(
            "/schedules/{id}",
            get(schedules::get).delete(schedules::delete),
        )
        .route("/schedules/{id}/pause", post(schedules::pause).layer(small))
        .route(
            "/schedules/{id}/resume",
            post(schedules::resume).layer(small),
        )
        .route("/health", get(health::public))
        .route("/admin/health", get(health::admin))
        .route("/metrics", get(metrics::scrape))
        .merge(doors.route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::client_only,
        )))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(
            request_timeout,
            time_limited,
        ));
    // Outside the timeout and body limit: a refused request costs a map lookup, no more.
    let routes = match limits {
        Some(limits) => routes.layer(middleware::from_fn_with_state(limits, ratelimit::limit)),
        None => routes,
    };
    // Outermost of the counted layers: refusals by the rate limiter are counted too.
    let routes = routes.layer(middleware::from_fn_with_state(
        state.metrics().clone(),
        metrics::count,
    ));
    routes
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            // The route template, not the URI: ids stay out of span names and the
            // query string (which may carry anything) stays out of logs.
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map_or("<unmatched>", MatchedPath::as_str);
            tracing::info_span!("request", method = %req.method(), route)
        }))
        .with_state(state)
}

async fn route_not_found(uri: Uri) -> ApiError {
    ApiError::RouteNotFound(uri.path().to_owned())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Ends a request that runs past `limit` with a JSON 503, so a stuck handler cannot hold a
/// connection (or the graceful shutdown) forever.
async fn time_limited(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

/// A panicking handler is a bug; the client gets a JSON 500 and the log gets the message.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into());
    ApiError::Panic(message).into_response()
}
