//! Heartbeats: held leases extended while tasks run or results wait, the owner's approval
//! answers relayed to the waiting task, and tasks stopped when the server says so (not
//! when it marked one lost but still takes its late result).

use openclaw_shared::worker::{HeartbeatResponse, LeaseState};
use tokio::time::sleep;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{StopReason, Worker};
use crate::telemetry::error_chain;

impl Worker {
    /// Extends the held leases every heartbeat interval while there are any, until `done`;
    /// applies what each answer says.
    pub(super) async fn heartbeat_loop(&self, done: &CancellationToken) {
        loop {
            // Idle workers send no heartbeats: the claim long poll already says we are alive.
            tokio::select! {
                () = self.wait_until(|s| !s.running.is_empty() || !s.undelivered.is_empty()) => {}
                () = done.cancelled() => return,
            }
            tokio::select! {
                () = sleep(self.heartbeat_interval) => {}
                // Leases may have run out while asleep: tell the server at once.
                () = self.wake.woken() => {}
                () = done.cancelled() => return,
            }
            let leases = self.lock().held_leases();
            if leases.is_empty() {
                continue;
            }
            let answer = tokio::select! {
                answer = self.rt.client.heartbeat(&self.name, leases) => answer,
                // Sent on a connection that died with the sleep: send it again now.
                () = self.wake.woken() => continue,
                () = done.cancelled() => return,
            };
            match answer {
                Ok(answer) => self.apply_heartbeat(&answer),
                Err(err) => warn!(error = %error_chain(&err), "heartbeat failed"),
            }
        }
    }

    fn apply_heartbeat(&self, answer: &HeartbeatResponse) {
        let mut state = self.lock();
        for report in &answer.leases {
            let id = report.task_id;
            if let Some(decision) = &report.approval {
                match state.running.get(&id) {
                    // The pipeline verifies it; the server's word alone approves nothing.
                    Some(running) => {
                        let _ = running.decisions.send(decision.clone());
                    }
                    None => {
                        warn!(task_id = %id, "approval answer for a task that is not running; ignored")
                    }
                }
            }
            let stop = match report.state {
                LeaseState::Active => continue,
                LeaseState::CancelRequested => StopReason::CancelRequested,
                // The server marked it lost while this worker was out of touch, and still
                // takes its result: the work goes on and is reported late.
                LeaseState::Gone if report.accepts_late_result => {
                    if let Some(running) = state.running.get_mut(&id) {
                        if !std::mem::replace(&mut running.lost, true) {
                            warn!(task_id = %id, "the server marked this task lost while the worker was out of touch; it keeps running and its result is delivered late");
                        }
                    }
                    continue;
                }
                LeaseState::Gone => StopReason::LeaseGone,
            };
            if let Some(running) = state.running.get_mut(&id) {
                if running.stop.is_none() {
                    info!(task_id = %id, reason = ?stop, "stopping task");
                    running.stop = Some(stop);
                    running.cancel.cancel();
                }
            } else if stop == StopReason::LeaseGone {
                warn!(task_id = %id, "lease gone before the result was delivered; dropping it");
                state.undelivered.retain(|p| p.task_id != id);
                self.rt.spool.remove(id);
            }
        }
        drop(state);
        self.changed.notify_waiters();
    }
}
