//! `openclaw-worker audit verify` and `audit tail`: walks the chain and names the first bad
//! line (1-based, as editors count).

use std::collections::VecDeque;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde::Deserialize;

use super::{line_hash, Head, GENESIS};

/// The first thing wrong with a log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {why}")]
pub struct VerifyError {
    /// The first bad line, from 1. For a cut tail, the first missing line.
    pub line: u64,
    /// What is wrong with it.
    pub why: String,
}

impl VerifyError {
    /// An error at `line`.
    pub fn new(line: u64, why: impl Into<String>) -> Self {
        Self {
            line,
            why: why.into(),
        }
    }
}

/// A log that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries in the log.
    pub count: u64,
    /// Hash of the last line ([`GENESIS`] when empty).
    pub last_hash: String,
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ok: {} entries, head {}", self.count, self.last_hash)
    }
}

/// The fields the chain is made of; the rest of an entry is not needed to verify it.
#[derive(Deserialize)]
struct Link {
    index: u64,
    prev: String,
}

/// Verifies the log at `path`: every line parses, its `index` is its position, its `prev`
/// is the hash of the line before. Then, when given:
/// - `head` (the head file's): the log ends exactly there (catches a cut or added tail);
/// - `external` (e.g. the last head the bot received): the log reaches at least that far
///   and holds that hash at that position (catches a cut tail even with the head file
///   rewritten).
///
/// A missing log is an empty log.
pub fn verify(
    path: &Path,
    head: Option<&Head>,
    external: Option<&Head>,
) -> Result<VerifyReport, VerifyError> {
    let file = match std::fs::File::open(path) {
        Ok(file) => Some(file),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(VerifyError::new(0, format!("cannot open the log: {err}"))),
    };
    let mut count = 0u64;
    let mut last_hash = GENESIS.to_owned();
    let mut external_seen = external.is_none_or(|e| e.count == 0 && e.last_hash == GENESIS);
    if let Some(file) = file {
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = reader
                .read_until(b'\n', &mut line)
                .map_err(|err| VerifyError::new(count + 1, format!("cannot read: {err}")))?;
            if read == 0 {
                break;
            }
            let number = count + 1;
            let Some(content) = line.strip_suffix(b"\n") else {
                return Err(VerifyError::new(
                    number,
                    "incomplete last line (torn write or cut)",
                ));
            };
            let link: Link = serde_json::from_slice(content)
                .map_err(|_| VerifyError::new(number, "not an audit entry (edited?)"))?;
            if link.index != count {
                return Err(VerifyError::new(
                    number,
                    format!(
                        "index is {}, expected {count} (lines reordered, inserted or deleted)",
                        link.index
                    ),
                ));
            }
            if link.prev != last_hash && count == 0 {
                return Err(VerifyError::new(
                    1,
                    "`prev` is not the genesis hash (altered)",
                ));
            }
            if link.prev != last_hash {
                // The line before no longer hashes to what this line recorded: it is the
                // first bad one (or this line's `prev` was altered along with it).
                return Err(VerifyError::new(
                    count,
                    format!("does not hash to the `prev` recorded by line {number} (altered)"),
                ));
            }
            last_hash = line_hash(content);
            count = number;
            if let Some(e) = external.filter(|e| e.count == count) {
                if e.last_hash != last_hash {
                    return Err(VerifyError::new(
                        count,
                        "differs from the externally kept head (altered)",
                    ));
                }
                external_seen = true;
            }
        }
    }
    if let Some(head) = head {
        if head.count > count {
            return Err(VerifyError::new(
                count + 1,
                format!(
                    "missing: the head file records {} entries, the log has {count} (tail cut)",
                    head.count
                ),
            ));
        }
        if head.count < count {
            return Err(VerifyError::new(
                head.count + 1,
                format!("not in the head file, which records {} entries (appended behind the worker's back?)", head.count),
            ));
        }
        if head.last_hash != last_hash {
            return Err(VerifyError::new(
                count,
                "differs from the head file's hash (altered)",
            ));
        }
    }
    if !external_seen {
        let expected = external.map_or(0, |e| e.count);
        return Err(VerifyError::new(
            count + 1,
            format!("missing: the external head records {expected} entries, the log has {count} (tail cut)"),
        ));
    }
    Ok(VerifyReport { count, last_hash })
}

/// Verifies as [`verify`] does, with the head read from the head file at `head_path`. A missing head file is
/// accepted only for an empty log.
pub fn verify_files(
    log: &Path,
    head_path: &Path,
    external: Option<&Head>,
) -> Result<VerifyReport, VerifyError> {
    let head = Head::read(head_path)
        .map_err(|err| VerifyError::new(0, err.to_string()))?
        .unwrap_or_else(Head::empty);
    verify(log, Some(&head), external)
}

/// The last `n` lines of the log, oldest first, as written (for `audit tail`).
pub fn tail(path: &Path, n: usize) -> std::io::Result<Vec<String>> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut last = VecDeque::with_capacity(n.min(1024));
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    while reader.by_ref().read_until(b'\n', &mut line)? > 0 {
        if n > 0 {
            if last.len() == n {
                last.pop_front();
            }
            let text = String::from_utf8_lossy(line.strip_suffix(b"\n").unwrap_or(&line));
            last.push_back(text.into_owned());
        }
        line.clear();
    }
    Ok(last.into())
}
