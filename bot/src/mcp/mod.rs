//! The MCP adapter (for AI agents): the same tasks as the HTTP API, as MCP tools. Served over
//! streamable HTTP at `/mcp` on the bot's own listener, and over stdio by
//! `openclaw-bot mcp-stdio`, a thin client of the bot's HTTP API. A door like the others: it
//! turns tool calls into intake requests and reads tasks through the queue handle, and
//! imports neither the HTTP API nor Discord. Who may call `/mcp` (the client token) is
//! checked by the wiring before a request reaches it: see `api::router_with`.
//!
//! # Layout
//! - [`tools`]: the tools, their descriptions, and the server's instructions.
//! - [`params`]: the tools' parameters (their JSON schemas).
//! - [`backend`]: where tool calls go: [`local`] (the bot's intake and queue) or [`remote`]
//!   (the bot's HTTP API, for stdio); [`calls`]: what passes between tools and backends.
//! - [`report`]: a task in words and as structured content.
//! - [`stdio`]: `openclaw-bot mcp-stdio`.

pub mod backend;
pub mod calls;
pub mod local;
pub mod params;
pub mod remote;
pub mod report;
pub mod stdio;
pub mod tools;

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use openclaw_shared::{ErrorBody, ErrorCode};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::config::Config;
use crate::state::AppState;
use backend::Backend;
use local::Local;
use tools::OpenClawTools;

/// Where the MCP endpoint is mounted.
pub const PATH: &str = "/mcp";
/// Room for the JSON-RPC envelope and the small fields around a request's big one.
const ENVELOPE_BYTES: usize = 64 * 1024;
/// How often an open response stream gets a keep-alive comment, so proxies that drop idle
/// connections keep it (SSE is used only when a tool sends something before its answer).
const SSE_KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The `/mcp` routes, for the wiring to serve behind the client-token check. Stateless:
/// each POST is answered on its own (JSON, or a short event stream), so no session outlives
/// its request, nothing is kept per client, and every call fits within the bot's request
/// timeout (no tool waits longer than 60 s).
pub fn router(state: &AppState) -> Router<AppState> {
    let limit = body_limit(state.config());
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(Some(SSE_KEEP_ALIVE))
        .with_max_request_body_bytes(limit)
        .with_cancellation_token(state.stopping().child_token())
        // The `Host` check guards servers that trust any local caller; this one admits only
        // requests with the client token, which a DNS-rebinding page does not have, and it
        // is reached under whatever name the operator gave it (`http.public_url`).
        .disable_allowed_hosts();
    let tools_state = state.clone();
    let service = StreamableHttpService::new(
        move || {
            Ok(OpenClawTools::new(Backend::Local(Local::new(
                tools_state.clone(),
            ))))
        },
        LocalSessionManager::default().into(),
        config,
    );
    Router::new()
        .nest_service(PATH, service)
        .layer(middleware::from_fn_with_state(limit, limit_body))
}

/// Largest `/mcp` request body: the largest field a tool takes (file content, JSON-escaped
/// at worst twice its size; a prompt; a command) plus a path and the envelope, and never
/// more than `http.body_limit_bytes`.
pub fn body_limit(config: &Config) -> usize {
    let limits = &config.limits;
    let largest = limits
        .max_content_bytes
        .saturating_mul(2)
        .max(limits.max_prompt_bytes)
        .max(limits.max_command_bytes);
    largest
        .saturating_add(limits.max_path_bytes)
        .saturating_add(ENVELOPE_BYTES)
        .min(config.http.body_limit_bytes)
}

/// Only POST reaches rmcp (stateless: there is no event stream to GET and no session to
/// DELETE; our JSON 405 says so). Reads the body up to `limit` bytes; a larger one is refused
/// with our JSON 413 before any of it reaches rmcp.
async fn limit_body(State(limit): State<usize>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        let body = ErrorBody::new(
            ErrorCode::MethodNotAllowed,
            "/mcp takes POST only (stateless streamable HTTP: no event stream, no session)",
        );
        let allow = [(header::ALLOW, "POST")];
        return (StatusCode::METHOD_NOT_ALLOWED, allow, Json(body)).into_response();
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return too_large(limit);
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => too_large(limit),
    }
}

fn too_large(limit: usize) -> Response {
    let body = ErrorBody::new(
        ErrorCode::PayloadTooLarge,
        format!("request body is larger than the limit of /mcp ({limit} bytes)"),
    );
    (StatusCode::PAYLOAD_TOO_LARGE, Json(body)).into_response()
}
