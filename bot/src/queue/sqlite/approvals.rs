//! [`ApprovalStore`] on SQLite: the worker's approval progress and the owner's answer.

use openclaw_shared::worker::ApprovalDecision;
use openclaw_shared::{LeaseId, TaskId, TaskStatus};
use rusqlite::params;

use super::leases::held_status;
use super::rows::{row_to_task, to_i64, TASK_COLUMNS};
use super::SqliteStore;
use crate::queue::store::{ApprovalStore, Refusal, StoreError};
use crate::queue::task::{ApprovalProgress, Task};

impl ApprovalStore for SqliteStore {
    fn update_approval(
        &self,
        id: TaskId,
        worker: &str,
        lease: LeaseId,
        progress: &ApprovalProgress,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let status = match held_status(&tx, id, worker, lease)? {
            Ok(status) => status,
            Err(refusal) => return Ok(Err(refusal)),
        };
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

    fn awaiting_fingerprint(&self, fingerprint: &str) -> Result<Vec<Task>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {TASK_COLUMNS} FROM tasks WHERE status = 'awaiting_approval' \
             AND fingerprint = ?1 ORDER BY seq"
        ))?;
        let rows = stmt.query_map(params![fingerprint], row_to_task)?;
        rows.map(|row| row?).collect()
    }

    fn set_decision(&self, id: TaskId, decision: &ApprovalDecision) -> Result<bool, StoreError> {
        let decision_json = serde_json::to_string(decision)?;
        let changed = self.conn().execute(
            "UPDATE tasks SET approval_decision = ?2 WHERE id = ?1 \
             AND status = 'awaiting_approval'",
            params![id.to_string(), decision_json],
        )?;
        Ok(changed > 0)
    }
}
