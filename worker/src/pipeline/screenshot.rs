//! Screenshots: when an outcome names a file to show in Discord (`metadata.screenshotPath`,
//! from Claude's `PLEASE_UPLOAD_TO_DISCORD:` line), the worker uploads it with the result,
//! but only if the READ policy allows that path outright (a prompt-injected Claude naming
//! `~/.ssh/id_rsa` uploads nothing, and a canary locks the worker), the file is an image by
//! its content, and it fits Discord's 10 MiB.

use std::path::Path;
use std::sync::Arc;

use openclaw_shared::worker::{is_valid_attachment_name, sniff_image_type, MAX_ATTACHMENT_BYTES};
use openclaw_shared::{TaskOutcome, TaskSpec};

use super::TaskRuntime;
use crate::client::{Backoff, FailureKind};
use crate::policy::safe_fs::{self, SafeFsError};
use crate::policy::Verdict;
use crate::telemetry::error_chain;
use openclaw_shared::worker::ClaimedTask;

/// Upload attempts (the first plus retries of transient failures).
const UPLOAD_ATTEMPTS: u32 = 4;

/// A checked image, ready to upload.
#[derive(Debug)]
pub struct Screenshot {
    /// The attachment name (the file name, made plain).
    pub name: String,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// The outcome's screenshot, checked and read: `None` when it names none, `Err` with the
/// reason it will not be uploaded.
pub async fn prepare(
    rt: &Arc<TaskRuntime>,
    task: &ClaimedTask,
    outcome: &TaskOutcome,
) -> Option<Result<Screenshot, String>> {
    let value = outcome.metadata.get("screenshotPath")?;
    let Some(raw) = value.as_str().map(str::to_owned) else {
        return Some(Err("screenshotPath is not a path".to_owned()));
    };
    let runtime = Arc::clone(rt);
    let task_id = task.id;
    // Path resolution and a read of up to 10 MiB: off the async threads.
    let loaded = tokio::task::spawn_blocking(move || load(&runtime, task_id, &raw)).await;
    Some(loaded.unwrap_or_else(|_| Err("the screenshot could not be read".to_owned())))
}

fn load(
    rt: &TaskRuntime,
    task_id: openclaw_shared::TaskId,
    raw: &str,
) -> Result<Screenshot, String> {
    let spec = TaskSpec::FileRead {
        path: raw.to_owned(),
    };
    // The same decision as a read task, canary lock included; only `allow` passes (nobody
    // is asked to approve a screenshot).
    let decision = rt.guard.decide(task_id, &spec);
    if decision.verdict != Verdict::Allow {
        return Err(format!(
            "{raw} refused by the worker's policy ({}): {}",
            decision.rule, decision.reason
        ));
    }
    let path = decision
        .plan
        .paths
        .first()
        .ok_or_else(|| format!("{raw} resolves to nothing"))?;
    let limit = MAX_ATTACHMENT_BYTES as u64;
    let bytes = safe_fs::read_capped(path, limit).map_err(|err| match err {
        SafeFsError::TooLarge { .. } => format!("{raw} is over the 10 MiB attachment limit"),
        other => format!("cannot read {raw}: {other}"),
    })?;
    let content_type = sniff_image_type(&bytes)
        .ok_or_else(|| format!("{raw} is not a PNG, JPEG, GIF or WebP image"))?;
    Ok(Screenshot {
        name: attachment_name(path, content_type),
        bytes,
    })
}

/// A plain attachment name from the file name: characters outside `A-Z a-z 0-9 . _ -`
/// become `_`, leading dots go, at most 128 characters; `screenshot.<ext>` when nothing
/// is left.
pub fn attachment_name(path: &Path, content_type: &str) -> String {
    let raw = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let plain: String = raw
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_start_matches('.')
        .chars()
        .take(128)
        .collect();
    if is_valid_attachment_name(&plain) {
        return plain;
    }
    let ext = content_type.strip_prefix("image/").unwrap_or("png");
    format!("screenshot.{ext}")
}

/// Uploads the screenshot under the task's lease, retrying transient failures.
pub async fn upload(rt: &TaskRuntime, task: &ClaimedTask, shot: Screenshot) -> Result<(), String> {
    let mut backoff = Backoff::default();
    let mut attempt = 1;
    loop {
        let sent = rt
            .client
            .upload_attachment(
                &rt.name,
                task.id,
                task.lease,
                &shot.name,
                shot.bytes.clone(),
            )
            .await;
        let err = match sent {
            Ok(()) => {
                tracing::info!(task_id = %task.id, name = %shot.name, bytes = shot.bytes.len(), "screenshot uploaded");
                return Ok(());
            }
            Err(err) => err,
        };
        if err.kind() == FailureKind::Rejected || attempt >= UPLOAD_ATTEMPTS {
            return Err(format!("upload failed: {}", error_chain(&err)));
        }
        attempt += 1;
        let delay = backoff
            .next_delay()
            .max(err.retry_after().unwrap_or_default());
        tokio::time::sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_plain_or_replaced() {
        let png = "image/png";

        assert_eq!(attachment_name(Path::new("/tmp/shot.png"), png), "shot.png");
        assert_eq!(
            attachment_name(Path::new("/tmp/my shot (1).png"), png),
            "my_shot__1_.png"
        );
        assert_eq!(
            attachment_name(Path::new("/tmp/.hidden.png"), png),
            "hidden.png"
        );
        assert_eq!(
            attachment_name(Path::new("/tmp/..."), "image/jpeg"),
            "screenshot.jpeg"
        );
        assert_eq!(attachment_name(Path::new("/"), png), "screenshot.png");
    }
}
