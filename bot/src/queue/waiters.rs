//! Waiting claims: who is long-polling for a task, and the one wake-up each new task sends.
//!
//! A task put on the queue wakes one waiting claim that can take it: the most recent claim
//! of the worker it targets, or of any worker when it targets none. The most recent, because
//! it is the likeliest to be alive: a worker's long poll that died unseen (its Mac fell
//! asleep) is always older than the poll the worker made since. So a thousand idle
//! polls cost an enqueue one map lookup, not a thousand store transactions. A woken claim
//! that does not answer its wake-up with a look at the store (it was dropped, timed out, or
//! filled its slots with other tasks) passes the wake-up on to the next claim that can take
//! the task, so no task waits in the queue while a claim that could take it waits too.
//!
//! Claims in progress are also counted per worker name, to refuse a worker that holds too
//! many at once (`queue.max_waiting_claims_per_worker`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

/// Why a claim was woken: a task was queued that it may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Wake {
    /// A task any worker may take.
    Any,
    /// A task only this worker may take.
    For(Arc<str>),
}

impl Wake {
    /// The wake-up for a task targeting `target` (any worker when `None`).
    pub(super) fn for_target(target: Option<&str>) -> Wake {
        target.map_or(Wake::Any, |worker| Wake::For(Arc::from(worker)))
    }
}

/// The claims waiting for a task, and the claims in progress per worker.
#[derive(Debug)]
pub(super) struct Waiters {
    /// A std mutex: held for a few map operations, never across an `.await`.
    state: Mutex<State>,
    /// Most claims one worker name may have in progress at once.
    max_per_worker: usize,
}

#[derive(Debug, Default)]
struct State {
    /// Source of registration ids; a later registration has a larger id.
    next_id: u64,
    /// Every registered claim, oldest first (woken newest first), with its worker and
    /// where its wake-up goes.
    waiting: BTreeMap<u64, Waiting>,
    /// The same registrations by worker name, oldest first.
    by_worker: HashMap<Arc<str>, BTreeSet<u64>>,
    /// Claims in progress per worker name (registered or not); no entry means none.
    active: HashMap<Arc<str>, usize>,
}

#[derive(Debug)]
struct Waiting {
    worker: Arc<str>,
    wake: oneshot::Sender<Wake>,
}

impl Waiters {
    /// No claims yet; at most `max_per_worker` at once per worker name.
    pub(super) fn new(max_per_worker: usize) -> Waiters {
        Waiters {
            state: Mutex::new(State::default()),
            max_per_worker,
        }
    }

    /// Counts a claim by `worker` as in progress until the returned guard drops, or returns
    /// the limit if the worker already has as many as it may.
    pub(super) fn enter(&self, worker: &str) -> Result<Presence<'_>, usize> {
        let mut state = self.lock();
        let worker: Arc<str> = match state.active.get_key_value(worker) {
            Some((_, &count)) if count >= self.max_per_worker => {
                return Err(self.max_per_worker);
            }
            Some((name, _)) => Arc::clone(name),
            None => Arc::from(worker),
        };
        *state.active.entry(Arc::clone(&worker)).or_default() += 1;
        Ok(Presence {
            waiters: self,
            worker,
        })
    }

    /// Sends one wake-up: to the most recent claim that can take a task `wake` stands
    /// for. Nobody waiting is fine: the next claim looks at the store before it waits.
    pub(super) fn wake(&self, wake: Wake) {
        self.lock().wake(wake);
    }

    /// How many claims are waiting for a task now.
    pub(super) fn waiting(&self) -> usize {
        self.lock().waiting.len()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change below is a few map operations that leave the maps consistent at each
        // step a panic could interrupt (none can), so a poisoned lock is safe to reuse.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn wake(&mut self, wake: Wake) {
        let newest = match &wake {
            Wake::Any => self.waiting.keys().next_back().copied(),
            Wake::For(worker) => self
                .by_worker
                .get(worker)
                .and_then(|ids| ids.last().copied()),
        };
        let Some(id) = newest else {
            return;
        };
        if let Some(waiting) = self.unregister(id) {
            // A claim that went away without unregistering cannot exist: its ticket's drop
            // unregisters it under this lock. Should the send fail anyway, nobody lost a task
            // that the next claim's look at the store would not find.
            let _ = waiting.wake.send(wake);
        }
    }

    fn unregister(&mut self, id: u64) -> Option<Waiting> {
        let waiting = self.waiting.remove(&id)?;
        if let Some(ids) = self.by_worker.get_mut(&waiting.worker) {
            ids.remove(&id);
            if ids.is_empty() {
                self.by_worker.remove(&waiting.worker);
            }
        }
        Some(waiting)
    }
}

/// A claim in progress for a worker; counted until dropped.
#[derive(Debug)]
pub(super) struct Presence<'a> {
    waiters: &'a Waiters,
    worker: Arc<str>,
}

impl<'a> Presence<'a> {
    /// Registers the claim to be woken by the next task it may take. Register before looking
    /// at the store: a task queued in between then wakes this registration.
    pub(super) fn register(&self) -> Ticket<'a> {
        let mut state = self.waiters.lock();
        let id = state.next_id;
        state.next_id += 1;
        let (wake, woken) = oneshot::channel();
        state.waiting.insert(
            id,
            Waiting {
                worker: Arc::clone(&self.worker),
                wake,
            },
        );
        state
            .by_worker
            .entry(Arc::clone(&self.worker))
            .or_default()
            .insert(id);
        Ticket {
            waiters: self.waiters,
            id,
            woken,
            received: None,
        }
    }
}

