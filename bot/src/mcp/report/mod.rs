//! What a tool says about a task: one neutral [`TaskReport`], built from the queue's task
//! (in the bot) or from the HTTP API's view (in `mcp-stdio`), rendered once as text for the
//! model and as structured JSON for programs. Approval waits are spelled out, with whose job
//! approving is, because an agent must not think it can (or should try to) approve.

use openclaw_shared::client::TaskView;
use openclaw_shared::{ContentEncoding, EpochMillis, TaskId, TaskKind, TaskStatus};
use rmcp::model::{CallToolResult, ContentBlock};
use serde::Serialize;
use serde_json::{json, Value};

use crate::queue::Task;

/// Most bytes of one output stream a tool result carries: a model reads a tool result
/// whole, and a megabyte of log would crowd out the conversation.
pub const MAX_SHOWN_BYTES: usize = 32 * 1024;
/// Of a cut stream, how much of its head is kept (the rest of the budget is its tail: the
/// end of a long log is what people read).
const HEAD_BYTES: usize = 4 * 1024;

/// A task as the MCP tools describe it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskReport {
    /// The task's id, for `get_task` and `cancel_task`.
    pub task_id: TaskId,
    /// What kind of task it is.
    pub kind: TaskKind,
    /// Where it stands: `pending` (queued), `running`, `awaiting_approval`, or a final one.
    pub status: String,
    /// Whether the status is final (nothing more will happen to the task).
    pub finished: bool,
    /// The worker that runs it, or the one it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// The Claude session, for a Claude task that named or was given one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// What the owner is asked to approve, while the task waits for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalWait>,
    /// The result, once finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<TaskResult>,
}

/// A task waiting for its owner's approval on the Mac.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalWait {
    /// The fingerprint the owner sees on the Mac and approves.
    pub fingerprint: String,
    /// What the worker will run, as it showed the owner (when known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// When the request lapses on the worker, in epoch milliseconds (when known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<EpochMillis>,
}

/// A finished task's result, with long output cut to [`MAX_SHOWN_BYTES`] per stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskResult {
    /// Standard output, or a read file's content.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// How `stdout` is encoded (`base64` for a binary file).
    pub encoding: ContentEncoding,
    /// The exit code, when a process exited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The signal that ended the process, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// Why it failed, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether the worker cut an output stream at its own cap.
    pub truncated_by_worker: bool,
    /// Bytes of output left out of this result (the whole output is at `GET /tasks/:id`).
    pub omitted_bytes: usize,
    /// Run time on the worker, in milliseconds.
    pub duration_ms: u64,
}

impl TaskReport {
    /// The report of a task as the queue holds it (the bot's own `/mcp`).
    pub fn from_task(task: &Task) -> TaskReport {
        let finished = task.status.is_terminal();
        let approval = match (task.status, &task.approval) {
            (TaskStatus::AwaitingApproval, Some(approval)) => Some(ApprovalWait {
                fingerprint: approval.fingerprint.clone(),
                summary: Some(approval.summary.clone()),
                expires_at: Some(approval.expires_at),
            }),
            _ => None,
        };
        let result = task.outcome.as_ref().filter(|_| finished).map(|outcome| {
            let (stdout, cut_out) = shown(&outcome.stdout);
            let (stderr, cut_err) = shown(&outcome.stderr);
            TaskResult {
                stdout,
                stderr,
                encoding: outcome.stdout_encoding,
                exit_code: outcome.exit_code,
                signal: outcome.signal,
                error: outcome.error.clone(),
                truncated_by_worker: outcome.stdout_truncated || outcome.stderr_truncated,
                omitted_bytes: cut_out + cut_err,
                duration_ms: outcome.duration_ms,
            }
        });
        TaskReport {
            task_id: task.id,
            kind: task.spec.kind(),
            status: status_word(task.status).to_owned(),
            finished,
            worker: task.worker.clone().or_else(|| task.target_worker.clone()),
            session_id: task.spec.session().map(|session| session.id.clone()),
            approval,
            result,
        }
    }

