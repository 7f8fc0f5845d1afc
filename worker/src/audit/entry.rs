//! What one audit entry records: the task as asked (content only as size + hash), the
//! verdict and its rule, approval evidence (never the code), and how it ended.

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

/// What the task asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asked {
    /// The command string, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The path, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The working directory, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// The Claude prompt, as sent (it is what was asked; a prompt is text, like a command).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// A write's content (decoded when base64), or an edit's new text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ContentDigest>,
    /// An edit's old text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced: Option<ContentDigest>,
}

impl Asked {
    /// The record of `spec`: text fields kept, content as size + hash.
    pub fn from_spec(spec: &TaskSpec) -> Self {
        match spec {
            TaskSpec::Command { command, cwd } => Self {
                command: Some(command.clone()),
                cwd: cwd.clone(),
                ..Self::default()
            },
            TaskSpec::FileRead { path } => Self {
                path: Some(path.clone()),
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
                    path: Some(path.clone()),
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
                path: Some(path.clone()),
                content: Some(ContentDigest::of(new_string.as_bytes())),
                replaced: Some(ContentDigest::of(old_string.as_bytes())),
                ..Self::default()
            },
            TaskSpec::Claude { prompt, cwd, .. } => Self {
                prompt: Some(prompt.clone()),
                cwd: cwd.clone(),
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
    /// Why.
    pub reason: String,
    /// The approval, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalRecord>,
    /// How the task ended (`denied` for refused ones).
    pub status: OutcomeStatus,
    /// The process exit code, if a process ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Bytes of output uploaded (after redaction).
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
            reason: reason.to_owned(),
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
