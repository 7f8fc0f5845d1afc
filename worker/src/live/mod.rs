//! Live output: while a supervised task runs, its output goes to the server in throttled
//! pieces, so Discord and API clients can watch a long task work. The supervisor appends
//! each stream to a live file in the task's spool directory ([`files`]); the worker reads
//! what is new once per `live_output_interval_ms`, redacts it with the same redactor as the
//! result (piece by piece, across pieces: [`LiveRedactor`]) and posts it under the task's
//! lease, placed by its byte offset in the live text. A piece whose answer was lost is sent
//! again at the same offset, so the server never shows it twice; one the server refuses
//! (lease gone, task ended) stops the sender. The final result is sent as before and always
//! wins: live output is a view, never the outcome.
//!
//! # Layout
//! - this file: [`send_live_output`], the sender.
//! - [`files`]: the live files, both ends.

pub mod files;

use std::sync::Arc;
use std::time::Duration;

use openclaw_shared::worker::MAX_OUTPUT_CHUNK_BYTES;
use openclaw_shared::{LeaseId, TaskId};
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::client::{ApiClient, FailureKind};
use crate::redact::stream::LiveRedactor;
use crate::redact::Redactor;
use crate::spool::TaskSpool;
use files::LiveFile;

/// Longest the final piece may take once the task ended, so a slow server cannot hold the
/// task's result back.
pub const FINAL_PIECE_TIMEOUT: Duration = Duration::from_secs(5);

/// Which task's live output to send, and how.
#[derive(Debug, Clone)]
pub struct LiveTask {
    /// The server.
    pub client: ApiClient,
    /// This worker's name.
    pub worker: String,
    /// The task.
    pub id: TaskId,
    /// Its lease.
    pub lease: LeaseId,
    /// The same redactor as the result's.
    pub redactor: Arc<Redactor>,
    /// Time between pieces.
    pub interval: Duration,
}

/// Sends the task's live output from its spool's live files, one piece per `interval` at
/// most, until `done` fires (the process ended); then sends what is left and returns the
/// bytes of text the server took. A task that ends within its first interval sends
/// nothing: its result, sent next, holds it all, and the result's path stays one request.
pub async fn send_live_output(task: LiveTask, spool: &TaskSpool, done: CancellationToken) -> u64 {
    let mut readers = spool.live_files().map(LiveFile::new);
    let mut redactors = [LiveRedactor::new(), LiveRedactor::new()];
    let mut offset = 0u64;
    let mut unsent = String::new();
    loop {
        tokio::select! {
            () = tokio::time::sleep(task.interval) => {}
            () = done.cancelled() => {}
        }
        let finished = done.is_cancelled();
        if finished && offset == 0 && unsent.is_empty() {
            return 0;
        }
        for (reader, live) in readers.iter_mut().zip(&mut redactors) {
            let new = match reader.read_new() {
                Ok(new) => new,
                Err(error) => {
                    debug!(task_id = %task.id, %error, "cannot read live output; live output stops");
                    return offset;
                }
            };
            if new.skipped > 0 {
                live.skip();
                unsent.push_str(&format!("\n… {} bytes skipped …\n", new.skipped));
            }
            live.push(&new.bytes);
            let (text, _) = live.take(&task.redactor, finished);
            unsent.push_str(&text);
        }
        offset += drop_oldest(&mut unsent, MAX_OUTPUT_CHUNK_BYTES);
        if !unsent.is_empty() {
            let sent = if finished {
                tokio::time::timeout(FINAL_PIECE_TIMEOUT, send(&task, offset, &unsent))
                    .await
                    .unwrap_or(Ok(false))
            } else {
                send(&task, offset, &unsent).await
            };
            match sent {
                Ok(true) => {
                    offset += unsent.len() as u64;
                    unsent.clear();
                }
                // Not heard: the same piece goes again, at the same offset.
                Ok(false) => {}
                Err(()) => return offset,
            }
        }
        if finished {
            return offset;
        }
    }
}

/// Posts one piece. `Ok(true)`: taken; `Ok(false)`: not heard (send it again); `Err`: the
/// server refused it for good (lease gone, task ended, live output off).
async fn send(task: &LiveTask, offset: u64, text: &str) -> Result<bool, ()> {
    match task
        .client
        .send_output(&task.worker, task.id, task.lease, offset, text)
        .await
    {
        Ok(_) => Ok(true),
        Err(error) => match error.kind() {
            FailureKind::Transient => Ok(false),
            FailureKind::Unauthorized | FailureKind::Rejected => {
                debug!(task_id = %task.id, %error, "live output refused; it stops");
                Err(())
            }
        },
    }
}

/// Drops the oldest of `text` so it fits `limit` bytes (cut at a character boundary), and
/// returns how many bytes went.
fn drop_oldest(text: &mut String, limit: usize) -> u64 {
    if text.len() <= limit {
        return 0;
    }
    let mut cut = text.len() - limit;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    text.drain(..cut);
    cut as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_oldest_keeps_the_newest_whole_characters() {
        let mut text = "éééé".to_owned();

        let dropped = drop_oldest(&mut text, 5);

        assert_eq!(text, "éé");
        assert_eq!(dropped, 4);
    }
}
