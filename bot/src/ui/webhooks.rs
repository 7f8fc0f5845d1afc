//! The webhook deliveries page: each message, where it went, its attempts and last answer,
//! and a redeliver form (CSRF token required).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};

use super::layout::{maybe_time, page, time};
use super::session::LoggedIn;
use super::{forbidden, server_error, CsrfForm, UiState};
use crate::queue::{now_millis, WebhookDelivery, WebhookState};

/// Most messages the page shows.
const SHOWN: usize = 100;

/// `GET /ui/webhooks`.
pub async fn list(State(state): State<UiState>, me: LoggedIn) -> Response {
    let queue = state.app.queue();
    let (deliveries, counts) = match tokio::try_join!(
        queue.webhook_deliveries(None, SHOWN),
        queue.webhook_counts()
    ) {
        Ok(found) => found,
        Err(err) => return server_error(&err),
    };
    let body = html! {
        h1 { "Webhooks" }
        section.depth {
            span.depth-item { "pending " strong { (counts.pending) } }
            span.depth-item { "delivered " strong { (counts.delivered) } }
            span.depth-item { "failed " strong { (counts.failed) } }
        }
        @if deliveries.is_empty() {
            p.empty { "No webhook messages yet. Configure endpoints in [[webhooks]]." }
        } @else {
            (table(&deliveries, &me.session.csrf))
        }
    };
    page(
        "Webhooks",
        "/ui/webhooks",
        &me.session.csrf,
        Some("webhooks"),
        body,
    )
    .into_response()
}

/// The deliveries as a table, each with a redeliver form.
pub fn table(deliveries: &[WebhookDelivery], csrf: &str) -> Markup {
    html! {
        table.webhooks {
            thead { tr { th { "Event" } th { "To" } th { "State" } th { "Attempts" } th { "Last" } th { "" } } }
            tbody {
                @for d in deliveries {
                    tr {
                        td {
                            (d.event)
                            @if let Some(task) = d.task_id { br; a href={ "/ui/tasks/" (task) } { "task" } }
                            br; code.muted { (d.id) }
                        }
                        td.url { code { (d.url) } br; span.muted { (d.target.as_str()) } }
                        td { span class={ "badge " (state_class(d.state)) } { (d.state.as_str()) } }
                        td { (d.attempts) }
                        td {
                            (maybe_time(d.last_attempt_at))
                            @if let Some(status) = d.last_status { br; "HTTP " (status) }
                            @if let Some(error) = &d.last_error { br; span.error { (error) } }
                            @if d.state == WebhookState::Pending { br; "next " (time(d.next_attempt_at)) }
                        }
                        td {
                            form method="post" action={ "/ui/webhooks/" (d.id) "/redeliver" } {
                                input type="hidden" name="csrf" value=(csrf);
                                button type="submit" { "Redeliver" }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn state_class(state: WebhookState) -> &'static str {
    match state {
        WebhookState::Pending => "queued",
        WebhookState::Delivered => "succeeded",
        WebhookState::Failed => "failed",
    }
}

/// `POST /ui/webhooks/{id}/redeliver` (CSRF token required).
pub async fn redeliver(
    State(state): State<UiState>,
    me: LoggedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !me.csrf_matches(&form.csrf) {
        return forbidden();
    }
    match state
        .app
        .queue()
        .redeliver_webhook(id.clone(), now_millis())
        .await
    {
        Ok(true) => {
            tracing::info!(webhook_id = %id, "webhook redelivery requested from /ui");
            Redirect::to("/ui/webhooks").into_response()
        }
        Ok(false) => axum::http::StatusCode::NOT_FOUND.into_response(),
        Err(err) => server_error(&err),
    }
}
