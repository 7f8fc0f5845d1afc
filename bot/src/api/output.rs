//! Live output over HTTP. The worker posts a running task's pieces
//! (`POST /v1/worker/tasks/:id/output`, under the task's lease); clients read them with
//! `GET /tasks/:id/output`: as JSON, the tail the bot holds now; with `?follow=1`, a
//! Server-Sent Events stream of new pieces (`event: output`, `id:` the byte offset where
//! the text so far ends, so `Last-Event-ID` resumes without repeats), closed by one
//! `event: end` with the final status. Scoped like `GET /tasks/:id`.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::stream;
use openclaw_shared::client::{
    client_status, OutputEnd, OutputPiece, TaskOutputView, END_EVENT, OUTPUT_EVENT,
};
use openclaw_shared::worker::{OutputAck, OutputChunk, MAX_OUTPUT_CHUNK_BYTES};
use openclaw_shared::TaskId;
use serde::Deserialize;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::auth::{ReaderAuth, WorkerAuth};
use super::error::ApiError;
use super::extract::{AppJson, AppQuery, TaskIdPath};
use super::tasks::visible;
use crate::intake::fields;
use crate::queue::{Queue, Task};
use crate::state::AppState;

/// How often a followed stream with nothing new sends a comment, so proxies and clients
/// can tell a quiet task from a dead connection.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// `POST /v1/worker/tasks/:id/output`: the next piece of a running task's live output. Only
/// from the worker holding the task under its current lease while it runs (404/403/409
/// otherwise, changing nothing); it never touches the result.
pub async fn append(
    auth: WorkerAuth,
    State(state): State<AppState>,
    TaskIdPath(id): TaskIdPath,
    AppJson(chunk): AppJson<OutputChunk>,
) -> Result<Json<OutputAck>, ApiError> {
    fields::own_worker_name(&chunk.worker)?;
    auth.act_as(&chunk.worker)?;
    if chunk.text.len() > MAX_OUTPUT_CHUNK_BYTES {
        return Err(ApiError::InvalidField(format!(
            "text must be at most {MAX_OUTPUT_CHUNK_BYTES} bytes"
        )));
    }
    let end = state
        .queue()
        .append_output(id, &chunk.worker, chunk.lease, chunk.offset, &chunk.text)
        .await?;
    Ok(Json(OutputAck { end }))
}

/// Query of `GET /tasks/:id/output`, as text so a malformed value gets our error.
#[derive(Debug, Deserialize)]
pub struct OutputQuery {
    follow: Option<String>,
}

