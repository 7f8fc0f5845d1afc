//! Pure functions from a task to Discord message text and files, so the formatting is pinned
//! by unit tests without Discord: progress lines, the result message (header, output in a
//! code block within the 2,000-character limit, attachments), and the `/status` and `/tasks`
//! listings (in [`lists`]).

pub mod cut;
pub mod file_name;
pub mod lists;
pub mod text;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use openclaw_shared::{ContentEncoding, TaskOutcome, TaskSpec, TaskStatus};

pub use file_name::attachment_name;

use crate::queue::Task;
use cut::omission;
use text::{chars, code_block, escape_fences, inline_code, CODE_BLOCK_OVERHEAD};

/// Discord's limit on a message's content, in Unicode code points.
pub const MESSAGE_LIMIT: usize = 2000;
/// Discord's limit on files per message.
pub const MAX_FILES: usize = 10;
/// Name of the attachment that carries the full output when the message shows only part.
pub const OUTPUT_FILE: &str = "output.txt";
/// Longest task summary (command, path, prompt) shown in a headline.
const SUMMARY_CHARS: usize = 120;
/// Longest error text shown.
const ERROR_CHARS: usize = 300;
/// Room kept for the "output trimmed" note while the code block is sized.
const TRIM_NOTE_RESERVE: usize = 160;

/// A message ready to send: its text and the files to upload with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The content, at most the budget it was rendered for.
    pub content: String,
    /// Files to attach, at most [`MAX_FILES`].
    pub files: Vec<FileOut>,
}

/// A file to attach to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileOut {
    /// The file name Discord shows (images with an image extension show inline).
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// How a result may be rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultOptions {
    /// Characters the content may use (less than [`MESSAGE_LIMIT`] when a prefix goes first).
    pub budget: usize,
    /// Whether files may be attached; `false` after Discord refused them as too large.
    pub files_allowed: bool,
}

impl Default for ResultOptions {
    fn default() -> Self {
        Self {
            budget: MESSAGE_LIMIT,
            files_allowed: true,
        }
    }
}

/// The icon that leads a task's lines.
pub fn icon(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Queued => "⏳",
        TaskStatus::Running => "⚙️",
        TaskStatus::AwaitingApproval => "🔐",
        TaskStatus::Succeeded => "✅",
        TaskStatus::Failed => "❌",
        TaskStatus::TimedOut => "⏱️",
        TaskStatus::Cancelled => "🛑",
        TaskStatus::Expired => "⌛",
        TaskStatus::Lost => "❓",
        TaskStatus::Denied => "⛔",
    }
}

/// The status in words.
pub fn status_words(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::AwaitingApproval => "awaiting approval",
        TaskStatus::TimedOut => "timed out",
        other => other.as_str(),
    }
}

/// What the task asks for, as one line of inline code (never file content).
pub fn summary(spec: &TaskSpec) -> String {
    inline_code(&spec.summary(), SUMMARY_CHARS)
}

/// The progress line shown while a task is live: queued, running on a worker, or waiting
/// for the owner's approval (with the fingerprint to approve and, after a refused attempt,
/// the worker's reason).
pub fn progress(task: &Task, approval_rejected: Option<&str>) -> String {
    let state = match (task.status, &task.worker, &task.target_worker) {
        (TaskStatus::Queued, _, Some(target)) => format!("queued · waiting for `{target}`"),
        (TaskStatus::Queued, _, None) => "queued · waiting for a worker".to_owned(),
        (TaskStatus::Running, Some(worker), _) => format!("running on `{worker}`…"),
        (TaskStatus::Running, None, _) => "running…".to_owned(),
        (TaskStatus::AwaitingApproval, worker, _) => {
            return approval(task, worker.as_deref(), approval_rejected)
        }
        (status, _, _) => status_words(status).to_owned(),
    };
    format!("{} {}\n-# {state}", icon(task.status), summary(&task.spec))
}

/// Characters of live output a progress message shows (the newest), well within Discord's
/// 2,000 with the progress line above them.
pub const LIVE_OUTPUT_CHARS: usize = 1_500;

/// The progress line of a running task with the end of its live output (as the worker
/// sent it, redacted on the Mac) in a code block below.
pub fn progress_with_output(task: &Task, live: &str) -> String {
    let line = progress(task, None);
    let escaped = escape_fences(live);
    let (kept, _) = text::tail(&escaped, LIVE_OUTPUT_CHARS);
    if kept.trim().is_empty() {
        return line;
    }
    format!("{line}\n{}", code_block(kept))
}

