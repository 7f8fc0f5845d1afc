//! The sweep: the queue's periodic clean-up. Offers nobody accepted go back on the queue,
//! tasks nobody claimed in time expire, accepted tasks whose worker went quiet are lost,
//! and old results are pruned.

use openclaw_shared::{EpochMillis, TaskStatus};

use super::clock::duration_millis;
use super::error::QueueError;
use super::events::TaskEvent;
use super::handle::Queue;
use super::store::LapsedOffers;

/// What a sweep changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Offered but never accepted: back on the queue.
    pub requeued: usize,
    /// Queued past their TTL: now `expired`.
    pub expired: usize,
    /// Accepted, but their lease lapsed: now `lost`.
    pub lost: usize,
    /// Finished longer ago than the retention: deleted.
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
        // First, so an offer that lapsed together with its task's TTL expires below, and
        // so the `lost` pass only sees accepted leases.
        let LapsedOffers {
            requeued,
            cancelled,
        } = self
            .write(move |store| store.requeue_unaccepted(now))
            .await?;
        for &id in &requeued {
            tracing::warn!(task_id = %id, "offer not accepted in time; task back on the queue");
            self.publish(TaskEvent::Queued { id });
        }
        if !requeued.is_empty() {
            self.inner.task_queued.notify_waiters();
        }
        for &id in &cancelled {
            tracing::info!(task_id = %id, "offer not accepted and cancel requested; cancelled");
            self.publish(TaskEvent::Finished {
                id,
                status: TaskStatus::Cancelled,
            });
        }
        let expired = self
            .write(move |store| store.expire_queued(now, EXPIRED_WHY))
            .await?;
        let ttl = duration_millis(self.inner.settings.lease_ttl);
        let contacts = &self.inner.contacts;
        // Leases are measured from the last contact, not only from the last write: a
        // worker heard from during a write outage keeps its tasks.
        let lost = if contacts.in_grace(now, ttl) {
            Vec::new()
        } else {
            let spared = contacts.spared(now, ttl);
            self.write(move |store| store.lose_lapsed(now, LOST_WHY, &spared))
                .await?
        };
        let cutoff = now.saturating_sub(duration_millis(self.inner.settings.retention));
        let pruned = self.write(move |store| store.prune(cutoff)).await?;
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
}
