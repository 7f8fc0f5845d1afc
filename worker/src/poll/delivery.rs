//! Result delivery: every finished task's outcome is queued and sent until the server
//! acknowledges it (a duplicate is fine), shrunk once after a 413, dropped after a final
//! refusal or when its lease is gone.

use std::sync::{Arc, Mutex};

use openclaw_shared::{LeaseId, OutcomeStatus, TaskId, TaskOutcome};
use reqwest::StatusCode;
use tokio::time::sleep;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::{Pending, State, StopReason, Worker, REJECTED_RETRY};
use crate::client::{Backoff, FailureKind};
use crate::spool::Spool;
use crate::telemetry::error_chain;

impl Worker {
    /// Delivers queued results, oldest first, until `done`: retries transient failures
    /// with backoff, shrinks a result once after a 413, drops one the server refuses.
    pub(super) async fn report_loop(&self, done: &CancellationToken) {
        let mut backoff = Backoff::default();
        loop {
            tokio::select! {
                () = self.wait_until(|s| !s.undelivered.is_empty()) => {}
                () = done.cancelled() => return,
            }
            let Some((id, lease, outcome, shrunk)) = self
                .lock()
                .undelivered
                .front()
                .map(|p| (p.task_id, p.lease, Arc::clone(&p.outcome), p.shrunk))
            else {
                continue;
            };
            let sent = tokio::select! {
                sent = self.rt.client.submit_result(&self.name, id, lease, &outcome) => sent,
                // Sent on a connection that died with the sleep: send it again now.
                () = self.wake.woken() => continue,
                () = done.cancelled() => return,
            };
            let delay = match sent {
                Ok(ack) => {
                    info!(task_id = %id, duplicate = ack.duplicate, late = ack.late, "result delivered");
                    self.remove_pending(id);
                    backoff.reset();
                    continue;
                }
                Err(err) if err.status() == Some(StatusCode::PAYLOAD_TOO_LARGE) && !shrunk => {
                    warn!(task_id = %id, "result too large for the server; sending it without output");
                    self.replace_pending(id, without_output(&outcome));
                    continue;
                }
                Err(err) => match err.kind() {
                    FailureKind::Rejected => {
                        // 403 not holder, 404 unknown task, 409 lease mismatch: final.
                        error!(task_id = %id, error = %error_chain(&err), "server refused the result; dropping it");
                        self.remove_pending(id);
                        continue;
                    }
                    FailureKind::Unauthorized => {
                        error!(task_id = %id, error = %error_chain(&err), "worker token rejected while delivering a result; will retry");
                        REJECTED_RETRY
                    }
                    FailureKind::Transient => {
                        let delay = backoff
                            .next_delay()
                            .max(err.retry_after().unwrap_or_default());
                        warn!(task_id = %id, error = %error_chain(&err), retry_in_ms = delay.as_millis(), "result delivery failed; retrying");
                        delay
                    }
                },
            };
            tokio::select! {
                () = sleep(delay) => {}
                () = self.wake.woken() => backoff.reset(),
                () = done.cancelled() => return,
            }
        }
    }

    /// Forgets a result the server acknowledged or refused for good, spool included.
    fn remove_pending(&self, id: TaskId) {
        self.lock().undelivered.retain(|p| p.task_id != id);
        self.rt.spool.remove(id);
        self.changed.notify_waiters();
    }

    fn replace_pending(&self, id: TaskId, outcome: TaskOutcome) {
        if let Some(pending) = self.lock().undelivered.iter_mut().find(|p| p.task_id == id) {
            pending.outcome = Arc::new(outcome);
            pending.shrunk = true;
        }
    }
}

