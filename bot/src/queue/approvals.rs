//! Approvals: the worker asks, the owner answers, the worker verifies. The queue only
//! relays: it cannot check a TOTP code (the secret lives on the Mac), so nothing here makes a
//! task run — the worker decides, and reports back.

use openclaw_shared::worker::ApprovalDecision;
use openclaw_shared::{LeaseId, TaskId, TaskStatus};

use super::error::{refused, QueueError};
use super::events::TaskEvent;
use super::handle::Queue;
use super::task::{ApprovalProgress, Task};

impl Queue {
    /// Records the worker's approval progress on a task it holds under `lease`.
    #[tracing::instrument(skip_all, fields(task_id = %id, worker))]
    pub async fn update_approval(
        &self,
        id: TaskId,
        worker: &str,
        lease: LeaseId,
        progress: ApprovalProgress,
    ) -> Result<Task, QueueError> {
        let holder = worker.to_owned();
        let progress = self
            .write(move |store| {
                let done = store.update_approval(id, &holder, lease, &progress)?;
                Ok(done.map(|()| progress))
            })
            .await?
            .map_err(|refusal| refused(id, refusal))?;
        match progress {
            ApprovalProgress::Requested { fingerprint, .. } => {
                tracing::info!(%fingerprint, "task awaits the owner's approval");
                self.publish(TaskEvent::AwaitingApproval { id });
            }
            ApprovalProgress::Approved => {
                tracing::info!("worker verified the approval; task runs");
                self.publish(TaskEvent::Claimed {
                    id,
                    worker: worker.to_owned(),
                });
            }
            ApprovalProgress::Rejected { reason } => {
                tracing::warn!(%reason, "worker rejected a relayed approval");
                self.publish(TaskEvent::ApprovalRejected { id, reason });
            }
        }
        self.get(id).await
    }

    /// Records the owner's answer for the worker to pick up on its next heartbeat. The task
    /// must be awaiting approval; a fingerprint, when given, must be the one it awaits.
    #[tracing::instrument(skip_all, fields(task_id = %id))]
    pub async fn submit_approval(
        &self,
        id: TaskId,
        decision: ApprovalDecision,
    ) -> Result<Task, QueueError> {
        let fingerprint = match &decision {
            ApprovalDecision::Approve { fingerprint, .. } => Some(fingerprint.as_str()),
            ApprovalDecision::Deny => None,
        };
        let task = self.get(id).await?;
        if task.status != TaskStatus::AwaitingApproval {
            return Err(QueueError::Conflict {
                id,
                status: task.status,
            });
        }
        let awaited = task.approval.as_ref().map(|a| a.fingerprint.as_str());
        if fingerprint.is_some_and(|given| Some(given) != awaited) {
            return Err(QueueError::FingerprintMismatch(id));
        }
        if !self
            .write(move |store| store.set_decision(id, &decision))
            .await?
        {
            // It stopped waiting between the read and the write.
            let now = self.get(id).await?;
            return Err(QueueError::Conflict {
                id,
                status: now.status,
            });
        }
        tracing::info!("owner's answer queued for the worker");
        self.get(id).await
    }

    /// The tasks awaiting the owner's approval under exactly `fingerprint` (as normalized
    /// when the worker reported it), oldest first. Normally one or none: fingerprints cover
    /// the task id. Several means workers reported the same code, and the caller must not
    /// guess which one the owner meant.
    pub async fn find_awaiting_approval(&self, fingerprint: &str) -> Result<Vec<Task>, QueueError> {
        let fingerprint = fingerprint.to_owned();
        Ok(self
            .read(move |store| store.awaiting_fingerprint(&fingerprint))
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use openclaw_shared::{OutcomeStatus, TaskOutcome, TaskSpec};

    use super::*;
    use crate::queue::{NewTask, QueueSettings};

    fn open() -> (Queue, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue.sqlite3");
        let queue = Queue::open(&path, QueueSettings::default()).unwrap();
        (queue, dir)
    }

    /// Queues a command, claims it as `mac` and reports an approval request for it; returns
    /// the task and the lease it is held under.
    async fn awaiting(queue: &Queue, fingerprint: &str) -> (Task, LeaseId) {
        let spec = TaskSpec::Command {
            command: "rm -rf build".into(),
            cwd: None,
        };
        queue
            .enqueue(NewTask {
                spec,
                timeout: Duration::from_secs(30),
                target_worker: None,
                origin: None,
                owner: None,
                callback_url: None,
            })
            .await
            .unwrap();
        let claim = queue
            .claim("mac", 1, Duration::ZERO)
            .await
            .unwrap()
            .remove(0);
        let progress = ApprovalProgress::Requested {
            fingerprint: fingerprint.into(),
            summary: "/bin/rm -rf build".into(),
            expires_at: 1,
        };
        let task = queue
            .update_approval(claim.task.id, "mac", claim.lease, progress)
            .await
            .unwrap();
        (task, claim.lease)
    }

    fn ids(tasks: &[Task]) -> Vec<TaskId> {
        tasks.iter().map(|t| t.id).collect()
    }

    #[tokio::test]
    async fn a_task_is_found_by_the_exact_fingerprint_it_awaits() {
        let (queue, _dir) = open();
        let (_, _) = awaiting(&queue, "ABCD2345").await;
        let (second, _) = awaiting(&queue, "WXYZ6789").await;

        let found = queue.find_awaiting_approval("WXYZ6789").await.unwrap();
        let prefix = queue.find_awaiting_approval("WXYZ").await.unwrap();
        let lower = queue.find_awaiting_approval("wxyz6789").await.unwrap();

        assert_eq!(ids(&found), [second.id]);
        assert!(prefix.is_empty());
        // Normalizing what the owner typed is the caller's job; the store matches exactly.
        assert!(lower.is_empty());
    }

    #[tokio::test]
    async fn a_task_that_stopped_waiting_is_no_longer_found() {
        let (queue, _dir) = open();
        let (approved, approved_lease) = awaiting(&queue, "ABCD2345").await;
        let (denied, denied_lease) = awaiting(&queue, "WXYZ6789").await;

        queue
            .update_approval(
                approved.id,
                "mac",
                approved_lease,
                ApprovalProgress::Approved,
            )
            .await
            .unwrap();
        queue
            .complete(
                denied.id,
                "mac",
                denied_lease,
                TaskOutcome::new(OutcomeStatus::Denied),
            )
            .await
            .unwrap();

        assert!(queue
            .find_awaiting_approval("ABCD2345")
            .await
            .unwrap()
            .is_empty());
        assert!(queue
            .find_awaiting_approval("WXYZ6789")
            .await
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn two_tasks_reported_with_one_fingerprint_are_both_returned_oldest_first() {
        let (queue, _dir) = open();
        let (first, _) = awaiting(&queue, "ABCD2345").await;
        let (second, _) = awaiting(&queue, "ABCD2345").await;

        let found = queue.find_awaiting_approval("ABCD2345").await.unwrap();

        assert_eq!(ids(&found), [first.id, second.id]);
    }
}
