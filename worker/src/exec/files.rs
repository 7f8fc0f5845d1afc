//! File tasks at the path the policy resolved and checked. Reads are binary-safe (UTF-8 as
//! text, anything else as base64) and capped; writes and edits store the exact bytes
//! atomically (temp file, fsync, rename). Both go through [`crate::policy::safe_fs`], which
//! never follows a symlink planted at the checked path after the check.

use std::path::Path;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use openclaw_shared::{ContentEncoding, OutcomeStatus, TaskOutcome};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::process::format_duration;
use super::ExecContext;
use crate::policy::safe_fs::{self, SafeFsError};

/// The parameters of a write.
#[derive(Debug, Clone, Copy)]
pub struct Write<'a> {
    /// The content as sent.
    pub content: &'a str,
    /// How `content` is encoded.
    pub encoding: ContentEncoding,
    /// SHA-256 of the bytes the policy checked (and the approval fingerprint covers).
    pub checked_sha256: Option<[u8; 32]>,
}

/// The parameters of an edit.
#[derive(Debug, Clone, Copy)]
pub struct Edit<'a> {
    /// The exact text to find.
    pub old: &'a str,
    /// What replaces it.
    pub new: &'a str,
    /// Replace every occurrence instead of requiring exactly one.
    pub replace_all: bool,
}

/// Reads `path`; the content goes to `stdout` (base64 when not UTF-8).
pub async fn read(
    ctx: &ExecContext,
    path: &Path,
    timeout: Duration,
    cancel: &CancellationToken,
) -> TaskOutcome {
    let path = path.to_owned();
    let max = ctx.max_read_bytes;
    blocking(timeout, cancel, move || read_file(&path, max)).await
}

/// Writes the decoded content to `path`, exactly and atomically.
pub async fn write(
    path: &Path,
    write: Write<'_>,
    timeout: Duration,
    cancel: &CancellationToken,
) -> TaskOutcome {
    let bytes = match write.encoding {
        ContentEncoding::Utf8 => write.content.as_bytes().to_vec(),
        ContentEncoding::Base64 => match BASE64.decode(write.content.trim_end()) {
            Ok(bytes) => bytes,
            Err(err) => return TaskOutcome::failure(format!("content is not valid base64: {err}")),
        },
    };
    // What was checked is what is written: never bytes the check did not see.
    if write
        .checked_sha256
        .is_some_and(|sha| sha != <[u8; 32]>::from(Sha256::digest(&bytes)))
    {
        return TaskOutcome::failure("the content differs from what the policy checked");
    }
    let path = path.to_owned();
    blocking(timeout, cancel, move || {
        let len = bytes.len();
        safe_fs::write_atomic(&path, &bytes).map_err(|err| write_error(&path, &err))?;
        let mut outcome = success(format!("File written: {}", path.display()));
        outcome.metadata.insert("bytes".into(), json!(len));
        Ok(outcome)
    })
    .await
}

/// Replaces `edit.old` by `edit.new` in the text file at `path`: exactly one occurrence,
/// or all of them with `replace_all`.
pub async fn edit(
    ctx: &ExecContext,
    path: &Path,
    edit: Edit<'_>,
    timeout: Duration,
    cancel: &CancellationToken,
) -> TaskOutcome {
    let path = path.to_owned();
    let max = ctx.max_read_bytes;
    let (old, new, replace_all) = (edit.old.to_owned(), edit.new.to_owned(), edit.replace_all);
    blocking(timeout, cancel, move || {
        if old.is_empty() {
            return Err("old_string must not be empty".to_owned());
        }
        let bytes = read_capped(&path, max)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("{} is not a UTF-8 text file", path.display()))?;
        let occurrences = text.matches(old.as_str()).count();
        // The original's exact words: clients match on them.
        match occurrences {
            0 => return Err("old_string not found".to_owned()),
            n if n > 1 && !replace_all => return Err("old_string not unique".to_owned()),
            _ => {}
        }
        let edited = if replace_all {
            text.replace(old.as_str(), &new)
        } else {
            text.replacen(old.as_str(), &new, 1)
        };
        safe_fs::write_atomic(&path, edited.as_bytes()).map_err(|err| write_error(&path, &err))?;
        let replaced = if replace_all { occurrences } else { 1 };
        let mut outcome = success(format!("File edited: {}", path.display()));
        outcome
            .metadata
            .insert("replacements".into(), json!(replaced));
        outcome.metadata.insert("bytes".into(), json!(edited.len()));
        Ok(outcome)
    })
    .await
}

/// Runs a file operation on the blocking pool, bounded by the task's timeout and cancel.
/// An operation that is abandoned keeps running to its end in the background; it is a
/// single file operation, and an atomic write either lands whole or not at all.
async fn blocking(
    timeout: Duration,
    cancel: &CancellationToken,
    op: impl FnOnce() -> Result<TaskOutcome, String> + Send + 'static,
) -> TaskOutcome {
    let job = tokio::task::spawn_blocking(op);
    tokio::select! {
        joined = job => match joined {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(message)) => TaskOutcome::failure(message),
            Err(_) => TaskOutcome::failure("the file operation failed unexpectedly"),
        },
        () = tokio::time::sleep(timeout) => TaskOutcome {
            error: Some(format!("timed out after {}", format_duration(timeout))),
            ..TaskOutcome::new(OutcomeStatus::TimedOut)
        },
        () = cancel.cancelled() => TaskOutcome {
            error: Some("cancelled".to_owned()),
            ..TaskOutcome::new(OutcomeStatus::Cancelled)
        },
    }
}

fn success(stdout: String) -> TaskOutcome {
    TaskOutcome {
        stdout,
        exit_code: Some(0),
        ..TaskOutcome::new(OutcomeStatus::Succeeded)
    }
}

fn read_file(path: &Path, max: u64) -> Result<TaskOutcome, String> {
    let bytes = read_capped(path, max)?;
    let len = bytes.len();
    let mut outcome = match String::from_utf8(bytes) {
        Ok(text) => success(text),
        Err(err) => {
            let mut outcome = success(BASE64.encode(err.as_bytes()));
            outcome.stdout_encoding = ContentEncoding::Base64;
            outcome
        }
    };
    outcome.metadata.insert("bytes".into(), json!(len));
    Ok(outcome)
}

/// Reads a regular file of at most `max` bytes, never through a symlink at `path`.
fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let shown = path.display();
    // Checked first so a directory or a FIFO gets a clear word, and a FIFO cannot hang
    // the open (a planted one at open time is refused by safe_fs as not a file).
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => return Err(format!("cannot read {shown}: it is a directory")),
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(format!("cannot read {shown}: it is a symbolic link"))
        }
        Ok(meta) if !meta.is_file() => {
            return Err(format!("cannot read {shown}: not a regular file"))
        }
        Ok(_) => {}
        Err(err) => return Err(format!("cannot read {shown}: {err}")),
    }
    safe_fs::read_capped(path, max).map_err(|err| match err {
        SafeFsError::TooLarge { limit } => {
            format!("{shown} is over the read limit of {limit} bytes (max_read_bytes)")
        }
        other => format!("cannot read {shown}: {other}"),
    })
}

fn write_error(path: &Path, err: &SafeFsError) -> String {
    format!("cannot write {}: {err}", path.display())
}
