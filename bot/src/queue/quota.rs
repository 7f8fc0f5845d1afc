//! Quotas: what the queue may store. Tasks live at once and bytes in total are checked when
//! a task or an attachment comes in (and refused past them); a result is never refused — a
//! worker's finished work must land — but is cut to fit, with a note saying so.

use std::fmt;

use openclaw_shared::{ContentEncoding, TaskOutcome};
use serde_json::json;

/// Longest `error` a stored result keeps, in bytes; longer ones are cut, ending in `…`.
pub const MAX_ERROR_BYTES: usize = 16 * 1024;
/// Largest `metadata` a stored result keeps, as JSON, in bytes; larger is dropped (noted).
pub const MAX_METADATA_BYTES: usize = 64 * 1024;
/// The `metadata` key of the note on a result the bot cut to fit its quota.
pub const TRUNCATION_NOTE: &str = "truncatedByBot";

/// The quota: set from `[quota]`, checked by the queue and its store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaSettings {
    /// Most tasks queued, running or awaiting approval at once; another is refused.
    pub max_live_tasks: u64,
    /// Most bytes the kept tasks may hold together (their specs, results and attachments);
    /// a new task or attachment that would pass it is refused. Results always land, so the
    /// total may pass it by what the running tasks report.
    pub max_stored_bytes: u64,
    /// Most bytes of stdout and stderr together one result keeps; the rest is cut.
    pub max_result_bytes: usize,
    /// Most attachments one task may have.
    pub max_attachments_per_task: u64,
    /// Most bytes one task's attachments may hold together.
    pub max_attachment_bytes_per_task: u64,
}

impl Default for QuotaSettings {
    fn default() -> Self {
        Self {
            max_live_tasks: 10_000,
            max_stored_bytes: 1024 * 1024 * 1024,
            max_result_bytes: 16 * 1024 * 1024,
            max_attachments_per_task: 16,
            max_attachment_bytes_per_task: 32 * 1024 * 1024,
        }
    }
}

/// A quota a write would pass: which one, with its limit. Shown to users as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// Tasks queued, running or awaiting approval at once.
    LiveTasks(u64),
    /// Bytes stored for all kept tasks.
    StoredBytes(u64),
    /// Attachments of one task.
    AttachmentsPerTask(u64),
    /// Bytes of one task's attachments.
    AttachmentBytesPerTask(u64),
    /// Schedules of one owner.
    SchedulesPerOwner(u64),
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quota::LiveTasks(limit) => write!(
                f,
                "at most {limit} tasks may be queued, running or awaiting approval at once \
                 (quota.max_live_tasks); wait for some to finish"
            ),
            Quota::StoredBytes(limit) => write!(
                f,
                "the bot keeps at most {limit} bytes of tasks, results and attachments \
                 (quota.max_stored_bytes); space frees as finished tasks are pruned"
            ),
            Quota::AttachmentsPerTask(limit) => write!(
                f,
                "a task may have at most {limit} attachments (quota.max_attachments_per_task)"
            ),
            Quota::AttachmentBytesPerTask(limit) => write!(
                f,
                "a task's attachments may hold at most {limit} bytes together \
                 (quota.max_attachment_bytes_per_task)"
            ),
            Quota::SchedulesPerOwner(limit) => write!(
                f,
                "an owner may have at most {limit} schedules (schedules.max_per_owner); \
                 delete one first"
            ),
        }
    }
}

/// Cuts `outcome` to what a stored result may hold: stdout and stderr together to
/// `max_result_bytes` (stderr keeps at most a quarter when both are long), `error` to
/// [`MAX_ERROR_BYTES`], `metadata` to [`MAX_METADATA_BYTES`]. A cut output is flagged
/// truncated and the metadata gets a [`TRUNCATION_NOTE`]. The same outcome is always cut
/// the same way, so a worker's retry of it is still recognised as a duplicate.
pub fn fit_result(outcome: &mut TaskOutcome, max_result_bytes: usize) {
    let mut dropped: usize = 0;
    let (out_len, err_len) = (outcome.stdout.len(), outcome.stderr.len());
    if out_len.saturating_add(err_len) > max_result_bytes {
        let stdout_keep = out_len.min(max_result_bytes - err_len.min(max_result_bytes / 4));
        let stderr_keep = err_len.min(max_result_bytes - stdout_keep);
        let base64 = outcome.stdout_encoding == ContentEncoding::Base64;
        dropped += cut(&mut outcome.stdout, stdout_keep, base64);
        dropped += cut(&mut outcome.stderr, stderr_keep, false);
        outcome.stdout_truncated |= outcome.stdout.len() < out_len;
        outcome.stderr_truncated |= outcome.stderr.len() < err_len;
    }
    if let Some(error) = &mut outcome.error {
        if error.len() > MAX_ERROR_BYTES {
            // Room for the ellipsis (3 bytes) inside the limit.
            dropped += cut(error, MAX_ERROR_BYTES - 3, false);
            error.push('…');
        }
    }
    let metadata_len = serde_json::to_string(&outcome.metadata).map_or(usize::MAX, |s| s.len());
    if metadata_len > MAX_METADATA_BYTES {
        outcome.metadata.clear();
        dropped = dropped.saturating_add(metadata_len);
    }
    if dropped > 0 {
        outcome.metadata.insert(
            TRUNCATION_NOTE.to_owned(),
            json!({
                "reason": "the result was larger than the bot stores (quota.max_result_bytes)",
                "maxResultBytes": max_result_bytes,
                "droppedBytes": dropped,
            }),
        );
    }
}

