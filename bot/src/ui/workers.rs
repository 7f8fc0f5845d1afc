//! The workers page: who is live, when each was last heard from, what each runs, and the
//! sandbox each says its tasks run in.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::layout::{page, time};
use super::session::LoggedIn;
use super::{server_error, UiState};
use crate::queue::Scope;

/// `GET /ui/workers`.
pub async fn list(State(state): State<UiState>, me: LoggedIn) -> Response {
    let stats = match state.app.queue().stats(&Scope::All).await {
        Ok(stats) => stats,
        Err(err) => return server_error(&err),
    };
    let body = html! {
        h1 { "Workers" }
        @if stats.workers.is_empty() {
            p.empty { "No worker has been heard from recently." }
        } @else {
            table.workers {
                thead { tr { th { "Worker" } th { "Online" } th { "Last seen" } th { "Running" } th { "Sandbox" } th { "Token" } } }
                tbody {
                    @for w in &stats.workers {
                        tr {
                            td { code { (w.name) } }
                            td { span.badge.succeeded { "online" } }
                            td { (time(w.last_seen)) }
                            td { (w.running) }
                            td {
                                @match &w.sandbox {
                                    Some(s) if s.enforced => { span.badge.succeeded { "enforced" } " " (s.detail) }
                                    Some(s) => { span.badge.failed { "not enforced" } " " (s.detail) }
                                    None => { span.muted { "not reported" } }
                                }
                            }
                            td { (w.token.as_deref().unwrap_or("—")) @if w.shared { " (shared)" } }
                        }
                    }
                }
            }
        }
        p.muted { "A worker not heard from for queue.worker_expiry_secs is forgotten (offline)." }
    };
    page(
        "Workers",
        "/ui/workers",
        &me.session.csrf,
        Some("workers"),
        body,
    )
    .into_response()
}