/// The approval request as the bot knows it. The worker's own notification (sent by the
/// Mac itself) is the one to trust; this line only says how to answer.
fn approval(task: &Task, worker: Option<&str>, rejected: Option<&str>) -> String {
    let on = worker.map_or(String::new(), |w| format!(" on `{w}`"));
    let mut lines = vec![format!("{} {}", icon(task.status), summary(&task.spec))];
    match &task.approval {
        Some(request) => {
            lines.push(format!(
                "-# waiting for your approval{on}: it will run {}",
                inline_code(&request.summary, SUMMARY_CHARS)
            ));
            lines.push(format!(
                "Check fingerprint `{fp}` against the Mac's own notification, then `/approve {fp} <code>` or `/deny {fp}`.",
                fp = request.fingerprint
            ));
        }
        None => lines.push(format!("-# waiting for your approval{on}")),
    }
    if let Some(reason) = rejected {
        lines.push(format!(
            "⚠️ approval refused: {}",
            inline_code(reason, ERROR_CHARS)
        ));
    }
    lines.join("\n")
}

/// The result message of a finished task: headline, facts (status, exit code or signal,
/// duration, worker), the error if any, the output in a code block, notes, and files: the
/// screenshots in `images`, `output.txt` when the output was trimmed, the file of a `/read`.
pub fn result(task: &Task, images: Vec<FileOut>, options: ResultOptions) -> Rendered {
    let empty = TaskOutcome::new(openclaw_shared::OutcomeStatus::Failed);
    let outcome = task.outcome.as_ref().unwrap_or(&empty);
    let mut head = vec![
        format!("{} {}", icon(task.status), summary(&task.spec)),
        format!("-# {}", facts(task, outcome)),
    ];
    if let Some(error) = outcome.error.as_deref().filter(|e| !e.is_empty()) {
        if task.status != TaskStatus::Succeeded {
            head.push(format!("⚠️ {}", inline_code(error, ERROR_CHARS)));
        }
    }
    let mut notes = Vec::new();
    for (cut, stream) in [
        (outcome.stdout_truncated, "stdout"),
        (outcome.stderr_truncated, "stderr"),
    ] {
        match omission(outcome, stream) {
            Some(kept) => notes.push(format!(
                "-# {stream} was {}: the worker kept the first {} and the last {}; {} in \
                 between were left out (marked in the text)",
                text::size(kept.total()),
                text::size(kept.head),
                text::size(kept.tail),
                text::size(kept.omitted),
            )),
            None if cut => notes.push(format!("-# the worker cut {stream} at its output cap")),
            None => {}
        }
    }
    if let Some(note) = redaction_note(&task.spec, outcome) {
        notes.push(note);
    }
    let mut files = Vec::new();
    if let Some(path) = outcome
        .metadata
        .get("screenshotPath")
        .and_then(|p| p.as_str())
    {
        if images.is_empty() {
            notes.push(format!(
                "-# screenshot {} was not uploaded",
                inline_code(path, 80)
            ));
        }
    }
    if options.files_allowed {
        files.extend(images.into_iter().take(MAX_FILES - 1));
    } else {
        notes.push("-# attachments were too large for Discord; see `/tasks` or the API".into());
    }

    // Plus the line breaks between header, block, notes and the body's note.
    let used = chars(&head.join("\n")) + chars(&notes.join("\n")) + 4;
    let room = options.budget.saturating_sub(used);
    let body = match (&task.spec, task.status) {
        (TaskSpec::FileRead { path }, TaskStatus::Succeeded) => {
            file_body(path, outcome, room, options.files_allowed)
        }
        _ => output_body(outcome, room, options.files_allowed),
    };
    files.extend(body.file);
    let mut lines = head;
    lines.extend(body.block);
    lines.extend(notes);
    lines.extend(body.note);
    let content = lines.join("\n");
    if chars(&content) <= options.budget {
        return Rendered { content, files };
    }
    // The arithmetic above keeps within the budget; this is a guard, not a path.
    tracing::warn!(task_id = %task.id, "rendered result over budget; sending the header only");
    let (short, _) = text::head(&content, options.budget);
    Rendered {
        content: short.to_owned(),
        files,
    }
}

/// What the worker's redaction changed, said plainly: a read file that is not the file's
/// exact bytes any more (`metadata.altered`), or output with secrets taken out.
fn redaction_note(spec: &TaskSpec, outcome: &TaskOutcome) -> Option<String> {
    let count = outcome
        .metadata
        .get("redactions")
        .and_then(serde_json::Value::as_u64)
        .filter(|n| *n > 0)?;
    let secrets = if count == 1 { "secret" } else { "secrets" };
    let altered = outcome.metadata.get("altered") == Some(&serde_json::Value::Bool(true));
    Some(match spec {
        TaskSpec::FileRead { .. } if altered => format!(
            "⚠️ the worker redacted {count} {secrets}: this is NOT the file's exact content"
        ),
        _ => format!("-# the worker redacted {count} {secrets} from the output"),
    })
}

