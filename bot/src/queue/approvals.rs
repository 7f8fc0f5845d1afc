//! Approvals: the worker asks, the owner answers, the worker verifies. The queue only
//! relays: it cannot check a TOTP code (the secret lives on the Mac), so nothing here makes a
//! task run — the worker decides, and reports back.

use openclaw_shared::worker::ApprovalDecision;
use openclaw_shared::{EpochMillis, LeaseId, TaskId, TaskStatus};
use rusqlite::{params, OptionalExtension};

use super::store::{parse_status, to_i64, Refusal, Store, StoreError};
use super::{refused, Queue, QueueError, Task, TaskEvent};

/// What the worker says about an approval, as the queue records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalProgress {
    /// The task now waits for the owner.
    Requested {
        fingerprint: String,
        summary: String,
        expires_at: EpochMillis,
    },
    /// The worker verified an approval; the task runs.
    Approved,
    /// The worker refused the relayed answer; the task keeps waiting.
    Rejected { reason: String },
}

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
        self.inner
            .store
            .update_approval(id, worker, lease, &progress)?
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
        let json = serde_json::to_string(&decision).map_err(StoreError::from)?;
        if !self.inner.store.set_decision(id, &json)? {
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
}

impl Store {
    /// Applies the worker's approval progress if it holds the live task under `lease`.
    pub fn update_approval(
        &self,
        id: TaskId,
        worker: &str,
        lease: LeaseId,
        progress: &ApprovalProgress,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let held: Option<(String, Option<String>, Option<String>)> = tx
            .query_row(
                "SELECT status, worker, lease_id FROM tasks WHERE id = ?1",
                params![id.to_string()],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        let Some((status, holder, current_lease)) = held else {
            return Ok(Err(Refusal::NotFound));
        };
        if holder.as_deref() != Some(worker) {
            return Ok(Err(Refusal::NotHolder));
        }
        if current_lease.as_deref() != Some(lease.to_string().as_str()) {
            return Ok(Err(Refusal::LeaseMismatch));
        }
        let status = parse_status(&status)?;
        let allowed = match progress {
            ApprovalProgress::Requested { .. } => {
                matches!(status, TaskStatus::Running | TaskStatus::AwaitingApproval)
            }
            ApprovalProgress::Approved | ApprovalProgress::Rejected { .. } => {
                status == TaskStatus::AwaitingApproval
            }
        };
        if !allowed {
            return Ok(Err(Refusal::Conflict(status)));
        }
        let id = id.to_string();
        match progress {
            ApprovalProgress::Requested {
                fingerprint,
                summary,
                expires_at,
            } => tx.execute(
                "UPDATE tasks SET status = 'awaiting_approval', fingerprint = ?2, \
                 approval_summary = ?3, approval_expires_at = ?4, approval_decision = NULL \
                 WHERE id = ?1",
                params![id, fingerprint, summary, to_i64(*expires_at)],
            )?,
            ApprovalProgress::Approved => tx.execute(
                "UPDATE tasks SET status = 'running', approval_decision = NULL WHERE id = ?1",
                params![id],
            )?,
            ApprovalProgress::Rejected { .. } => tx.execute(
                "UPDATE tasks SET approval_decision = NULL WHERE id = ?1",
                params![id],
            )?,
        };
        tx.commit()?;
        Ok(Ok(()))
    }

    /// Stores the owner's answer on a task still awaiting approval; false if it is not.
    pub fn set_decision(&self, id: TaskId, decision_json: &str) -> Result<bool, StoreError> {
        let changed = self.conn().execute(
            "UPDATE tasks SET approval_decision = ?2 WHERE id = ?1 \
             AND status = 'awaiting_approval'",
            params![id.to_string(), decision_json],
        )?;
        Ok(changed > 0)
    }
}
