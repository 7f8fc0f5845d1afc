//! Accepting claimed tasks. A claim is only an offer: the server may have handed it to a
//! long poll that died unseen (the Mac asleep), and it puts an offer nobody accepts back on
//! the queue. So the worker accepts by heartbeating the new leases *before* running
//! anything, and runs only what that heartbeat answers `active`: a task it did not accept
//! may be running elsewhere, and running it too could run a command twice.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use openclaw_shared::worker::{ClaimedTask, HeldLease, LeaseState};
use openclaw_shared::{OutcomeStatus, TaskId, TaskOutcome};
use tokio::time::{sleep, timeout_at, Instant};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::pace::MAX_REFUSALS_PER_CLAIM;
use super::{Pending, Worker};
use crate::client::{Backoff, FailureKind};
use crate::telemetry::error_chain;

impl Worker {
    /// Accepts the claimed `tasks` for at most `free` slots and returns those to start, in
    /// the order claimed. A task this worker already has is skipped (its first run's result
    /// stands); one beyond the free slots is refused (reported failed, nothing runs); one
    /// cancelled meanwhile is reported `cancelled` without running; one the server no longer
    /// offers is dropped. When the acceptance cannot get through before the offer runs out,
    /// or at shutdown, all are dropped: the server requeues them.
    pub(super) async fn accept(
        &self,
        tasks: Vec<ClaimedTask>,
        free: usize,
        shutdown: &CancellationToken,
    ) -> Vec<ClaimedTask> {
        let mut offered = Vec::with_capacity(tasks.len().min(free));
        let mut refused = 0usize;
        let mut dropped = 0usize;
        for task in tasks {
            let state = self.lock();
            let known = state.running.contains_key(&task.id)
                || state.undelivered.iter().any(|p| p.task_id == task.id);
            drop(state);
            if known {
                // Accepting it again would move its lease away from the run in progress.
                warn!(task_id = %task.id, "server handed out a task this worker already has; ignored");
            } else if offered.len() >= free && refused >= MAX_REFUSALS_PER_CLAIM {
                dropped += 1;
            } else if offered.len() >= free {
                // Never run more than max_concurrent, whatever the server sends.
                warn!(task_id = %task.id, "server sent more tasks than free slots; refusing");
                self.refuse_task(task);
                refused += 1;
            } else {
                offered.push(task);
            }
        }
        if dropped > 0 {
            warn!(
                dropped,
                "server sent far more tasks than free slots; the rest are dropped unreported"
            );
        }
        if offered.is_empty() {
            return offered;
        }
        let leases: Vec<HeldLease> = offered
            .iter()
            .map(|task| HeldLease {
                task_id: task.id,
                lease: task.lease,
            })
            .collect();
        let Some(states) = self.send_acceptance(&offered, leases, shutdown).await else {
            return Vec::new();
        };
        let mut accepted = Vec::with_capacity(offered.len());
        for task in offered {
            match states.get(&task.id) {
                Some(LeaseState::Active) => accepted.push(task),
                Some(LeaseState::CancelRequested) => self.report_cancelled(&task),
                Some(LeaseState::Gone) | None => {
                    debug!(task_id = %task.id, "offer withdrawn before it was accepted; dropped");
                }
            }
        }
        accepted
    }

    /// Heartbeats `leases`, retrying transient failures while the shortest offer among
    /// `offered` stands. The lease state per task, or `None` when nothing got through.
    async fn send_acceptance(
        &self,
        offered: &[ClaimedTask],
        leases: Vec<HeldLease>,
        shutdown: &CancellationToken,
    ) -> Option<HashMap<TaskId, LeaseState>> {
        let deadline = Instant::now() + offer_window(offered);
        let mut backoff = Backoff::default();
        loop {
            let attempt = tokio::select! {
                attempt = timeout_at(deadline, self.rt.client.heartbeat(&self.name, leases.clone())) => attempt,
                () = shutdown.cancelled() => {
                    info!(tasks = offered.len(), "shutting down before claimed tasks were accepted; the server requeues them");
                    return None;
                }
            };
            let err = match attempt {
                // By task id, not position: an answer that skips or reorders leases must
                // not start a task nobody accepted.
                Ok(Ok(answer)) => {
                    return Some(
                        answer
                            .leases
                            .iter()
                            .map(|report| (report.task_id, report.state))
                            .collect(),
                    )
                }
                Ok(Err(err)) => err,
                Err(_elapsed) => {
                    warn!(tasks = offered.len(), "could not accept claimed tasks before their offer ran out; dropping them (the server requeues them)");
                    return None;
                }
            };
            if err.kind() != FailureKind::Transient {
                warn!(error = %error_chain(&err), tasks = offered.len(), "server refused to accept claimed tasks; dropping them");
                return None;
            }
            let delay = backoff
                .next_delay()
                .max(err.retry_after().unwrap_or_default());
            if Instant::now() + delay >= deadline {
                warn!(error = %error_chain(&err), tasks = offered.len(), "could not accept claimed tasks before their offer ran out; dropping them (the server requeues them)");
                return None;
            }
            warn!(error = %error_chain(&err), retry_in_ms = delay.as_millis(), "accepting claimed tasks failed; retrying");
            tokio::select! {
                () = sleep(delay) => {}
                () = shutdown.cancelled() => {
                    info!(tasks = offered.len(), "shutting down before claimed tasks were accepted; the server requeues them");
                    return None;
                }
            }
        }
    }

    /// Queues a `cancelled` result for a task cancelled before it started: nothing ran.
    fn report_cancelled(&self, task: &ClaimedTask) {
        info!(task_id = %task.id, "task cancelled before it started; not running it");
        let outcome = TaskOutcome {
            error: Some("cancelled before the worker started it".to_owned()),
            ..TaskOutcome::new(OutcomeStatus::Cancelled)
        };
        self.lock().undelivered.push_back(Pending {
            task_id: task.id,
            lease: task.lease,
            outcome: Arc::new(outcome),
            shrunk: false,
        });
        self.changed.notify_waiters();
    }
}

/// How long the worker may try to accept `offered`: the shortest offer among them. A
/// server older than offers sends 0; its claims are leases already, good for `lease_ttl_ms`.
fn offer_window(offered: &[ClaimedTask]) -> Duration {
    let millis = offered
        .iter()
        .map(|task| {
            if task.offer_ttl_ms > 0 {
                task.offer_ttl_ms
            } else {
                task.lease_ttl_ms
            }
        })
        .min()
        .unwrap_or(0);
    Duration::from_millis(millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_shared::{LeaseId, TaskSpec};

    fn offered(offer_ttl_ms: u64, lease_ttl_ms: u64) -> ClaimedTask {
        ClaimedTask {
            id: TaskId::new(),
            lease: LeaseId::new(),
            spec: TaskSpec::Command {
                command: "true".into(),
                cwd: None,
            },
            timeout_ms: 1_000,
            lease_ttl_ms,
            offer_ttl_ms,
            created_at: 0,
        }
    }

    #[test]
    fn the_acceptance_window_is_the_shortest_offer() {
        let tasks = [offered(10_000, 60_000), offered(3_000, 60_000)];

        assert_eq!(offer_window(&tasks), Duration::from_millis(3_000));
    }

    #[test]
    fn a_server_without_offers_leaves_the_lease_ttl_to_accept() {
        assert_eq!(
            offer_window(&[offered(0, 60_000)]),
            Duration::from_millis(60_000)
        );
    }
}
