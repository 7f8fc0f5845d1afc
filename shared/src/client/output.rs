//! `GET /tasks/:id/output`: a task's live output. As JSON, the tail the server holds now;
//! with `?follow=1`, a Server-Sent Events stream: `event: output` per new piece (its `id:`
//! is the byte offset where the text seen so far ends, so a client that reconnects with
//! `Last-Event-ID` gets only what it has not seen), then one `event: end` with the final
//! status.

use serde::{Deserialize, Serialize};

use crate::task::TaskId;

/// The SSE event name of a piece of output.
pub const OUTPUT_EVENT: &str = "output";
/// The SSE event name of the end of a task.
pub const END_EVENT: &str = "end";

/// `GET /tasks/:id/output` without `follow`: what the server holds of the task's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskOutputView {
    /// The task (JSON `taskId`).
    pub task_id: TaskId,
    /// Its status, as in `GET /tasks/:id`.
    pub status: String,
    /// Whether the task has ended: `text` is then the end of its final output (stdout,
    /// then stderr), and `start`/`end` are 0.
    pub finished: bool,
    /// Where `text` starts in the live text, in bytes (earlier text was dropped: the
    /// server keeps a bounded tail).
    pub start: u64,
    /// Where the live text ends, in bytes: `Last-Event-ID` to follow on from here.
    pub end: u64,
    /// The text: redacted on the Mac, terminal controls stripped.
    pub text: String,
}

/// The data of an `event: output`: one new piece of the live text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputPiece {
    /// Where `text` starts in the live text, in bytes; more than the previous piece's end
    /// when text was dropped in between (the server keeps a bounded tail).
    pub offset: u64,
    /// The text.
    pub text: String,
}

/// The data of the `event: end` that closes a followed task's stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputEnd {
    /// The task (JSON `taskId`).
    pub task_id: TaskId,
    /// Its final status, as in `GET /tasks/:id`.
    pub status: String,
    /// The process's exit code, when it ran (JSON `exitCode`).
    pub exit_code: Option<i32>,
}
