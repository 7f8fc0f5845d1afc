//! Live output: while a task runs, its worker sends what it printed so far, redacted, in
//! pieces (`POST /v1/worker/tasks/:id/output`), each placed by its byte offset in the
//! task's live text so a piece sent again after a lost answer is not shown twice.

use serde::{Deserialize, Serialize};

use crate::task::LeaseId;

/// Most bytes of text one piece carries; a worker that has more sends the newest part and
/// skips the rest (the final result holds the output's head and tail either way).
pub const MAX_OUTPUT_CHUNK_BYTES: usize = 64 * 1024;

/// `POST /v1/worker/tasks/:id/output`: the next piece of a running task's live output.
/// Accepted only under the task's current lease while it runs; it never touches the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputChunk {
    /// The worker's name, as in [`ClaimRequest::worker`](super::ClaimRequest::worker).
    pub worker: String,
    /// The worker's current lease on the task.
    pub lease: LeaseId,
    /// Where `text` starts in the task's live text, in bytes of UTF-8: the total length of
    /// the pieces sent before it (and of any the worker skipped).
    pub offset: u64,
    /// The text: stdout and stderr as they came, terminal controls stripped and secrets
    /// redacted on the Mac, at most [`MAX_OUTPUT_CHUNK_BYTES`].
    pub text: String,
}

/// The answer to an [`OutputChunk`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputAck {
    /// Where the server's copy of the live text ends now, in bytes: `offset` plus the
    /// text's length after a piece it took, more when it had the piece already.
    pub end: u64,
}