/// Cuts `text` to at most `keep` bytes, at a character boundary (and a whole base64
/// quantum when `base64`, so the kept part still decodes). Returns the bytes dropped.
fn cut(text: &mut String, keep: usize, base64: bool) -> usize {
    if text.len() <= keep {
        return 0;
    }
    let mut end = if base64 { keep - keep % 4 } else { keep };
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let dropped = text.len() - end;
    text.truncate(end);
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_shared::OutcomeStatus;

    fn outcome(stdout: &str, stderr: &str) -> TaskOutcome {
        TaskOutcome {
            stdout: stdout.into(),
            stderr: stderr.into(),
            exit_code: Some(0),
            ..TaskOutcome::new(OutcomeStatus::Succeeded)
        }
    }

    #[test]
    fn a_result_within_the_quota_is_left_alone() {
        let mut small = outcome("hello", "warn");
        let before = small.clone();

        fit_result(&mut small, 9);

        assert_eq!(small, before);
    }

    #[test]
    fn a_long_result_is_cut_to_the_quota_with_a_note() {
        let mut long = outcome(&"o".repeat(100), &"e".repeat(100));

        fit_result(&mut long, 40);

        assert_eq!(
            long.stdout.len(),
            30,
            "stderr keeps a quarter, stdout the rest"
        );
        assert_eq!(long.stderr.len(), 10);
        assert!(long.stdout_truncated && long.stderr_truncated);
        assert_eq!(long.metadata[TRUNCATION_NOTE]["droppedBytes"], 160);
        assert_eq!(long.metadata[TRUNCATION_NOTE]["maxResultBytes"], 40);
        assert_eq!(long.status, OutcomeStatus::Succeeded);
        assert_eq!(long.exit_code, Some(0));
    }

    #[test]
    fn a_short_stdout_leaves_its_room_to_stderr() {
        let mut mostly_errors = outcome("ok", &"e".repeat(100));

        fit_result(&mut mostly_errors, 40);

        assert_eq!(mostly_errors.stdout, "ok");
        assert!(!mostly_errors.stdout_truncated);
        assert_eq!(mostly_errors.stderr.len(), 38);
    }

    #[test]
    fn cuts_fall_on_character_and_base64_boundaries() {
        let mut text = outcome(&"é".repeat(10), "");
        let mut encoded = outcome("QUJDREVGR0hJSktM", "");
        encoded.stdout_encoding = ContentEncoding::Base64;

        fit_result(&mut text, 5);
        fit_result(&mut encoded, 7);

        assert_eq!(text.stdout, "éé");
        assert_eq!(encoded.stdout, "QUJD");
    }

    #[test]
    fn a_huge_error_or_metadata_is_cut_too() {
        let mut noisy = outcome("", "");
        noisy.error = Some("x".repeat(MAX_ERROR_BYTES * 2));
        noisy
            .metadata
            .insert("junk".into(), json!("y".repeat(MAX_METADATA_BYTES)));

        fit_result(&mut noisy, 1024);

        let error = noisy.error.as_deref().unwrap();
        assert!(error.len() <= MAX_ERROR_BYTES && error.ends_with('…'));
        assert!(noisy.metadata.get("junk").is_none());
        assert!(noisy.metadata.contains_key(TRUNCATION_NOTE));
    }

    #[test]
    fn the_same_result_is_always_cut_the_same_way() {
        let mut first = outcome(&"o".repeat(100), &"e".repeat(7));
        let mut again = first.clone();

        fit_result(&mut first, 50);
        fit_result(&mut again, 50);

        assert_eq!(first, again);
    }
}
