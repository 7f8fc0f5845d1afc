//! When the queue last heard of a lease whose news it could not store: a heartbeat or a
//! result that reached the bot while the database refused the write (disk full, locked).
//! The sweep spares such leases, so a write outage longer than a lease does not turn work a
//! live worker finished into `lost` the moment the store recovers. Kept in memory: a
//! restarted bot instead spares every lease for one lease TTL after it opens, the time a
//! live worker needs to be heard from again.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use openclaw_shared::{EpochMillis, LeaseId};

/// Most leases remembered at once. A worker holds a handful; the cap keeps a flood of
/// made-up leases during an outage from growing memory without bound (past it, news of
/// further leases is dropped, and they lapse by their stored deadline as before).
const MAX_REMEMBERED: usize = 10_000;

/// Leases heard of while their news could not be stored, and when the queue opened.
#[derive(Debug)]
pub(super) struct Contacts {
    /// When each lease was last heard of. A std mutex: held for a few map operations,
    /// never across an `.await`.
    heard: Mutex<HashMap<LeaseId, EpochMillis>>,
    /// When the queue opened: no lease is lost before one lease TTL after it.
    opened_at: EpochMillis,
}

impl Contacts {
    /// No lease heard of yet; the queue opened at `opened_at`.
    pub(super) fn new(opened_at: EpochMillis) -> Contacts {
        Contacts {
            heard: Mutex::new(HashMap::new()),
            opened_at,
        }
    }

    /// Records that `leases` were heard of at `now` (their holder is alive), though what
    /// it said could not be stored.
    pub(super) fn heard(&self, leases: impl IntoIterator<Item = LeaseId>, now: EpochMillis) {
        let mut heard = self.lock();
        for lease in leases {
            if heard.len() < MAX_REMEMBERED || heard.contains_key(&lease) {
                heard.insert(lease, now);
            }
        }
    }

    /// The leases to spare from expiry at `now`: those heard of within `ttl`. Forgets the
    /// others.
    pub(super) fn spared(&self, now: EpochMillis, ttl: EpochMillis) -> Vec<LeaseId> {
        let mut heard = self.lock();
        heard.retain(|_, at| at.saturating_add(ttl) > now);
        heard.keys().copied().collect()
    }

    /// Whether `now` is within one `ttl` of the queue opening: leases whose deadline
    /// passed while the bot was down get that long for their worker to be heard from.
    pub(super) fn in_grace(&self, now: EpochMillis, ttl: EpochMillis) -> bool {
        now < self.opened_at.saturating_add(ttl)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<LeaseId, EpochMillis>> {
        // Every change is one map operation: a panic elsewhere cannot leave it half-done.
        self.heard.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_spared_for_one_ttl_after_it_was_last_heard_of() {
        let contacts = Contacts::new(0);
        let (early, late) = (LeaseId::new(), LeaseId::new());
        contacts.heard([early], 1_000);
        contacts.heard([late], 1_500);

        let at_1999 = contacts.spared(1_999, 1_000);
        let at_2000 = contacts.spared(2_000, 1_000);

        assert_eq!(at_1999.len(), 2);
        assert_eq!(at_2000, [late]);
    }

    #[test]
    fn a_freshly_opened_queue_spares_everything_for_one_ttl() {
        let contacts = Contacts::new(10_000);

        assert!(contacts.in_grace(10_999, 1_000));
        assert!(!contacts.in_grace(11_000, 1_000));
    }

    #[test]
    fn memory_is_bounded() {
        let contacts = Contacts::new(0);

        contacts.heard((0..MAX_REMEMBERED + 5).map(|_| LeaseId::new()), 1);

        assert_eq!(contacts.spared(1, 1_000).len(), MAX_REMEMBERED);
    }
}
