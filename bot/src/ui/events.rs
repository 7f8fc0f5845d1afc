//! Live updates: `GET /ui/events`, a server-sent event stream of task changes (`task`, with
//! the task's id and what happened) that `ui.js` turns into a refresh of the page's
//! `<main>`. It ends when the bot stops, so it never holds up a graceful shutdown.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;

use super::session::LoggedIn;
use super::UiState;
use crate::queue::TaskEvent;

/// How often an idle stream sends a comment, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// `GET /ui/events`.
pub async fn stream(
    State(state): State<UiState>,
    _me: LoggedIn,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let events = state.app.queue().subscribe();
    let stop = state.app.stopping().clone();
    let stream = stream::unfold((events, stop), |(mut events, stop)| async move {
        let data = tokio::select! {
            () = stop.cancelled() => return None,
            event = events.recv() => match event {
                Ok(event) => serde_json::json!({
                    "id": event.task_id().to_string(),
                    "change": change(&event),
                }),
                // Missed some: "something changed" makes every page refresh.
                Err(RecvError::Lagged(_)) => serde_json::json!({ "id": null, "change": "lagged" }),
                Err(RecvError::Closed) => return None,
            },
        };
        let event = Event::default().event("task").data(data.to_string());
        Some((Ok(event), (events, stop)))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

fn change(event: &TaskEvent) -> &'static str {
    match event {
        TaskEvent::Queued { .. } => "queued",
        TaskEvent::Claimed { .. } => "running",
        TaskEvent::AwaitingApproval { .. } => "awaiting_approval",
        TaskEvent::ApprovalRejected { .. } => "approval_rejected",
        TaskEvent::Finished { .. } => "finished",
    }
}
