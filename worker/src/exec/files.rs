//! File tasks. Reads are binary-safe (UTF-8 as text, anything else as base64) and capped;
//! writes and edits store the exact bytes atomically: a temp file in the same directory,
//! fsync, rename, so a reader never sees half a file and a crash never leaves one.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use nix::fcntl::OFlag;
use openclaw_shared::{ContentEncoding, OutcomeStatus, TaskOutcome};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::process::format_duration;
use super::ExecContext;

/// Marks the temp files of atomic writes, so a stray one is recognizable.
const TEMP_MARKER: &str = ".openclaw-tmp-";

/// The parameters of an edit.
#[derive(Debug, Clone, Copy)]
pub struct Edit<'a> {
    pub old: &'a str,
    pub new: &'a str,
    pub replace_all: bool,
}

/// Reads `path`; the content goes to `stdout` (base64 when not UTF-8).
pub async fn read(
    ctx: &ExecContext,
    path: &str,
    timeout: Duration,
    cancel: &CancellationToken,
) -> TaskOutcome {
    let resolved = ctx.resolve(path);
    let max = ctx.max_read_bytes;
    blocking(timeout, cancel, move || read_file(&resolved, max)).await
}

/// Writes `content` (decoded per `encoding`) to `path`, exactly and atomically.
pub async fn write(
    ctx: &ExecContext,
    path: &str,
    content: &str,
    encoding: ContentEncoding,
    timeout: Duration,
    cancel: &CancellationToken,
) -> TaskOutcome {
    let bytes = match encoding {
        ContentEncoding::Utf8 => content.as_bytes().to_vec(),
        ContentEncoding::Base64 => match BASE64.decode(content.trim_end()) {
            Ok(bytes) => bytes,
            Err(err) => return TaskOutcome::failure(format!("content is not valid base64: {err}")),
        },
    };
    let resolved = ctx.resolve(path);
    blocking(timeout, cancel, move || {
        let len = bytes.len();
        write_atomically(&resolved, &bytes)
            .map_err(|err| format!("cannot write {}: {err}", resolved.display()))?;
        let mut outcome = success(format!("File written: {}", resolved.display()));
        outcome.metadata.insert("bytes".into(), json!(len));
        Ok(outcome)
    })
    .await
}

/// Replaces `edit.old` by `edit.new` in the text file at `path`: exactly one occurrence,
/// or all of them with `replace_all`.
pub async fn edit(
    ctx: &ExecContext,
    path: &str,
    edit: Edit<'_>,
    timeout: Duration,
    cancel: &CancellationToken,
) -> TaskOutcome {
    let resolved = ctx.resolve(path);
    let max = ctx.max_read_bytes;
    let (old, new, replace_all) = (edit.old.to_owned(), edit.new.to_owned(), edit.replace_all);
    blocking(timeout, cancel, move || {
        if old.is_empty() {
            return Err("old_string must not be empty".to_owned());
        }
        let bytes = read_capped(&resolved, max)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("{} is not a UTF-8 text file", resolved.display()))?;
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
        write_atomically(&resolved, edited.as_bytes())
            .map_err(|err| format!("cannot write {}: {err}", resolved.display()))?;
        let replaced = if replace_all { occurrences } else { 1 };
        let mut outcome = success(format!("File edited: {}", resolved.display()));
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

/// Reads a regular file of at most `max` bytes.
fn read_capped(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let shown = path.display();
    // O_NONBLOCK: opening a FIFO must not hang the worker; regular files ignore it.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(|err| format!("cannot read {shown}: {err}"))?;
    let meta = file
        .metadata()
        .map_err(|err| format!("cannot read {shown}: {err}"))?;
    if meta.is_dir() {
        return Err(format!("cannot read {shown}: it is a directory"));
    }
    if !meta.is_file() {
        return Err(format!("cannot read {shown}: not a regular file"));
    }
    let too_big = |size: u64| {
        format!("{shown} is {size} bytes, over the read limit of {max} bytes (max_read_bytes)")
    };
    if meta.len() > max {
        return Err(too_big(meta.len()));
    }
    // The file may grow between the stat and the read: never take more than the cap.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|err| format!("cannot read {shown}: {err}"))?;
    if bytes.len() as u64 > max {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Stores `bytes` at `path` atomically: parents created, a temp file in the same
/// directory written and fsynced, the old file's permissions kept, renamed over the
/// target, then the directory fsynced so the rename survives a crash. A symlink at the
/// target is replaced, not followed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path names no file",
        ));
    };
    fs::create_dir_all(dir)?;
    let existing = fs::symlink_metadata(path).ok();
    if existing.as_ref().is_some_and(fs::Metadata::is_dir) {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "it is a directory",
        ));
    }
    let mode = existing
        .filter(fs::Metadata::is_file)
        .map(|meta| meta.permissions().mode());

    // A new file gets the usual 0666-minus-umask; a replaced one keeps its mode, set below
    // once the temp file is ours alone (0600 until then).
    let create_mode = if mode.is_some() { 0o600 } else { 0o666 };
    let (temp_path, mut temp) = create_temp(dir, name.to_string_lossy().as_ref(), create_mode)?;
    let written = (|| {
        temp.write_all(bytes)?;
        if let Some(mode) = mode {
            temp.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        temp.sync_all()?;
        drop(temp);
        fs::rename(&temp_path, path)
    })();
    if let Err(err) = written {
        let _ = fs::remove_file(&temp_path);
        return Err(err);
    }
    // Best effort: some filesystems cannot fsync a directory, and the data is already safe.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Creates a fresh temp file next to the target (O_EXCL, never an existing file or link).
fn create_temp(dir: &Path, name: &str, mode: u32) -> io::Result<(PathBuf, File)> {
    let mut attempts = 0;
    loop {
        let temp_path = dir.join(format!(".{name}{TEMP_MARKER}{:016x}", fastrand::u64(..)));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp_path)
        {
            Ok(file) => return Ok((temp_path, file)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists && attempts < 8 => {
                attempts += 1;
            }
            Err(err) => return Err(err),
        }
    }
}
