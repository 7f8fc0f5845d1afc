//! `GET /metrics` (admin token): the bot's metrics for Prometheus, and the middleware that
//! counts every answered request by method, route template and status.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::AdminAuth;
use super::error::ApiError;
use crate::metrics::Metrics;
use crate::queue::Scope;
use crate::state::AppState;

/// The OpenMetrics text format, which Prometheus asks for and parses.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// `GET /metrics`: every metric, with the queue's depth and workers read now.
pub async fn scrape(_: AdminAuth, State(state): State<AppState>) -> Result<Response, ApiError> {
    let stats = state.queue().stats(&Scope::All).await?;
    let body = state.metrics().render(&stats);
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        body,
    )
        .into_response())
}

/// Counts the request once answered. The route template, not the path: ids stay out of
/// label values (and their number stays bounded).
pub async fn count(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "<unmatched>".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    metrics.request(method.as_str(), &route, response.status().as_u16());
    response
}
