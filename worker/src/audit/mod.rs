//! The tamper-evident audit log: append-only JSON Lines on the Mac, one entry per task
//! received. Each entry carries its index and `prev`, the SHA-256 of the previous line
//! (64 zeros for the first), so an edited, reordered or deleted line breaks the chain. A
//! hash chain cannot see its own tail cut off, so the head (count + hash of the last
//! line) is also kept outside the log: in a head file next to it, and in every result
//! the worker reports (the bot keeps it), and [`verify()`] checks against both.
//!
//! fsync policy: every append is `fsync`ed (`sync_data`) before [`AuditLog::append`]
//! returns, and the head file is then replaced atomically (temp file, rename) but not
//! synced: the log is the record, the head file only an anchor against a cut tail, and two
//! more fsyncs per task would cost ~0.4 ms of every task's latency. Append the entry
//! *before* uploading the result, so nothing is reported that the log does not hold. A
//! crash can therefore leave the head file behind the log (never ahead of it: it is
//! written after the log is durable); [`AuditLog::open`] accepts a head file the log
//! extends and repairs it, and refuses one the log does not reach — a cut tail. One process
//! writes a log at a time (an exclusive `flock` enforces it).
//!
//! # Layout
//! - [`entry`]: what an entry records.
//! - [`verify`](mod@verify): chain verification and `tail`.

pub mod entry;
pub mod verify;

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use data_encoding::HEXLOWER;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use entry::{ApprovalRecord, Asked, AuditEntry, AuditRecord, ContentDigest, KeptText};
pub use verify::{tail, verify, verify_files, VerifyError, VerifyReport};

use crate::files::{private_file, replace_private, Durability};

/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The head of the chain: how many entries, and the hash of the last line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// Number of entries.
    pub count: u64,
    /// SHA-256 (hex) of the last line, without its newline; [`GENESIS`] when empty.
    pub last_hash: String,
}

impl Head {
    /// The head of an empty log.
    pub fn empty() -> Self {
        Self {
            count: 0,
            last_hash: GENESIS.to_owned(),
        }
    }

    /// Reads a head file; `Ok(None)` when it does not exist.
    pub fn read(path: &Path) -> Result<Option<Self>, AuditError> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|_| AuditError::BadHead(path.to_owned())),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(AuditError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Replaces the head file atomically and durably (temp file, fsync, rename, directory
    /// fsync): for the head file's first version and repairs, so that it exists after any
    /// crash and a missing one always means it was removed.
    pub fn write_durably(&self, path: &Path) -> io::Result<()> {
        self.replace(path, Durability::Synced)
    }

    /// Replaces the head file atomically (not durably: see the module doc).
    pub fn write(&self, path: &Path) -> io::Result<()> {
        self.replace(path, Durability::Unsynced)
    }

    fn replace(&self, path: &Path, durability: Durability) -> io::Result<()> {
        let mut text = serde_json::to_string(self).map_err(io::Error::other)?;
        text.push('\n');
        replace_private(path, text.as_bytes(), durability)
    }
}

/// SHA-256 of one line (without its newline), lowercase hex.
pub fn line_hash(line: &[u8]) -> String {
    HEXLOWER.encode(&Sha256::digest(line))
}

/// Why the audit log cannot be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A file cannot be read or written.
    #[error("audit log {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Another process holds the log.
    #[error("audit log {0} is in use by another process")]
    Busy(PathBuf),
    /// The head file is not a head.
    #[error("audit head file {0} is unreadable")]
    BadHead(PathBuf),
    /// The log fails verification; the worker must not add to a broken chain.
    #[error("audit log is broken at {0}; run `openclaw-worker audit verify` and investigate")]
    Broken(#[from] VerifyError),
    /// An entry could not be encoded.
    #[error("cannot encode an audit entry: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The open log: appends entries and keeps the head file current.
#[derive(Debug)]
pub struct AuditLog {
    log_path: PathBuf,
    head_path: PathBuf,
    file: Flock<File>,
    head: Head,
}

impl AuditLog {
    /// Opens (creating, 0600) the log at `log_path` with its head file at `head_path`,
    /// after verifying the whole chain against the head file.
    pub fn open(log_path: &Path, head_path: &Path) -> Result<Self, AuditError> {
        let io_err = |source| AuditError::Io {
            path: log_path.to_owned(),
            source,
        };
        let file = private_file()
            .append(true)
            .create(true)
            .open(log_path)
            .map_err(io_err)?;
        let file = Flock::lock(file, FlockArg::LockExclusiveNonblock)
            .map_err(|_| AuditError::Busy(log_path.to_owned()))?;
        let recorded = Head::read(head_path)?;
        let report = verify(log_path, None, None)?;
        let head = Head {
            count: report.count,
            last_hash: report.last_hash,
        };
        let recorded_count = recorded.as_ref().map_or(0, |h| h.count);
        match &recorded {
            Some(recorded) if *recorded == head => {}
            None if head.count == 0 => Self::write_head(&head, head_path)?,
            // A crash after log appends whose head writes were not yet on disk: the log
            // holds more entries, and must extend what the head file recorded. (A head file
            // that is missing altogether was removed: it is written durably first.)
            _ if recorded.is_some() && head.count > recorded_count => {
                if let Some(recorded) = &recorded {
                    verify(log_path, None, Some(recorded))?;
                }
                tracing::warn!(
                    count = head.count,
                    behind = head.count - recorded_count,
                    "audit head file was behind the log (crash?); repaired"
                );
                Self::write_head(&head, head_path)?;
            }
            _ => {
                let expected = recorded.unwrap_or_else(Head::empty);
                verify(log_path, Some(&expected), None)?;
                // Unreachable: the strict check above fails whenever the heads differ.
                return Err(VerifyError::new(head.count, "log and head file disagree").into());
            }
        }
        Ok(Self {
            log_path: log_path.to_owned(),
            head_path: head_path.to_owned(),
            file,
            head,
        })
    }

    /// Appends one entry for `record`, fsyncs it, updates the head file, and returns the
    /// new head (to report with the task's result).
    pub fn append(&mut self, record: &AuditRecord) -> Result<Head, AuditError> {
        let entry = AuditEntry {
            index: self.head.count,
            prev: self.head.last_hash.clone(),
            record: record.clone(),
        };
        let line = serde_json::to_string(&entry)?;
        let io_err = |path: &Path, source| AuditError::Io {
            path: path.to_owned(),
            source,
        };
        let mut bytes = line.clone().into_bytes();
        bytes.push(b'\n');
        self.file
            .write_all(&bytes)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| io_err(&self.log_path, e))?;
        self.head = Head {
            count: self.head.count + 1,
            last_hash: line_hash(line.as_bytes()),
        };
        self.head
            .write(&self.head_path)
            .map_err(|e| io_err(&self.head_path, e))?;
        Ok(self.head.clone())
    }

    fn write_head(head: &Head, path: &Path) -> Result<(), AuditError> {
        head.write_durably(path).map_err(|source| AuditError::Io {
            path: path.to_owned(),
            source,
        })
    }

    /// The current head.
    pub fn head(&self) -> &Head {
        &self.head
    }
}

#[cfg(test)]
mod tests;
