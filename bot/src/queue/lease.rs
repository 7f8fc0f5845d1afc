//! Leases: a claim offers queued tasks to a worker, each under a fresh lease; the worker's
//! heartbeats accept and extend its leases; the holder of a task's current lease stores its
//! result.

use std::time::Duration;

use openclaw_shared::worker::{HeldLease, LeaseReport};
use openclaw_shared::{LeaseId, TaskId, TaskOutcome, TaskStatus};

use super::clock::{duration_millis, now_millis};
use super::error::{refused, QueueError};
use super::events::TaskEvent;
use super::handle::Queue;
use super::quota::{fit_result, TRUNCATION_NOTE};
use super::task::{Completion, Task};
use super::waiters::Ticket;

/// A task offered to a worker, with its lease. The worker must accept it (heartbeat the
/// lease) within `offer_ttl` before running it, or the task goes back to the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// The task, as it is now: `running`, held by the claiming worker.
    pub task: Task,
    /// The lease the worker heartbeats and reports under.
    pub lease: LeaseId,
    /// How long an accepted lease lasts after each heartbeat.
    pub lease_ttl: Duration,
    /// How long the offer stands before the worker accepts it.
    pub offer_ttl: Duration,
}

impl Queue {
    /// Claims up to `slots` queued tasks for `worker` (untargeted ones, or those targeting
    /// it), by priority then age (see [`Priority`](super::Priority)), each with a fresh lease. When none is queued, waits up to `wait`
    /// and is woken the moment one arrives. Returns an empty list when the wait runs out.
    ///
    /// Each task is only offered: the long poll may have died unseen (a Mac asleep), so
    /// the task returns to the queue unless the worker accepts it within `offer_ttl`.
    ///
    /// A waiting claim costs nothing while it waits: a new task wakes one claim that can take
    /// it, the most recent (see `waiters`). A worker name may have
    /// `max_waiting_claims_per_worker` claims in progress at once; one more is refused with
    /// [`QueueError::TooManyClaims`].
    pub async fn claim(
        &self,
        worker: &str,
        slots: u32,
        wait: Duration,
    ) -> Result<Vec<Claim>, QueueError> {
        let deadline = tokio::time::Instant::now() + wait;
        let presence =
            self.inner
                .waiters
                .enter(worker)
                .map_err(|limit| QueueError::TooManyClaims {
                    worker: worker.to_owned(),
                    limit,
                })?;
        // The wake-up that ended the last wait, until a look at the store answers it.
        let mut woken: Option<Ticket<'_>> = None;
        loop {
            self.saw_worker(worker);
            // Register for the wake-up before looking, so an enqueue in between wakes us.
            let mut ticket = presence.register();

            let claims = self.try_claim(worker, slots).await?;
            if let Some(previous) = woken.take() {
                // Fewer tasks than slots: every task this worker may take is taken now, the
                // one we were woken for too. With every slot filled there may be more, so
                // the old ticket is dropped unanswered and passes its wake-up on.
                if claims.len() < usize::try_from(slots).unwrap_or(usize::MAX) {
                    previous.answered();
                }
            }
            if !claims.is_empty() {
                return Ok(claims);
            }
            if tokio::time::timeout_at(deadline, ticket.woken())
                .await
                .is_err()
            {
                return Ok(Vec::new());
            }
            woken = Some(ticket);
        }
    }

    async fn try_claim(&self, worker: &str, slots: u32) -> Result<Vec<Claim>, QueueError> {
        let lease_ttl = self.inner.settings.lease_ttl;
        let offer_ttl = self.inner.settings.offer_ttl;
        let now = now_millis();
        let offer_expires_at = now.saturating_add(duration_millis(offer_ttl));
        let claimer = worker.to_owned();
        let claimed = self
            .write(move |store| store.claim(&claimer, slots, now, offer_expires_at))
            .await?;
        Ok(claimed
            .into_iter()
            .map(|(task, lease)| {
                tracing::info!(task_id = %task.id, worker, "task claimed");
                self.publish(TaskEvent::Claimed {
                    id: task.id,
                    worker: worker.to_owned(),
                });
                Claim {
                    task,
                    lease,
                    lease_ttl,
                    offer_ttl,
                }
            })
            .collect())
    }

    /// Extends the leases `worker` holds and records that it is alive. Each lease gets an
    /// answer: active, cancel requested, or gone (lost, requeued, finished or not this
    /// worker's). The first heartbeat for an offered lease accepts it: from then on it
    /// lasts `lease_ttl` per heartbeat and, if it lapses, the task is `lost`.
    pub async fn heartbeat(
        &self,
        worker: &str,
        leases: &[HeldLease],
    ) -> Result<Vec<LeaseReport>, QueueError> {
        self.saw_worker(worker);
        let now = now_millis();
        let expires_at = now.saturating_add(duration_millis(self.inner.settings.lease_ttl));
        let (worker, held) = (worker.to_owned(), leases.to_vec());
        let answered = self
            .write(move |store| store.heartbeat(&worker, &held, now, expires_at))
            .await;
        if answered.is_err() {
            // The worker is alive even if the store cannot say so: spare its leases.
            self.inner
                .contacts
                .heard(leases.iter().map(|held| held.lease), now);
        }
        Ok(answered?)
    }

    /// Stores the result of a task. Only the worker holding the current lease may do so.
    /// Idempotent: the same result again under the same lease is `Duplicate`. A task marked
    /// `lost` takes the late result of the lease it was lost under (`StoredLate`): "lost,
    /// then finished" ends finished. Emits [`TaskEvent::Finished`] for a stored result.
    /// A result larger than the quota is stored cut to fit, with a note, never refused: the
    /// task keeps the status the worker reported.
    #[tracing::instrument(skip_all, fields(task_id = %id, worker))]
    pub async fn complete(
        &self,
        id: TaskId,
        worker: &str,
        lease: LeaseId,
        mut outcome: TaskOutcome,
    ) -> Result<Completion, QueueError> {
        self.saw_worker(worker);
        let status = TaskStatus::from(outcome.status);
        fit_result(&mut outcome, self.inner.settings.quota.max_result_bytes);
        if outcome.metadata.contains_key(TRUNCATION_NOTE) {
            tracing::debug!("result larger than the quota; stored cut to fit");
        }
        let (holder, now) = (worker.to_owned(), now_millis());
        let stored = self
            .write(move |store| {
                let completion = store.complete(id, &holder, lease, &outcome, now)?;
                Ok((completion, outcome))
            })
            .await;
        if stored.is_err() {
            // The worker will send it again: its lease must not lapse meanwhile.
            self.inner.contacts.heard([lease], now);
        }
        let (completion, outcome) = stored?;
        let completion = completion.map_err(|refusal| refused(id, refusal))?;
        match completion {
            Completion::Stored => {
                tracing::info!(%status, exit_code = ?outcome.exit_code, "task finished");
            }
            Completion::StoredLate => tracing::warn!(
                %status,
                exit_code = ?outcome.exit_code,
                "late result for a task marked lost: stored, the task ends with it"
            ),
            Completion::Duplicate => return Ok(completion),
        }
        self.publish(TaskEvent::Finished { id, status });
        Ok(completion)
    }
}
