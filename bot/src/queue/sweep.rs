//! The sweep: the queue's periodic clean-up. Offers nobody accepted go back on the queue,
//! tasks nobody claimed in time expire, accepted tasks whose worker went quiet are lost,
//! and old results are pruned (cancelled and expired ones sooner).

use openclaw_shared::{EpochMillis, TaskId, TaskStatus};

use super::clock::duration_millis;
use super::error::QueueError;
use super::events::TaskEvent;
use super::handle::Queue;
use super::store::LapsedOffers;
use super::waiters::Wake;

/// What a sweep changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Offered but never accepted: back on the queue.
    pub requeued: usize,
    /// Queued past their TTL: now `expired`.
    pub expired: usize,
    /// Accepted, but their lease lapsed: now `lost`.
    pub lost: usize,
    /// Finished longer ago than the retention (cancelled and expired ones: than the
    /// shorter `abandoned_retention`): deleted.
    pub pruned: usize,
}

/// The error stored on a task that nobody claimed within its TTL.
const EXPIRED_WHY: &str = "no worker claimed the task before it expired";

/// The error stored on an accepted task whose lease lapsed.
const LOST_WHY: &str =
    "the worker stopped reporting on this task (lease expired); it was not retried";

impl Queue {
    /// Requeues offers nobody accepted in time, expires queued tasks past their TTL, marks
    /// accepted tasks whose lease ran out `lost`, and prunes finished tasks older than the
    /// retention, as of `now`. Emits events and wakes waiting claims for requeued tasks.
    pub async fn sweep(&self, now: EpochMillis) -> Result<SweepReport, QueueError> {
        let store = &self.inner.store;
        // First, so an offer that lapsed together with its task's TTL expires below, and
        // so the `lost` pass only sees accepted leases.
        let LapsedOffers {
            requeued,
            cancelled,
        } = store.requeue_unaccepted(now)?;
        for &id in &requeued {
            tracing::warn!(task_id = %id, "offer not accepted in time; task back on the queue");
            self.publish(TaskEvent::Queued { id });
            self.wake_for(id).await;
        }
        for &id in &cancelled {
            tracing::info!(task_id = %id, "offer not accepted and cancel requested; cancelled");
            self.publish(TaskEvent::Finished {
                id,
                status: TaskStatus::Cancelled,
            });
        }
        let expired = store.expire_queued(now, EXPIRED_WHY)?;
        let lost = store.lose_lapsed(now, LOST_WHY)?;
        let settings = &self.inner.settings;
        let cutoff = now.saturating_sub(duration_millis(settings.retention));
        // Cancelled and expired tasks go sooner: nobody wants their bytes, and a flood of
        // them must not hold the storage budget for the whole retention.
        let abandoned = settings.abandoned_retention.min(settings.retention);
        let abandoned_cutoff = now.saturating_sub(duration_millis(abandoned));
        let pruned = store.prune(cutoff)? + store.prune_abandoned(abandoned_cutoff)?;
        for (ids, status) in [(&expired, TaskStatus::Expired), (&lost, TaskStatus::Lost)] {
            for &id in ids {
                tracing::warn!(task_id = %id, %status, "task ended by the sweeper");
                self.publish(TaskEvent::Finished { id, status });
            }
        }
        if pruned > 0 {
            tracing::debug!(pruned, "pruned old results");
        }
        Ok(SweepReport {
            requeued: requeued.len(),
            expired: expired.len(),
            lost: lost.len(),
            pruned,
        })
    }

    /// Wakes one waiting claim that can take the requeued task `id`. The sweep learns only
    /// ids, so the task's target is read back; requeues are rare (an offer nobody accepted).
    async fn wake_for(&self, id: TaskId) {
        let wake = match self.get(id).await {
            Ok(task) => Wake::for_target(task.target_worker.as_deref()),
            // Cannot tell whom it targets: wake any claim; the next claim of its worker
            // finds it in the store either way.
            Err(err) => {
                tracing::debug!(task_id = %id, error = %err, "requeued task unreadable");
                Wake::Any
            }
        };
        self.inner.waiters.wake(wake);
    }
}