/// `GET /tasks/:id/output[?follow=1]`: the live tail as JSON, or followed as SSE.
pub async fn read(
    auth: ReaderAuth,
    State(state): State<AppState>,
    TaskIdPath(id): TaskIdPath,
    AppQuery(query): AppQuery<OutputQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let follow = match query.follow.as_deref().map(str::trim) {
        None | Some("" | "0" | "false") => false,
        Some("1" | "true") => true,
        Some(other) => {
            return Err(ApiError::InvalidField(format!(
                "follow must be 1 or 0, got {other:?}"
            )))
        }
    };
    let task = visible(&state, &auth.scope(), id).await?;
    if !follow {
        return Ok(Json(snapshot(state.queue(), &task)).into_response());
    }
    let from = match headers.get("last-event-id").map(HeaderValue::to_str) {
        None => 0,
        Some(Ok(raw)) => raw.trim().parse::<u64>().map_err(|_| {
            ApiError::InvalidField(format!("Last-Event-ID must be a byte offset, got {raw:?}"))
        })?,
        Some(Err(_)) => {
            return Err(ApiError::InvalidField(
                "Last-Event-ID must be a byte offset".into(),
            ))
        }
    };
    // A task that has ended gets no tail made for it: what is left is sent, then the end.
    let changes = if task.status.is_terminal() {
        watch::channel(0).1
    } else {
        state.queue().watch_output(id)
    };
    let follower = Follower {
        queue: state.queue().clone(),
        id,
        from,
        changes,
        rewatch: false,
        stopping: state.stopping().clone(),
        done: false,
    };
    let events = stream::unfold(follower, |mut follower| async move {
        let event = follower.next().await?;
        Some((Ok::<_, Infallible>(event), follower))
    });
    let mut response = Body::from_stream(events).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Reverse proxies (nginx) would otherwise hold the events back in a buffer.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// What `GET /tasks/:id/output` shows without `follow`.
fn snapshot(queue: &Queue, task: &Task) -> TaskOutputView {
    let status = client_status(task.status).to_owned();
    if task.status.is_terminal() {
        let keep = queue.settings().live.tail_bytes;
        let text = task
            .outcome
            .as_ref()
            .map(|outcome| ending(&format!("{}{}", outcome.stdout, outcome.stderr), keep))
            .unwrap_or_default();
        return TaskOutputView {
            task_id: task.id,
            status,
            finished: true,
            start: 0,
            end: 0,
            text,
        };
    }
    let slice = queue.live_output(task.id, 0);
    TaskOutputView {
        task_id: task.id,
        status,
        finished: false,
        start: slice.as_ref().map_or(0, |s| s.start),
        end: slice.as_ref().map_or(0, |s| s.end),
        text: slice.map(|s| s.text).unwrap_or_default(),
    }
}

/// The last `keep` bytes of `text`, from a character boundary.
fn ending(text: &str, keep: usize) -> String {
    let mut start = text.len().saturating_sub(keep);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_owned()
}

/// One client following a task's live output.
struct Follower {
    queue: Queue,
    id: TaskId,
    /// Where the text the client has seen ends.
    from: u64,
    changes: watch::Receiver<u64>,
    /// The tail was dropped: watch anew, if the task still runs.
    rewatch: bool,
    stopping: CancellationToken,
    done: bool,
}

impl Follower {
    /// The next event to send; `None` ends the stream (after the end event, or when the
    /// bot stops).
    async fn next(&mut self) -> Option<String> {
        loop {
            if self.done {
                return None;
            }
            if let Some(slice) = self.queue.live_output(self.id, self.from) {
                if slice.end > self.from {
                    self.from = slice.end;
                    let piece = OutputPiece {
                        offset: slice.start,
                        text: slice.text,
                    };
                    return Some(event(OUTPUT_EVENT, Some(slice.end), &piece));
                }
            }
            match self.queue.get(self.id).await {
                Ok(task) if task.status.is_terminal() => {
                    self.done = true;
                    let end = OutputEnd {
                        task_id: self.id,
                        status: client_status(task.status).to_owned(),
                        exit_code: task.outcome.as_ref().and_then(|o| o.exit_code),
                    };
                    return Some(event(END_EVENT, None, &end));
                }
                Ok(_) if self.rewatch => {
                    self.rewatch = false;
                    self.changes = self.queue.watch_output(self.id);
                }
                Ok(_) => {}
                // Try again at the next change or keepalive; the client still has its place.
                Err(error) => {
                    tracing::debug!(task_id = %self.id, %error, "cannot read a followed task")
                }
            }
            tokio::select! {
                changed = self.changes.changed() => {
                    if changed.is_err() {
                        // The tail was dropped (its task ended, or room was needed).
                        self.rewatch = true;
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                () = tokio::time::sleep(KEEPALIVE) => return Some(": keepalive\n\n".to_owned()),
                () = self.stopping.cancelled() => return None,
            }
        }
    }
}

/// One SSE event: its name, its id (when it has one) and its data as one JSON line.
fn event(name: &str, id: Option<u64>, data: &impl serde::Serialize) -> String {
    let data = serde_json::to_string(data).unwrap_or_else(|_| "{}".to_owned());
    match id {
        Some(id) => format!("event: {name}\nid: {id}\ndata: {data}\n\n"),
        None => format!("event: {name}\ndata: {data}\n\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_one_data_line_whatever_the_text_holds() {
        let piece = OutputPiece {
            offset: 3,
            text: "a\nb\r\n\ndata: forged\n\n".into(),
        };

        let sent = event(OUTPUT_EVENT, Some(22), &piece);

        assert_eq!(sent.matches("\n\n").count(), 1);
        assert!(sent.starts_with("event: output\nid: 22\ndata: {"));
        assert_eq!(sent.lines().filter(|l| l.starts_with("data:")).count(), 1);
    }

    #[test]
    fn the_ending_of_a_text_starts_on_a_character() {
        assert_eq!(ending("aéb", 2), "b");
        assert_eq!(ending("aéb", 3), "éb");
    }
}
