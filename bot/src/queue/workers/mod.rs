//! The worker registry: which worker names are live, which token vouched for each, when each
//! was last heard from, the sandbox it says its tasks run in, and the stats built from them
//! for health checks and `/status`.
//!
//! A request acts under a name only once the registry admits it (`Queue::admit_worker`, in
//! `visits`): a
//! name its own token vouches for always, a name from the shared worker token only while
//! fewer than that token's cap of names are live — so made-up names cannot crowd out the
//! real worker. A name not heard from for `worker_expiry`, with no request of its own in
//! flight, is forgotten.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use openclaw_shared::worker::SandboxReport;
use openclaw_shared::{EpochMillis, TaskStatus};

use super::clock::{duration_millis, now_millis};

/// A worker the queue has heard from (claim or heartbeat) and not yet forgotten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerInfo {
    /// The name it polls under.
    pub name: String,
    /// When it last claimed, heartbeated or reported (or now, while a request of its own
    /// is in flight).
    pub last_seen: EpochMillis,
    /// Tasks it holds a lease on.
    pub running: usize,
    /// The sandbox it last said its tasks run in (none from a worker older than that).
    pub sandbox: Option<SandboxReport>,
    /// The label of the token it last used (e.g. `auth.worker_token`), never the token;
    /// `None` for a name the queue saw without an adapter admitting it.
    pub token: Option<String>,
    /// Whether it came in on the shared worker token (and so counts against its cap).
    pub shared: bool,
}

/// Counts of tasks per status, plus the workers seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStats {
    /// Every status, in [`TaskStatus::ALL`] order, with how many tasks have it.
    pub by_status: Vec<(TaskStatus, u64)>,
    /// The live workers: those with their own token first, then by name.
    pub workers: Vec<WorkerInfo>,
}

/// Which token vouches for a worker name, by its label (a config key, never the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voucher<'a> {
    /// The name's own token (`[[auth.workers]]`): always admitted.
    Own {
        /// The token's label.
        label: &'a str,
    },
    /// The shared worker token, which may act as any name: a new name is admitted only
    /// while fewer than `cap` names it brought are live.
    Shared {
        /// The token's label.
        label: &'a str,
        /// Most live names the shared token may bring.
        cap: usize,
    },
}

/// The shared worker token brought a new name while `cap` of its names were live.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the shared worker token already serves {cap} live worker names (auth.max_shared_worker_names); \
     give this worker its own token in [[auth.workers]], or wait until a name unheard of for \
     {expiry_secs} s is forgotten (queue.worker_expiry_secs)"
)]
pub struct TooManyWorkers {
    /// The cap that was reached.
    pub cap: usize,
    /// After how many seconds without a request a name is forgotten.
    pub expiry_secs: u64,
}

/// What the registry remembers of a worker between its requests.
#[derive(Debug, Clone, Default)]
struct Seen {
    at: EpochMillis,
    sandbox: Option<SandboxReport>,
    token: Option<String>,
    shared: bool,
    /// Admitted requests still running (a long poll can wait 30 s): never forgotten then.
    in_flight: usize,
}

impl Seen {
    fn is_live(&self, now: EpochMillis, expiry_ms: u64) -> bool {
        self.in_flight > 0 || now.saturating_sub(self.at) < expiry_ms
    }
}

/// The worker registry. In memory only: who polled is news, not history, and a restarted
/// bot hears from a live worker within one long poll.
#[derive(Debug)]
pub(super) struct Sightings {
    /// A name unheard of for this long (milliseconds), with nothing in flight, is forgotten.
    expiry_ms: u64,
    /// A std mutex: held for a map lookup, insert or copy, never across an await.
    seen: Mutex<HashMap<String, Seen>>,
}

impl Sightings {
    /// An empty registry that forgets a name after `expiry` without a request.
    pub(super) fn new(expiry: Duration) -> Sightings {
        Sightings {
            expiry_ms: duration_millis(expiry),
            seen: Mutex::default(),
        }
    }

    /// Admits `name` at `now` under `voucher` and counts one more request in flight.
    pub(super) fn admit(
        &self,
        name: &str,
        voucher: Voucher<'_>,
        now: EpochMillis,
    ) -> Result<(), TooManyWorkers> {
        let expiry_ms = self.expiry_ms;
        let mut seen = self.lock();
        let known = seen.get(name).is_some_and(|s| s.is_live(now, expiry_ms));
        if !known {
            // Only a new name can reach the cap; forgetting the stale ones first frees
            // their places (and bounds the map by the names actually in use).
            seen.retain(|_, s| s.is_live(now, expiry_ms));
            if let Voucher::Shared { cap, .. } = voucher {
                if seen.values().filter(|s| s.shared).count() >= cap {
                    return Err(TooManyWorkers {
                        cap,
                        expiry_secs: expiry_ms / 1000,
                    });
                }
            }
        }
        let entry = seen.entry(name.to_owned()).or_default();
        match voucher {
            Voucher::Own { label } => {
                entry.token = Some(label.to_owned());
                entry.shared = false;
            }
            // A name its own token vouched for stays its own: the shared token acting as
            // it (both configured, which the bot warns about) does not make it a guest.
            Voucher::Shared { label, .. } if entry.shared || entry.token.is_none() => {
                entry.token = Some(label.to_owned());
                entry.shared = true;
            }
            Voucher::Shared { .. } => {}
        }
        entry.at = now;
        entry.in_flight += 1;
        Ok(())
    }

    /// One request of `name` ended at `now`.
    pub(super) fn leave(&self, name: &str, now: EpochMillis) {
        if let Some(entry) = self.lock().get_mut(name) {
            entry.in_flight = entry.in_flight.saturating_sub(1);
            entry.at = now;
        }
    }

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

    /// The live workers (own token first, then by name), each with its count of leased
    /// tasks from `running` (pairs of worker name and count; a worker missing from it runs
    /// none).
    pub(super) fn workers(&self, running: Vec<(String, usize)>) -> Vec<WorkerInfo> {
        let now = now_millis();
        let running: HashMap<String, usize> = running.into_iter().collect();
        let mut workers: Vec<WorkerInfo> = self
            .lock()
            .iter()
            .filter(|(_, seen)| seen.is_live(now, self.expiry_ms))
            .map(|(name, seen)| WorkerInfo {
                name: name.clone(),
                last_seen: if seen.in_flight > 0 { now } else { seen.at },
                running: running.get(name).copied().unwrap_or(0),
                sandbox: seen.sandbox.clone(),
                token: seen.token.clone(),
                shared: seen.shared,
            })
            .collect();
        // The worker with its own token is the one the owner set up: never below guests
        // (`false` sorts first).
        workers.sort_by(|a, b| {
            let guest = |w: &WorkerInfo| w.token.is_none() || w.shared;
            guest(a).cmp(&guest(b)).then_with(|| a.name.cmp(&b.name))
        });
        workers
    }

    fn update(&self, worker: &str, update: impl FnOnce(&mut Seen)) {
        update(self.lock().entry(worker.to_owned()).or_default());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Seen>> {
        // Every update is a few field writes that cannot fail halfway, so a panic elsewhere
        // cannot leave an entry half-changed: a poisoned lock is safe to reuse.
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
mod tests;
