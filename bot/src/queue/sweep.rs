//! The sweep: the queue's periodic clean-up. Offers nobody accepted go back on the queue,
//! tasks nobody claimed in time expire, accepted tasks whose worker went quiet are lost,
//! and old results are pruned (cancelled and expired ones sooner).

use std::sync::Arc;

use openclaw_shared::{EpochMillis, TaskId, TaskStatus};

use super::clock::duration_millis;
use super::error::QueueError;
use super::events::TaskEvent;
use super::handle::Queue;
use super::store::{LapsedOffers, Store, StoreError};
use super::waiters::Wake;

/// Most rows one sweep step changes, in one transaction: a few milliseconds of the store's
/// writer, after which the requests waiting for it get their turn.
pub(super) const BATCH: usize = 500;

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
    ///
    /// Works in batches of 500 rows, each its own transaction on the store's writer:
    /// requests that arrive meanwhile run between batches, so a backlog of 50,000 expired
    /// tasks costs each of them at most one batch. Each task is logged at debug only; the
    /// caller logs the report as one line.
    pub async fn sweep(&self, now: EpochMillis) -> Result<SweepReport, QueueError> {
        let mut report = SweepReport::default();
        // First, so an offer that lapsed together with its task's TTL expires below, and
        // so the `lost` pass only sees accepted leases.
        loop {
            let LapsedOffers {
                requeued,
                cancelled,
            } = self
                .write(move |store| store.requeue_unaccepted(now, BATCH))
                .await?;
            for &id in &requeued {
                tracing::debug!(task_id = %id, "offer not accepted in time; task back on the queue");
                self.publish(TaskEvent::Queued { id });
                self.wake_for(id).await;
            }
            for &id in &cancelled {
                tracing::debug!(task_id = %id, "offer not accepted and cancel requested; cancelled");
                self.publish(TaskEvent::Finished {
                    id,
                    status: TaskStatus::Cancelled,
                });
            }
            report.requeued += requeued.len();
            if requeued.len() < BATCH && cancelled.len() < BATCH {
                break;
            }
        }
        report.expired = self
            .end_in_batches(TaskStatus::Expired, move |store| {
                store.expire_queued(now, EXPIRED_WHY, BATCH)
            })
            .await?;
        let ttl = duration_millis(self.inner.settings.lease_ttl);
        let contacts = &self.inner.contacts;
        // Leases are measured from the last contact, not only from the last write: a
        // worker heard from during a write outage keeps its tasks.
        if !contacts.in_grace(now, ttl) {
            let spared = Arc::new(contacts.spared(now, ttl));
            report.lost = self
                .end_in_batches(TaskStatus::Lost, move |store| {
                    store.lose_lapsed(now, LOST_WHY, &spared, BATCH)
                })
                .await?;
        }
        let settings = &self.inner.settings;
        let cutoff = now.saturating_sub(duration_millis(settings.retention));
        loop {
            let pruned = self.write(move |store| store.prune(cutoff, BATCH)).await?;
            report.pruned += pruned;
            if pruned < BATCH {
                break;
            }
        }
        // Cancelled and expired tasks go sooner: nobody wants their bytes, and a flood of
        // them must not hold the storage budget for the whole retention.
        let abandoned = settings.abandoned_retention.min(settings.retention);
        let abandoned_cutoff = now.saturating_sub(duration_millis(abandoned));
        loop {
            let pruned = self
                .write(move |store| store.prune_abandoned(abandoned_cutoff, BATCH))
                .await?;
            report.pruned += pruned;
            if pruned < BATCH {
                break;
            }
        }
        Ok(report)
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

    /// Runs `step` (which ends up to `BATCH` tasks with `status`) until it ends fewer,
    /// publishing each ended task. Returns how many it ended.
    async fn end_in_batches<F>(&self, status: TaskStatus, step: F) -> Result<usize, QueueError>
    where
        F: Fn(&dyn Store) -> Result<Vec<TaskId>, StoreError> + Clone + Send + 'static,
    {
        let mut ended = 0;
        loop {
            let ids = self.write(step.clone()).await?;
            for &id in &ids {
                tracing::debug!(task_id = %id, %status, "task ended by the sweeper");
                self.publish(TaskEvent::Finished { id, status });
            }
            ended += ids.len();
            if ids.len() < BATCH {
                return Ok(ended);
            }
        }
    }
}