/// Status, exit code or signal, duration and worker, joined with dots.
fn facts(task: &Task, outcome: &TaskOutcome) -> String {
    let mut facts = vec![status_words(task.status).to_owned()];
    if let Some(signal) = outcome.signal {
        facts.push(format!("killed by {}", text::signal(signal)));
    } else if let Some(code) = outcome.exit_code {
        facts.push(format!("exit {code}"));
    }
    if task.status == TaskStatus::TimedOut {
        let limit = u64::try_from(task.timeout.as_millis()).unwrap_or(u64::MAX);
        facts.push(format!("limit {}", text::duration_ms(limit)));
    }
    if outcome.duration_ms > 0 {
        facts.push(text::duration_ms(outcome.duration_ms));
    }
    if let Some(worker) = &task.worker {
        facts.push(format!("on `{worker}`"));
    }
    // The id to continue it with (`/sessions resume:`, an API `sessionId`); plain
    // characters only, so it is safe in inline code.
    if let Some(session) = task.spec.session() {
        facts.push(format!("session `{}`", session.id));
    }
    facts.join(" · ")
}

/// The part of a result below the header: a code block, a note, a file.
struct Body {
    block: Option<String>,
    note: Option<String>,
    file: Option<FileOut>,
}

/// stdout, then stderr under a marker, as one text (shown and attached alike).
fn compose_output(outcome: &TaskOutcome) -> String {
    match (outcome.stdout.is_empty(), outcome.stderr.is_empty()) {
        (_, true) => outcome.stdout.clone(),
        (true, false) => format!("── stderr ──\n{}", outcome.stderr),
        (false, false) => {
            let newline = if outcome.stdout.ends_with('\n') {
                ""
            } else {
                "\n"
            };
            format!(
                "{}{newline}── stderr ──\n{}",
                outcome.stdout, outcome.stderr
            )
        }
    }
}

/// Command-like output: the tail when it does not fit, with the full text as `output.txt`.
fn output_body(outcome: &TaskOutcome, room: usize, files_allowed: bool) -> Body {
    let full = compose_output(outcome);
    if full.trim().is_empty() {
        return Body {
            block: None,
            note: Some("-# no output".into()),
            file: None,
        };
    }
    let escaped = escape_fences(&full);
    let total = chars(&escaped);
    if total + CODE_BLOCK_OVERHEAD <= room {
        return Body {
            block: Some(code_block(&escaped)),
            note: None,
            file: None,
        };
    }
    let keep = room.saturating_sub(CODE_BLOCK_OVERHEAD + TRIM_NOTE_RESERVE);
    let (kept, _) = text::tail(&escaped, keep);
    // After a cut on the Mac, neither the file nor the API holds more than the worker kept.
    let cut = omission(outcome, "stdout").is_some() || omission(outcome, "stderr").is_some();
    let whole = match (files_allowed, cut) {
        (true, false) => format!("full output attached as `{OUTPUT_FILE}`"),
        (true, true) => format!("`{OUTPUT_FILE}` holds all the worker kept"),
        (false, false) => "full output in `/tasks` and the API".to_owned(),
        (false, true) => "all the worker kept is in `/tasks` and the API".to_owned(),
    };
    Body {
        block: (!kept.is_empty()).then(|| code_block(kept)),
        note: Some(format!(
            "-# output trimmed: last {} of {total} characters shown; {whole}",
            chars(kept)
        )),
        file: files_allowed.then(|| FileOut {
            name: OUTPUT_FILE.to_owned(),
            bytes: full.into_bytes(),
        }),
    }
}

/// A file read: short text inline; otherwise the file attached under its own name, with the
/// start of the text as a preview.
fn file_body(path: &str, outcome: &TaskOutcome, room: usize, files_allowed: bool) -> Body {
    let bytes = match outcome.stdout_encoding {
        ContentEncoding::Utf8 => outcome.stdout.as_bytes().to_vec(),
        ContentEncoding::Base64 => match STANDARD.decode(&outcome.stdout) {
            Ok(bytes) => bytes,
            Err(_) => {
                return Body {
                    block: None,
                    note: Some("-# the worker sent content that is not valid base64".into()),
                    file: None,
                }
            }
        },
    };
    let name = attachment_name(path, &bytes);
    let size = text::size(bytes.len() as u64);
    let attached = if files_allowed {
        format!("attached as {}", inline_code(&name, 60))
    } else {
        "too large to attach here".to_owned()
    };
    let (block, note) = match std::str::from_utf8(&bytes) {
        Ok(text) => {
            let escaped = escape_fences(text);
            if chars(&escaped) + CODE_BLOCK_OVERHEAD <= room {
                let block = (!text.is_empty()).then(|| code_block(&escaped));
                let note = text.is_empty().then(|| "-# the file is empty".to_owned());
                return Body {
                    block,
                    note,
                    file: None,
                };
            }
            let keep = room.saturating_sub(CODE_BLOCK_OVERHEAD + TRIM_NOTE_RESERVE);
            let (preview, _) = text::head(&escaped, keep);
            (
                (!preview.is_empty()).then(|| code_block(preview)),
                format!(
                    "-# {size}; first {} characters shown; {attached}",
                    chars(preview)
                ),
            )
        }
        Err(_) => (None, format!("-# binary file, {size}; {attached}")),
    };
    Body {
        block,
        note: Some(note),
        file: files_allowed.then_some(FileOut { name, bytes }),
    }
}

#[cfg(test)]
pub(crate) mod tests;
