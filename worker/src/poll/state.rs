//! What the worker holds while it runs: tasks in progress (with how to stop them and where
//! their approval answers go) and results waiting for the server's acknowledgement.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use openclaw_shared::worker::{ApprovalDecision, HeldLease};
use openclaw_shared::{LeaseId, TaskId, TaskOutcome};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Why the worker stopped a running task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StopReason {
    /// A client cancelled it: report `cancelled`.
    CancelRequested,
    /// The server no longer knows our lease: its result would be refused, so drop it.
    LeaseGone,
    /// The worker is shutting down and the grace period ran out.
    Shutdown,
}

/// A task being executed (or waiting for its approval).
pub(super) struct Running {
    pub(super) lease: LeaseId,
    pub(super) cancel: CancellationToken,
    pub(super) stop: Option<StopReason>,
    /// The owner's answers relayed in heartbeats, for the task's pipeline to verify.
    pub(super) decisions: UnboundedSender<ApprovalDecision>,
    /// The server marked the task lost (the worker was out of touch) but takes its late
    /// result; said once in the log.
    pub(super) lost: bool,
}

/// A result waiting for the server's acknowledgement. The outcome is shared so a retry
/// does not copy megabytes of output.
pub(super) struct Pending {
    pub(super) task_id: TaskId,
    pub(super) lease: LeaseId,
    pub(super) outcome: Arc<TaskOutcome>,
    /// The output was already dropped once after a 413.
    pub(super) shrunk: bool,
}

/// What the worker holds: its running tasks, its undelivered results, its denied streak.
#[derive(Default)]
pub(super) struct State {
    pub(super) running: HashMap<TaskId, Running>,
    /// Oldest first.
    pub(super) undelivered: VecDeque<Pending>,
    /// Tasks in a row that ended `denied`; any other end resets it.
    pub(super) denied_streak: u32,
}

impl State {
    /// Every lease the worker holds: running tasks and results not yet acknowledged (their
    /// leases must stay alive or the server marks the task lost before the result lands).
    pub(super) fn held_leases(&self) -> Vec<HeldLease> {
        let running = self.running.iter().map(|(id, r)| (*id, r.lease));
        let pending = self.undelivered.iter().map(|p| (p.task_id, p.lease));
        let mut leases: Vec<HeldLease> = running
            .chain(pending)
            .map(|(task_id, lease)| HeldLease { task_id, lease })
            .collect();
        leases.sort_by_key(|l| l.task_id);
        leases.dedup_by_key(|l| l.task_id);
        leases
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc::unbounded_channel;

    use super::*;

    #[test]
    fn held_leases_cover_running_tasks_and_undelivered_results_once() {
        let (a, b) = (TaskId::new(), TaskId::new());
        let mut state = State::default();
        state.running.insert(
            a,
            Running {
                lease: LeaseId::new(),
                cancel: CancellationToken::new(),
                stop: None,
                decisions: unbounded_channel().0,
                lost: false,
            },
        );
        for id in [a, b] {
            state.undelivered.push_back(Pending {
                task_id: id,
                lease: LeaseId::new(),
                outcome: Arc::new(TaskOutcome::failure("x")),
                shrunk: false,
            });
        }

        let mut ids: Vec<TaskId> = state.held_leases().iter().map(|l| l.task_id).collect();
        ids.sort();

        let mut expected = vec![a, b];
        expected.sort();
        assert_eq!(ids, expected);
    }
}
