//! What one audit entry records: the task as asked (content only as size + hash, long text
//! as a prefix + size + hash), the verdict and its rule, approval evidence (never the
//! code), and how it ended.

use base64::Engine as _;
use openclaw_shared::{ContentEncoding, OutcomeStatus, TaskId, TaskKind, TaskSpec};
use serde::{Deserialize, Serialize};

use super::line_hash;
use crate::approval::ApprovalEvidence;
use crate::policy::Verdict;

/// Size and SHA-256 of content the log does not keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentDigest {
    /// Bytes.
    pub size: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

impl ContentDigest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self {
            size: bytes.len() as u64,
            sha256: line_hash(bytes),
        }
    }
}

/// Longest text an entry keeps whole (a command, a prompt, a path, a reason): a server
/// that sends megabyte commands must not grow the log by megabytes per task.
pub const MAX_KEPT_TEXT_BYTES: usize = 1024;
/// How much of a longer text an entry keeps, next to its size and SHA-256.
pub const KEPT_PREFIX_BYTES: usize = 256;

/// Text as the log keeps it: whole up to [`MAX_KEPT_TEXT_BYTES`], else its first
/// [`KEPT_PREFIX_BYTES`] (cut on a character boundary), its size and its SHA-256, which
/// identify it as surely as the text itself. Whole text is a plain JSON string, as in
/// entries written before long text was shortened, so those still read (and verify).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeptText {
    /// The whole text.
    Whole(String),
    /// The start of a long text, with its size and hash.
    Long {
        /// The first bytes, on a character boundary.
        prefix: String,
        /// The whole text's size in bytes.
        size: u64,
        /// SHA-256 of the whole text, lowercase hex.
        sha256: String,
    },
}

impl KeptText {
    /// Returns `text` as the log keeps it.
    pub fn keep(text: &str) -> Self {
        if text.len() <= MAX_KEPT_TEXT_BYTES {
            return Self::Whole(text.to_owned());
        }
        let mut end = KEPT_PREFIX_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        Self::Long {
            prefix: text[..end].to_owned(),
            size: text.len() as u64,
            sha256: line_hash(text.as_bytes()),
        }
    }

    /// The text, when the log kept it whole.
    pub fn whole(&self) -> Option<&str> {
        match self {
            Self::Whole(text) => Some(text),
            Self::Long { .. } => None,
        }
    }
}

fn kept(text: &str) -> Option<KeptText> {
    Some(KeptText::keep(text))
}

/// What the task asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asked {
    /// The command string, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<KeptText>,
    /// The path, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<KeptText>,
    /// The working directory, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<KeptText>,
    /// The agent an `agent` task named (`claude` tasks say so by their kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The Claude (or agent) prompt, as sent (it is what was asked; a prompt is text, like
    /// a command).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<KeptText>,
    /// A write's content (decoded when base64), or an edit's new text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ContentDigest>,
    /// An edit's old text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced: Option<ContentDigest>,
}

impl Asked {
    /// The record of `spec`: text fields kept (long ones as prefix + size + hash), content
    /// as size + hash.
    pub fn from_spec(spec: &TaskSpec) -> Self {
        match spec {
            TaskSpec::Command { command, cwd } => Self {
                command: kept(command),
                cwd: cwd.as_deref().and_then(kept),
                ..Self::default()
            },
            TaskSpec::FileRead { path } => Self {
                path: kept(path),
                ..Self::default()
            },
            TaskSpec::FileWrite {
                path,
                content,
                encoding,
            } => {
                let decoded = match encoding {
                    ContentEncoding::Utf8 => None,
                    ContentEncoding::Base64 => base64::engine::general_purpose::STANDARD
                        .decode(content)
                        .ok(),
                };
                let bytes = decoded.as_deref().unwrap_or(content.as_bytes());
                Self {
                    path: kept(path),
                    content: Some(ContentDigest::of(bytes)),
                    ..Self::default()
                }
            }
            TaskSpec::FileEdit {
                path,
                old_string,
                new_string,
                ..
            } => Self {
                path: kept(path),
                content: Some(ContentDigest::of(new_string.as_bytes())),
                replaced: Some(ContentDigest::of(old_string.as_bytes())),
                ..Self::default()
            },
            TaskSpec::Claude { prompt, cwd, .. } => Self {
                prompt: kept(prompt),
                cwd: cwd.as_deref().and_then(kept),
                ..Self::default()
            },
            TaskSpec::Agent {
                agent, prompt, cwd, ..
            } => Self {
                agent: Some(agent.clone()),
                prompt: kept(prompt),
                cwd: cwd.as_deref().and_then(kept),
                ..Self::default()
            },
        }
    }
}

/// How an approval was given: the fingerprint and the TOTP time step, never the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    /// The approved fingerprint.
    pub fingerprint: String,
    /// The time step of the code that approved it.
    pub step: u64,
}

impl From<&ApprovalEvidence> for ApprovalRecord {
    fn from(evidence: &ApprovalEvidence) -> Self {
        Self {
            fingerprint: evidence.fingerprint.clone(),
            step: evidence.step,
        }
    }
}

/// What the worker fills in for one task; the log adds `index` and `prev`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When the entry was written, epoch milliseconds.
    pub time_ms: u64,
    /// The task.
    pub task_id: TaskId,
    /// Its kind.
    pub kind: TaskKind,
    /// What was asked.
    pub asked: Asked,
    /// The policy's verdict.
    pub verdict: Verdict,
    /// The rule that decided.
    pub rule: String,
    /// Why (it may quote the task: kept like the task's text).
    pub reason: KeptText,
    /// The approval, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalRecord>,
    /// How the task ended (`denied` for refused ones).
    pub status: OutcomeStatus,
    /// The process exit code, if a process ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Bytes of output uploaded (after redaction): the result's, a screenshot's, and live
    /// output the server took while the task ran.
    pub bytes_uploaded: u64,
    /// Secrets redacted from the output.
    pub redactions: u64,
}

impl AuditRecord {
    /// A record of `spec` with its verdict, to be completed with the outcome fields.
    pub fn new(
        task_id: TaskId,
        spec: &TaskSpec,
        verdict: Verdict,
        rule: &str,
        reason: &str,
    ) -> Self {
        Self {
            time_ms: crate::policy::lock::now_ms(),
            task_id,
            kind: spec.kind(),
            asked: Asked::from_spec(spec),
            verdict,
            rule: rule.to_owned(),
            reason: KeptText::keep(reason),
            approval: None,
            status: OutcomeStatus::Denied,
            exit_code: None,
            bytes_uploaded: 0,
            redactions: 0,
        }
    }
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log, from 0.
    pub index: u64,
    /// SHA-256 (hex) of the previous line; [`super::GENESIS`] for the first.
    pub prev: String,
    /// The task's record.
    #[serde(flatten)]
    pub record: AuditRecord,
}
