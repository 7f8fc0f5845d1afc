//! Stored tasks → wire shapes: the client's [`TaskView`]/[`TaskSummary`] (the original's
//! field names and words) and the worker's [`ClaimedTask`].

use std::time::Duration;

use openclaw_shared::client::{client_status, ApprovalView, TaskSummary, TaskView};
use openclaw_shared::worker::ClaimedTask;
use openclaw_shared::TaskStatus;

use crate::queue::{Claim, Task, TaskBrief};

/// What an unfinished task says, in the original's words.
pub const NOT_READY: &str = "Result not ready yet";
/// Longest `summary` in a task list, in characters.
const SUMMARY_CHARS: usize = 120;

/// A task as `GET /tasks/:id` shows it: result fields once final, `message` while live.
pub fn task_view(task: &Task) -> TaskView {
    let mut view = TaskView {
        task_id: task.id,
        status: client_status(task.status).to_owned(),
        state: task.status,
        kind: task.spec.kind(),
        message: None,
        worker: task.worker.clone().or_else(|| task.target_worker.clone()),
        owner: task.owner.clone(),
        priority: Some(task.priority.get()),
        created_at: task.created_at,
        started_at: task.started_at,
        stdout: None,
        stderr: None,
        exit_code: None,
        signal: None,
        error: None,
        completed_at: None,
        metadata: None,
        encoding: None,
        stdout_truncated: None,
        stderr_truncated: None,
        stdout_omitted_bytes: None,
        stderr_omitted_bytes: None,
        duration_ms: None,
        fingerprint: None,
        approval: None,
        attachments: None,
    };
    if !task.status.is_terminal() {
        view.message = Some(NOT_READY.to_owned());
        if let (TaskStatus::AwaitingApproval, Some(approval)) = (task.status, &task.approval) {
            view.fingerprint = Some(approval.fingerprint.clone());
            view.approval = Some(ApprovalView {
                fingerprint: approval.fingerprint.clone(),
                expires_at: approval.expires_at,
            });
            view.message = Some(format!(
                "Awaiting the owner's approval on the worker: {}",
                approval.summary
            ));
        }
        return view;
    }
    view.completed_at = task.completed_at;
    match &task.outcome {
        Some(outcome) => {
            view.stdout = Some(outcome.stdout.clone());
            view.stderr = Some(outcome.stderr.clone());
            view.exit_code = Some(outcome.exit_code);
            view.signal = outcome.signal;
            view.error = Some(outcome.error.clone());
            view.metadata = Some(outcome.metadata.clone());
            view.encoding = Some(outcome.stdout_encoding);
            view.stdout_truncated = Some(outcome.stdout_truncated);
            view.stderr_truncated = Some(outcome.stderr_truncated);
            let omitted = |key: &str| {
                outcome
                    .metadata
                    .get(key)
                    .and_then(|o| o.get("omittedBytes"))
                    .and_then(serde_json::Value::as_u64)
            };
            view.stdout_omitted_bytes = omitted("stdoutOmitted");
            view.stderr_omitted_bytes = omitted("stderrOmitted");
            view.duration_ms = Some(outcome.duration_ms);
        }
        // The queue gives every final task an outcome; should one lack it, the client
        // still gets the finished shape with a reason rather than a half-live view.
        None => {
            view.stdout = Some(String::new());
            view.stderr = Some(String::new());
            view.exit_code = Some(None);
            view.error = Some(Some(format!("task ended as {}", task.status)));
        }
    }
    view
}

/// A row of `GET /tasks`, from the brief the queue lists (never the task's content or
/// output).
pub fn task_summary(task: &TaskBrief) -> TaskSummary {
    let summary = match task.summary.char_indices().nth(SUMMARY_CHARS) {
        Some((cut, _)) => format!("{}…", &task.summary[..cut]),
        None => task.summary.clone(),
    };
    TaskSummary {
        task_id: task.id,
        status: client_status(task.status).to_owned(),
        state: task.status,
        kind: task.kind,
        summary,
        worker: task.worker.clone().or_else(|| task.target_worker.clone()),
        owner: task.owner.clone(),
        created_at: task.created_at,
        completed_at: task.completed_at,
        exit_code: task.exit_code,
    }
}

/// A claim as the worker receives it.
pub fn claimed_task(claim: Claim) -> ClaimedTask {
    ClaimedTask {
        id: claim.task.id,
        lease: claim.lease,
        timeout_ms: millis(claim.task.timeout),
        lease_ttl_ms: millis(claim.lease_ttl),
        offer_ttl_ms: millis(claim.offer_ttl),
        created_at: claim.task.created_at,
        spec: claim.task.spec,
    }
}

/// A duration in whole milliseconds, saturating (no real duration gets near the limit).
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_shared::{TaskId, TaskOutcome, TaskSpec};

    fn task(status: TaskStatus, outcome: Option<TaskOutcome>) -> Task {
        Task {
            id: TaskId::new(),
            spec: TaskSpec::Command {
                command: "x".repeat(500),
                cwd: None,
            },
            status,
            timeout: Duration::from_secs(30),
            target_worker: Some("mac".into()),
            worker: None,
            origin: None,
            owner: None,
            priority: crate::queue::Priority::default(),
            cancel_requested: false,
            created_at: 1,
            started_at: None,
            completed_at: Some(2),
            outcome,
            approval: None,
        }
    }

    #[test]
    fn a_queued_task_reads_pending_and_not_ready() {
        let view = task_view(&task(TaskStatus::Queued, None));

        assert_eq!(view.status, "pending");
        assert_eq!(view.message.as_deref(), Some(NOT_READY));
        assert_eq!(view.stdout, None);
        assert_eq!(view.completed_at, None);
        assert_eq!(view.worker.as_deref(), Some("mac"));
    }

    #[test]
    fn a_finished_task_carries_its_result() {
        let mut outcome = TaskOutcome::failure("boom");
        outcome.stdout = "out".into();

        let view = task_view(&task(TaskStatus::Failed, Some(outcome)));

        assert_eq!(view.status, "failed");
        assert_eq!(view.message, None);
        assert_eq!(view.stdout.as_deref(), Some("out"));
        assert_eq!(view.exit_code, Some(Some(1)));
        assert_eq!(view.error, Some(Some("boom".into())));
        assert_eq!(view.completed_at, Some(2));
    }

    #[test]
    fn summaries_are_cut_to_a_readable_length() {
        let full = task(TaskStatus::Queued, None);
        let brief = TaskBrief {
            id: full.id,
            kind: full.spec.kind(),
            status: full.status,
            summary: TaskBrief::summary_of(&full.spec),
            target_worker: full.target_worker,
            worker: full.worker,
            created_at: full.created_at,
            completed_at: full.completed_at,
            exit_code: None,
            owner: full.owner,
        };

        let summary = task_summary(&brief);

        assert_eq!(summary.summary.chars().count(), SUMMARY_CHARS + 1);
        assert!(summary.summary.ends_with('…'));
    }
}