impl Drop for Presence<'_> {
    fn drop(&mut self) {
        let mut state = self.waiters.lock();
        if let Some(count) = state.active.get_mut(&self.worker) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                // No entry for a worker without claims, so made-up names do not pile up.
                state.active.remove(&self.worker);
            }
        }
    }
}

/// One registration of a waiting claim. Dropped unanswered, it passes its wake-up on.
#[derive(Debug)]
pub(super) struct Ticket<'a> {
    waiters: &'a Waiters,
    id: u64,
    woken: oneshot::Receiver<Wake>,
    /// The wake-up, once received and until answered.
    received: Option<Wake>,
}

impl Ticket<'_> {
    /// Waits for the wake-up. The ticket then holds it until [`Ticket::answered`].
    pub(super) async fn woken(&mut self) {
        if self.received.is_some() {
            return;
        }
        match (&mut self.woken).await {
            Ok(wake) => self.received = Some(wake),
            // The sender lives in the map until it sends; it cannot be dropped unsent
            // while this ticket is registered. Never resolving is the safe answer.
            Err(_) => std::future::pending().await,
        }
    }

    /// The claim looked at the store after this ticket's wake-up and took every task it
    /// could (fewer than its slots): the task the wake-up stood for is taken, by this claim
    /// or another. Nothing to pass on.
    pub(super) fn answered(mut self) {
        self.received = None;
        self.woken.close();
        // Not woken yet (this ticket was still registered): unregistering on drop is all.
        if let Ok(wake) = self.woken.try_recv() {
            // Woken between the claim's look and now: the look may have missed that task.
            self.received = Some(wake);
        }
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut state = self.waiters.lock();
        if state.unregister(self.id).is_some() {
            return;
        }
        // Woken: the wake-up was sent under the lock we hold, so it is here now.
        let wake = self.received.take().or_else(|| self.woken.try_recv().ok());
        if let Some(wake) = wake {
            state.wake(wake);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn woken(ticket: &mut Ticket<'_>) -> bool {
        ticket.received.is_some() || {
            match ticket.woken.try_recv() {
                Ok(wake) => {
                    ticket.received = Some(wake);
                    true
                }
                Err(_) => false,
            }
        }
    }

    #[test]
    fn a_targeted_wake_goes_to_that_workers_newest_claim_only() {
        let waiters = Waiters::new(8);
        let (mac, mini) = (
            waiters.enter("mac").unwrap(),
            waiters.enter("mini").unwrap(),
        );
        let mut older = mac.register();
        let mut newer = mac.register();
        let mut mini_ticket = mini.register();

        waiters.wake(Wake::for_target(Some("mac")));

        assert!(
            woken(&mut newer),
            "a newer poll is the likelier to be alive"
        );
        assert!(!woken(&mut older));
        assert!(
            !woken(&mut mini_ticket),
            "mini registered last but cannot take it"
        );
    }

    #[test]
    fn an_untargeted_wake_goes_to_the_newest_claim_of_any_worker() {
        let waiters = Waiters::new(8);
        let (mac, mini) = (
            waiters.enter("mac").unwrap(),
            waiters.enter("mini").unwrap(),
        );
        let mut older = mac.register();
        let mut newest = mini.register();

        waiters.wake(Wake::Any);

        assert!(woken(&mut newest));
        assert!(!woken(&mut older));
    }

    #[test]
    fn a_wake_dropped_unanswered_passes_on_to_the_next_claim_that_can_take_it() {
        let waiters = Waiters::new(8);
        let (mac, mini) = (
            waiters.enter("mac").unwrap(),
            waiters.enter("mini").unwrap(),
        );
        let mut older = mac.register();
        let mut woken_first = mac.register();
        let mut other = mini.register();
        waiters.wake(Wake::for_target(Some("mac")));
        assert!(woken(&mut woken_first));

        drop(woken_first);

        assert!(
            woken(&mut older),
            "the wake-up passed on to mac's other claim"
        );
        assert!(!woken(&mut other), "mini cannot take mac's task");
    }

    #[test]
    fn an_answered_wake_is_not_passed_on() {
        let waiters = Waiters::new(8);
        let mac = waiters.enter("mac").unwrap();
        let mut older = mac.register();
        let mut newer = mac.register();
        waiters.wake(Wake::Any);
        assert!(woken(&mut newer));

        newer.answered();

        assert!(!woken(&mut older));
    }

    #[test]
    fn a_registration_dropped_before_its_wake_is_simply_forgotten() {
        let waiters = Waiters::new(8);
        let mac = waiters.enter("mac").unwrap();
        let mut older = mac.register();
        let newer = mac.register();

        drop(newer);
        waiters.wake(Wake::Any);

        assert!(woken(&mut older));
        assert!(waiters.lock().waiting.is_empty());
        assert!(waiters.lock().by_worker.is_empty());
    }

    #[test]
    fn a_worker_over_its_claims_is_refused_and_names_are_forgotten_when_done() {
        let waiters = Waiters::new(2);
        let one = waiters.enter("mac").unwrap();
        let two = waiters.enter("mac").unwrap();

        assert_eq!(waiters.enter("mac").unwrap_err(), 2);
        assert!(
            waiters.enter("mini").is_ok(),
            "another worker has its own count"
        );
        drop(one);
        let three = waiters.enter("mac").unwrap();
        drop((two, three));
        assert!(waiters.lock().active.is_empty());
    }
}
