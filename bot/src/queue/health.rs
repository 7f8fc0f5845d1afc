//! The store's health as `/admin/health` shows it: the last failure of a write and of a
//! read (when, what kind), and what the integrity check at open found. Kept in memory and
//! written by the store's threads as calls fail and succeed.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use openclaw_shared::EpochMillis;
use serde::Serialize;

use super::clock::{duration_millis, now_millis};
use super::store::{StoreError, StoreFault};
use crate::telemetry::error_chain;

/// How long a failure keeps the store's condition from being `ok` unless a call of its
/// kind succeeds after it: long enough that an operator polling health sees an outage,
/// short enough that an idle bot whose store recovered (no write came to prove it) reads
/// `ok` again within a minute.
pub const RECENT_FAILURE: Duration = Duration::from_secs(60);

/// Which kind of call a lane runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// Reads, on read-only connections.
    Read,
    /// Changes, on the one writing connection.
    Write,
}

impl Access {
    /// The name of the lane's threads.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

/// A store call that failed, as health reports show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StorageFailure {
    /// When it failed.
    pub at: EpochMillis,
    /// What kind of failure it was.
    pub fault: StoreFault,
    /// The error with its causes (for the operator: it may name files, never task data).
    pub error: String,
}

/// What the integrity check at open (`PRAGMA quick_check`) found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum IntegrityCheck {
    /// Not run: a store other than SQLite, or one opened without it.
    NotRun,
    /// Every page and index checked out.
    Ok {
        /// How long the check took.
        duration_ms: u64,
    },
    /// The database file is damaged: some tasks may not read back. Restore a backup, or
    /// `sqlite3 openclaw.sqlite3 .recover`.
    Corrupt {
        /// The first problems SQLite reported.
        problems: Vec<String>,
    },
}

/// The store's health at one moment, for `/admin/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StorageReport {
    /// What the integrity check at open found.
    pub integrity: IntegrityCheck,
    /// The last write that failed since the queue opened.
    pub last_write_failure: Option<StorageFailure>,
    /// The last read that failed since the queue opened.
    pub last_read_failure: Option<StorageFailure>,
    /// When a write last changed something (a write that found nothing to change proves
    /// nothing about a full disk).
    #[serde(skip)]
    pub last_write_ok: Option<EpochMillis>,
    /// When a read last succeeded.
    #[serde(skip)]
    pub last_read_ok: Option<EpochMillis>,
}

impl StorageReport {
    /// What is wrong with the store as of `now`, if anything: `Corrupt` if the check at
    /// open found damage; otherwise the kind of the latest failure within
    /// [`RECENT_FAILURE`] that no call of its kind succeeded after (a corrupt read stays:
    /// other rows reading fine does not mend the damaged ones).
    pub fn fault(&self, now: EpochMillis) -> Option<StoreFault> {
        if matches!(self.integrity, IntegrityCheck::Corrupt { .. }) {
            return Some(StoreFault::Corrupt);
        }
        let recent = now.saturating_sub(duration_millis(RECENT_FAILURE));
        [
            (&self.last_write_failure, self.last_write_ok),
            (&self.last_read_failure, self.last_read_ok),
        ]
        .into_iter()
        .filter_map(|(failure, ok)| failure.as_ref().map(|failure| (failure, ok)))
        .filter(|(failure, ok)| {
            failure.at >= recent
                && (failure.fault == StoreFault::Corrupt || ok.is_none_or(|ok| ok <= failure.at))
        })
        .max_by_key(|(failure, _)| failure.at)
        .map(|(failure, _)| failure.fault)
    }
}

/// The store's health, shared by the store's threads (which record failures) and the
/// queue (which reports them).
#[derive(Debug)]
pub(super) struct StorageHealth {
    /// A std mutex: held to copy or replace a small value, never across an `.await`.
    report: Mutex<StorageReport>,
}

impl StorageHealth {
    /// Health with nothing failed yet and `integrity` as found at open.
    pub(super) fn new(integrity: IntegrityCheck) -> StorageHealth {
        StorageHealth {
            report: Mutex::new(StorageReport {
                integrity,
                last_write_failure: None,
                last_read_failure: None,
                last_write_ok: None,
                last_read_ok: None,
            }),
        }
    }

    /// Records that a call of kind `access` failed with `err`, just now.
    pub(super) fn record_failure(&self, access: Access, err: &StoreError) {
        let failure = StorageFailure {
            at: now_millis(),
            fault: err.fault(),
            error: error_chain(err),
        };
        let mut report = self.report.lock().unwrap_or_else(PoisonError::into_inner);
        match access {
            Access::Write => report.last_write_failure = Some(failure),
            Access::Read => report.last_read_failure = Some(failure),
        }
    }

    /// Records that a call of kind `access` succeeded just now; for a write, only one that
    /// `changed` something counts.
    pub(super) fn record_success(&self, access: Access, changed: bool) {
        let now = now_millis();
        let mut report = self.report.lock().unwrap_or_else(PoisonError::into_inner);
        match access {
            Access::Write if changed => report.last_write_ok = Some(now),
            Access::Write => {}
            Access::Read => report.last_read_ok = Some(now),
        }
    }

    /// The health as it is now.
    pub(super) fn report(&self) -> StorageReport {
        self.report
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(at: EpochMillis, fault: StoreFault) -> Option<StorageFailure> {
        Some(StorageFailure {
            at,
            fault,
            error: String::new(),
        })
    }

    fn report() -> StorageReport {
        StorageReport {
            integrity: IntegrityCheck::Ok { duration_ms: 1 },
            last_write_failure: None,
            last_read_failure: None,
            last_write_ok: None,
            last_read_ok: None,
        }
    }

    #[test]
    fn a_failure_shows_until_a_call_of_its_kind_succeeds_or_a_minute_passes() {
        let now = 1_000_000;
        let minute = duration_millis(RECENT_FAILURE);
        let failed = StorageReport {
            last_write_failure: failure(now - 10, StoreFault::Full),
            last_read_ok: Some(now),
            ..report()
        };
        let mended = StorageReport {
            last_write_ok: Some(now - 5),
            ..failed.clone()
        };
        let old = StorageReport {
            last_write_failure: failure(now - minute - 1, StoreFault::Full),
            ..report()
        };

        assert_eq!(
            failed.fault(now),
            Some(StoreFault::Full),
            "a read proves nothing"
        );
        assert_eq!(mended.fault(now), None);
        assert_eq!(old.fault(now), None);
    }

    #[test]
    fn damage_stays_whatever_succeeds_after_it() {
        let now = 1_000_000;
        let read_damage = StorageReport {
            last_read_failure: failure(now - 10, StoreFault::Corrupt),
            last_read_ok: Some(now),
            ..report()
        };
        let found_at_open = StorageReport {
            integrity: IntegrityCheck::Corrupt {
                problems: vec!["page 3".into()],
            },
            ..report()
        };

        assert_eq!(read_damage.fault(now), Some(StoreFault::Corrupt));
        assert_eq!(found_at_open.fault(now), Some(StoreFault::Corrupt));
    }
}