/// Records a finished task: its result is kept in the spool (if the task has a directory
/// there) and queued for delivery, unless its lease is gone (then it is forgotten).
pub(super) fn finish(
    state: &Mutex<State>,
    spool: &Spool,
    id: TaskId,
    lease: LeaseId,
    mut outcome: TaskOutcome,
) {
    let relock = || {
        state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    let stop = {
        let mut state = relock();
        state.count_denied(outcome.status);
        state.running.get(&id).and_then(|r| r.stop)
    };
    if stop == Some(StopReason::LeaseGone) {
        relock().running.remove(&id);
        spool.remove(id);
        info!(task_id = %id, "task stopped because its lease is gone; result dropped");
        return;
    }
    // A task stopped by the loop says why; one that ended waiting for approval already does.
    if outcome.status == OutcomeStatus::Cancelled {
        if let Some(stop) = stop {
            outcome.error = Some(
                match stop {
                    StopReason::Shutdown => "the worker shut down before the task finished",
                    _ => "cancelled on request",
                }
                .to_owned(),
            );
        }
    }
    info!(
        task_id = %id,
        status = ?outcome.status,
        exit_code = ?outcome.exit_code,
        duration_ms = outcome.duration_ms,
        "task finished"
    );
    // Kept before it is queued (and so before it can be delivered and its directory go):
    // a worker that starts after a crash delivers this very outcome.
    if let Err(err) = spool.task(id).keep_outcome(&outcome) {
        if err.kind() != std::io::ErrorKind::NotFound {
            warn!(task_id = %id, error = %err, "cannot keep the result in the spool; a crash before it is delivered would lose it");
        }
    }
    let mut state = relock();
    state.running.remove(&id);
    state.undelivered.push_back(Pending {
        task_id: id,
        lease,
        outcome: Arc::new(outcome),
        shrunk: false,
    });
}

/// The outcome without its output, for a server that refused the full one (413). A
/// success without its content is not a success for the client, so it becomes a failure.
fn without_output(outcome: &TaskOutcome) -> TaskOutcome {
    let size = outcome.stdout.len() + outcome.stderr.len();
    let mut slim = outcome.clone();
    slim.stdout = String::new();
    slim.stderr = String::new();
    slim.stdout_encoding = openclaw_shared::ContentEncoding::Utf8;
    slim.stdout_truncated = !outcome.stdout.is_empty();
    slim.stderr_truncated = !outcome.stderr.is_empty();
    let note = format!("the output ({size} bytes) was larger than the server accepts");
    slim.error = Some(match &outcome.error {
        Some(error) => format!("{error}; {note}"),
        None => note,
    });
    if slim.status == OutcomeStatus::Succeeded {
        slim.status = OutcomeStatus::Failed;
    }
    slim
}

#[cfg(test)]
mod tests {
    use super::super::Running;
    use super::*;
    use tokio::sync::mpsc::unbounded_channel;

    #[test]
    fn result_without_output_is_a_failure_that_says_why() {
        let mut outcome = TaskOutcome::new(OutcomeStatus::Succeeded);
        outcome.stdout = "x".repeat(100);

        let slim = without_output(&outcome);

        assert_eq!(slim.status, OutcomeStatus::Failed);
        assert!(slim.stdout.is_empty());
        assert!(slim.stdout_truncated);
        assert!(slim.error.unwrap().contains("100 bytes"));
    }

    #[test]
    fn cancelled_task_stopped_for_shutdown_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let state = Mutex::new(State::default());
        let (id, lease) = (TaskId::new(), LeaseId::new());
        state.lock().unwrap().running.insert(
            id,
            Running {
                lease,
                cancel: CancellationToken::new(),
                stop: Some(StopReason::Shutdown),
                decisions: unbounded_channel().0,
                lost: false,
            },
        );

        finish(
            &state,
            &spool,
            id,
            lease,
            TaskOutcome::new(OutcomeStatus::Cancelled),
        );

        let state = state.lock().unwrap();
        let error = state.undelivered[0].outcome.error.clone().unwrap();
        assert!(error.contains("shut down"), "{error}");
        assert!(state.running.is_empty());
    }

    #[test]
    fn task_whose_lease_is_gone_is_not_reported() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let state = Mutex::new(State::default());
        let (id, lease) = (TaskId::new(), LeaseId::new());
        state.lock().unwrap().running.insert(
            id,
            Running {
                lease,
                cancel: CancellationToken::new(),
                stop: Some(StopReason::LeaseGone),
                decisions: unbounded_channel().0,
                lost: false,
            },
        );

        finish(
            &state,
            &spool,
            id,
            lease,
            TaskOutcome::new(OutcomeStatus::Cancelled),
        );

        assert!(state.lock().unwrap().undelivered.is_empty());
    }
}