    /// The report of a task as `GET /tasks/:id` showed it (`raw` is the same body, read
    /// for an `approval` object the view type may not know yet). Awaiting approval is told
    /// by the fingerprint, whatever word the status uses for it.
    pub fn from_view(view: TaskView, raw: &Value) -> TaskReport {
        let status = view
            .status
            .parse::<TaskStatus>()
            .ok()
            .or_else(|| (view.status == "pending").then_some(TaskStatus::Queued));
        let finished = status.is_some_and(TaskStatus::is_terminal);
        let approval_raw = raw.get("approval");
        let fingerprint = view.fingerprint.clone().or_else(|| {
            approval_raw
                .and_then(|a| a.get("fingerprint"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        let approval = fingerprint
            .filter(|_| !finished)
            .map(|fingerprint| ApprovalWait {
                fingerprint,
                summary: view.message.as_deref().and_then(|message| {
                    message
                        .split_once(": ")
                        .map(|(_, summary)| summary.to_owned())
                }),
                expires_at: approval_raw
                    .and_then(|a| a.get("expiresAt"))
                    .and_then(Value::as_u64),
            });
        let status = match (&approval, status) {
            (Some(_), _) => "awaiting_approval".to_owned(),
            (None, Some(status)) => status_word(status).to_owned(),
            (None, None) => view.status.clone(),
        };
        let result = finished.then(|| {
            let (stdout, cut_out) = shown(view.stdout.as_deref().unwrap_or(""));
            let (stderr, cut_err) = shown(view.stderr.as_deref().unwrap_or(""));
            TaskResult {
                stdout,
                stderr,
                encoding: view.encoding.unwrap_or_default(),
                exit_code: view.exit_code.flatten(),
                signal: view.signal,
                error: view.error.clone().flatten(),
                truncated_by_worker: view.stdout_truncated.unwrap_or(false)
                    || view.stderr_truncated.unwrap_or(false),
                omitted_bytes: cut_out + cut_err,
                duration_ms: view.duration_ms.unwrap_or(0),
            }
        });
        TaskReport {
            task_id: view.task_id,
            kind: view.kind,
            status,
            finished,
            worker: view.worker,
            session_id: None,
            approval,
            result,
        }
    }

    /// Whether the task waits for the owner's approval.
    pub fn awaits_approval(&self) -> bool {
        self.approval.is_some()
    }

    /// The tool result: the text a model reads, and the report as structured content.
    pub fn into_result(self, waited_secs: Option<u64>) -> CallToolResult {
        let text = self.text(waited_secs);
        let structured = serde_json::to_value(&self).unwrap_or(Value::Null);
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(structured);
        result
    }

    /// The report in words. `waited_secs`: how long the tool waited, for an unfinished task.
    pub fn text(&self, waited_secs: Option<u64>) -> String {
        let id = self.task_id;
        let mut text = format!("Task {id} ({}) is {}.", self.kind.as_str(), self.status);
        if let Some(worker) = &self.worker {
            text.push_str(&format!(" Worker: {worker}."));
        }
        if let Some(session) = &self.session_id {
            text.push_str(&format!(
                " Claude session: {session} (pass it as session_id to continue this conversation)."
            ));
        }
        if let Some(approval) = &self.approval {
            text.push_str(&approval_text(approval));
            text.push_str(&format!(
                "\nTo follow it, call get_task with task_id {id} and wait_seconds up to 60; \
                 to drop it, call cancel_task."
            ));
            return text;
        }
        let Some(result) = &self.result else {
            if !self.finished {
                let waited = waited_secs
                    .filter(|secs| *secs > 0)
                    .map(|secs| format!("after waiting {secs} s "))
                    .unwrap_or_default();
                text.push_str(&format!(
                    " It has no result yet {waited}(the Mac's worker may be busy, offline, or \
                     the task may still be running).\nTo follow it, call get_task with task_id \
                     {id} and wait_seconds up to 60; to stop it, call cancel_task."
                ));
            }
            return text;
        };
        match result.exit_code {
            Some(code) => text.push_str(&format!(" Exit code: {code}.")),
            None => text.push_str(" No process exit code."),
        }
        if let Some(signal) = result.signal {
            text.push_str(&format!(" Ended by signal {signal}."));
        }
        if let Some(error) = &result.error {
            text.push_str(&format!(" Error: {error}"));
        }
        text.push_str(&format!(" Ran {} ms.", result.duration_ms));
        if result.encoding == ContentEncoding::Base64 {
            text.push_str(" stdout is base64 (binary content).");
        }
        if result.truncated_by_worker {
            text.push_str(" The worker cut the output at its size cap.");
        }
        if result.omitted_bytes > 0 {
            text.push_str(&format!(
                " {} bytes of output are left out here (the middle of long output); the \
                 whole output is at GET /tasks/{id} on the bot's HTTP API.",
                result.omitted_bytes
            ));
        }
        if !result.stdout.is_empty() {
            text.push_str(&format!("\n--- stdout ---\n{}", result.stdout));
        }
        if !result.stderr.is_empty() {
            text.push_str(&format!("\n--- stderr ---\n{}", result.stderr));
        }
        text
    }
}

/// The plain words for an approval wait: what, which fingerprint, until when, and whose
/// job it is (never the agent's: there is no tool for it).
fn approval_text(approval: &ApprovalWait) -> String {
    let mut text = format!(
        "\nIt WAITS FOR THE OWNER'S APPROVAL on their Mac (fingerprint {}).",
        approval.fingerprint
    );
    if let Some(summary) = &approval.summary {
        text.push_str(&format!(" The worker will run: {summary}."));
    }
    match approval.expires_at {
        Some(expires) => text.push_str(&format!(
            " The request expires {} (epoch ms {expires}); then the task ends denied.",
            from_now(expires)
        )),
        None => text.push_str(
            " If the owner does not answer in time, the request lapses and the task ends denied.",
        ),
    }
    text.push_str(
        " Approving is the owner's job, on the Mac or in Discord with their authenticator \
         code; you cannot approve it. Tell the user it waits for their approval and the \
         fingerprint.",
    );
    text
}

/// How far `epoch_ms` is from now, in words ("in about 4 min", "already").
fn from_now(epoch_ms: EpochMillis) -> String {
    let now = crate::queue::now_millis();
    if epoch_ms <= now {
        return "already passed".to_owned();
    }
    let secs = (epoch_ms - now).div_ceil(1000);
    if secs < 120 {
        format!("in about {secs} s")
    } else {
        format!("in about {} min", secs.div_ceil(60))
    }
}

/// The status word: the client API's `pending` for queued, the status name otherwise.
fn status_word(status: TaskStatus) -> &'static str {
    openclaw_shared::client::client_status(status)
}

/// `output` cut to [`MAX_SHOWN_BYTES`] (head and tail, at character boundaries), and how
/// many bytes were left out.
pub fn shown(output: &str) -> (String, usize) {
    if output.len() <= MAX_SHOWN_BYTES {
        return (output.to_owned(), 0);
    }
    let head_end = floor_char(output, HEAD_BYTES);
    let tail_start = ceil_char(output, output.len() - (MAX_SHOWN_BYTES - HEAD_BYTES));
    let omitted = tail_start - head_end;
    let text = format!(
        "{}\n[… {omitted} bytes left out …]\n{}",
        &output[..head_end],
        &output[tail_start..]
    );
    (text, omitted)
}

fn floor_char(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_char(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// A tool error's structured content: our stable code, and the field and problem when a
/// field was refused.
pub fn error_json(code: &str, message: &str, field: Option<&str>) -> Value {
    let mut value = json!({ "code": code, "error": message });
    if let Some(field) = field {
        value["field"] = Value::from(field);
    }
    value
}

#[cfg(test)]
mod tests;
