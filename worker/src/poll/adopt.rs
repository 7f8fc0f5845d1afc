//! Adoption: when the worker starts, it takes over what the worker before it (crashed,
//! killed, or replaced by a new binary) left in the spool. Results kept there are
//! delivered; tasks whose process still runs under its supervisor are waited for (their
//! leases heartbeated, a cancel passed on) and reported; tasks that ended unseen are
//! reported from what their supervisor recorded. Nothing is run again: a task in the
//! spool was started once, and only its result is still to come.

use std::sync::Arc;

use openclaw_shared::TaskId;
use tokio::sync::mpsc::unbounded_channel;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::delivery::finish;
use super::{Pending, Running, Worker};
use crate::pipeline;
use crate::spool::{SpoolState, TaskSpool};

impl Worker {
    /// Takes over every task in the spool (before the first claim, so that their slots
    /// are counted). Returns how many.
    pub(super) fn adopt(&self) -> usize {
        let found = match self.rt.spool.tasks() {
            Ok(found) => found,
            Err(err) => {
                error!(error = %err, "cannot read the spool: tasks started before a restart are not reported");
                return 0;
            }
        };
        let mut adopted = 0;
        for spool in found {
            if self.adopt_one(spool) {
                adopted += 1;
            }
        }
        if adopted > 0 {
            info!(
                tasks = adopted,
                "took over tasks started before the restart"
            );
            self.changed.notify_waiters();
        }
        adopted
    }

    fn adopt_one(&self, spool: TaskSpool) -> bool {
        let id: TaskId = spool.id();
        let Some(record) = spool.record() else {
            // Without its record there is no lease to report under: the server ends the
            // task `lost` on its own.
            warn!(task_id = %id, "a spooled task without a readable record; removing it");
            spool.remove();
            return false;
        };
        let lease = record.task.lease;
        let state = spool.state();
        if let SpoolState::Reported(outcome) = state {
            info!(task_id = %id, "a result from before the restart; delivering it");
            self.lock().undelivered.push_back(Pending {
                task_id: id,
                lease,
                outcome: Arc::new(outcome),
                shrunk: false,
            });
            return true;
        }
        let cancel = CancellationToken::new();
        self.lock().running.insert(
            id,
            Running {
                lease,
                cancel: cancel.clone(),
                stop: None,
                // Its approval, if it had one, was given to the worker before.
                decisions: unbounded_channel().0,
                lost: false,
            },
        );
        let rt = Arc::clone(&self.rt);
        let state_lock = Arc::clone(&self.state);
        let changed = Arc::clone(&self.changed);
        self.tasks.spawn(async move {
            let finishing = {
                let rt = Arc::clone(&rt);
                tokio::spawn(async move {
                    pipeline::finish_adopted(&rt, &spool, &record, state, &cancel).await
                })
            };
            let outcome = finishing.await.unwrap_or_else(|err| {
                error!(task_id = %id, error = %err, "finishing an adopted task crashed");
                openclaw_shared::TaskOutcome::failure(
                    "the worker failed while finishing this task after a restart",
                )
            });
            finish(&state_lock, &rt.spool, id, lease, outcome);
            changed.notify_waiters();
        });
        true
    }
}
