//! Workers the queue has heard from: when each last claimed or heartbeated, the sandbox it
//! says its tasks run in, and the stats built from them for health checks and `/status`.

use std::collections::HashMap;
use std::sync::Mutex;

use openclaw_shared::worker::SandboxReport;
use openclaw_shared::{EpochMillis, TaskStatus};

use super::clock::now_millis;

/// A worker the queue has heard from (claim or heartbeat) since it started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerInfo {
    /// The name it polls under.
    pub name: String,
    /// When it last claimed, heartbeated or reported.
    pub last_seen: EpochMillis,
    /// Tasks it holds a lease on.
    pub running: usize,
    /// The sandbox it last said its tasks run in (none from a worker older than that).
    pub sandbox: Option<SandboxReport>,
}

/// Counts of tasks per status, plus the workers seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStats {
    /// Every status, in [`TaskStatus::ALL`] order, with how many tasks have it.
    pub by_status: Vec<(TaskStatus, u64)>,
    /// The workers seen since the queue started, by name.
    pub workers: Vec<WorkerInfo>,
}

/// What the queue remembers of a worker between its requests.
#[derive(Debug, Clone, Default)]
struct Seen {
    at: EpochMillis,
    sandbox: Option<SandboxReport>,
}

/// The workers seen since the queue started. In memory only: who polled is news, not
/// history, and a restarted bot hears from a live worker within one long poll.
#[derive(Debug, Default)]
pub(super) struct Sightings {
    /// A std mutex: held for a map insert or a copy, never across an await.
    seen: Mutex<HashMap<String, Seen>>,
}

impl Sightings {
    /// Records that `worker` made a request just now.
    pub(super) fn saw(&self, worker: &str) {
        self.update(worker, |seen| seen.at = now_millis());
    }

    /// Records what `worker` says about its sandbox (and that it was seen just now).
    pub(super) fn note_sandbox(&self, worker: &str, sandbox: SandboxReport) {
        self.update(worker, |seen| {
            seen.at = now_millis();
            seen.sandbox = Some(sandbox);
        });
    }

    /// The workers seen, by name, each with its count of leased tasks from `running`
    /// (pairs of worker name and count; a worker missing from it runs none).
    pub(super) fn workers(&self, running: Vec<(String, usize)>) -> Vec<WorkerInfo> {
        let running: HashMap<String, usize> = running.into_iter().collect();
        let mut workers: Vec<WorkerInfo> = self
            .lock()
            .iter()
            .map(|(name, seen)| WorkerInfo {
                name: name.clone(),
                last_seen: seen.at,
                running: running.get(name).copied().unwrap_or(0),
                sandbox: seen.sandbox.clone(),
            })
            .collect();
        workers.sort_by(|a, b| a.name.cmp(&b.name));
        workers
    }

    fn update(&self, worker: &str, update: impl FnOnce(&mut Seen)) {
        update(self.lock().entry(worker.to_owned()).or_default());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Seen>> {
        // Every update is a single field write, so a panic elsewhere cannot leave an entry
        // half-changed: a poisoned lock is safe to reuse.
        self.seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Every status in [`TaskStatus::ALL`] order with its count from `counts` (zero when absent).
pub(super) fn by_status(counts: &[(TaskStatus, u64)]) -> Vec<(TaskStatus, u64)> {
    TaskStatus::ALL
        .into_iter()
        .map(|status| {
            let count = counts
                .iter()
                .find(|(s, _)| *s == status)
                .map_or(0, |(_, n)| *n);
            (status, count)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> SandboxReport {
        SandboxReport {
            enforced: true,
            detail: "landlock (ABI 7) + seccomp".into(),
        }
    }

    #[test]
    fn a_later_request_keeps_the_sandbox_a_worker_reported() {
        let sightings = Sightings::default();
        sightings.note_sandbox("mac", report());

        sightings.saw("mac");
        let workers = sightings.workers(vec![("mac".into(), 2), ("gone".into(), 1)]);

        assert_eq!(workers.len(), 1, "only workers seen are listed");
        assert_eq!(workers[0].sandbox, Some(report()));
        assert_eq!(workers[0].running, 2);
    }

    #[test]
    fn statuses_without_tasks_count_zero() {
        let counts = by_status(&[(TaskStatus::Running, 3)]);

        assert_eq!(counts.len(), TaskStatus::ALL.len());
        assert!(counts.contains(&(TaskStatus::Running, 3)));
        assert!(counts.contains(&(TaskStatus::Queued, 0)));
    }
}
