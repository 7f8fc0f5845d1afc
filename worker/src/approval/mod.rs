//! Approvals verified on the Mac: a task the policy marks `approve` waits, under its
//! fingerprint, until the owner sends that fingerprint with a current TOTP code from an
//! authenticator app. The code is checked here, against a secret the cloud never sees;
//! each time step approves at most one task; pending approvals expire.
//!
//! Why only one approval may be pending at a time (by default): a TOTP code is not bound
//! to a fingerprint, so a compromised bot that relays `/approve A 123456` could submit the
//! code with fingerprint `B` instead. With one pending approval there is no `B`: the only
//! task a code can approve is the one the worker itself announced (and, with a worker
//! webhook, showed the owner).
//!
//! # Layout
//! - [`fingerprint`](mod@fingerprint): the canonical fingerprint of a task.
//! - [`totp`]: the secret and code verification.
//! - [`secret_store`]: where the secret is kept (the macOS login Keychain, or a file).
//! - [`replay`]: the persisted highest used time step.

pub mod fingerprint;
pub mod replay;
pub mod secret_store;
pub mod totp;

#[cfg(test)]
pub(crate) mod fake_keychain;

use std::collections::BTreeMap;
use std::time::Duration;

use openclaw_shared::TaskId;
use serde::{Deserialize, Serialize};

pub use fingerprint::{fingerprint, Fingerprint};
pub use replay::{ReplayError, ReplayGuard};
pub use totp::{TotpSecret, TotpVerifier};

/// Default number of approvals that may wait at once (see the module doc for why 1).
pub const DEFAULT_MAX_PENDING: usize = 1;
/// Wrong codes one pending approval tolerates before it is denied.
pub const MAX_FAILED_ATTEMPTS: u32 = 3;
/// Wrong codes in a row, across approvals, before approvals freeze: guessing a 6-digit
/// code needs ~300,000 tries, and this keeps an attacker far below that.
pub const MAX_CONSECUTIVE_FAILURES: u32 = 10;
/// How long approvals stay frozen after [`MAX_CONSECUTIVE_FAILURES`].
pub const FREEZE: Duration = Duration::from_secs(15 * 60);

/// A task waiting for the owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingApproval {
    /// The task.
    pub task_id: TaskId,
    /// What the owner must send back.
    pub fingerprint: Fingerprint,
    /// When it started waiting, epoch seconds.
    pub requested_at_secs: u64,
    /// When it is denied if nobody approves it, epoch seconds.
    pub expires_at_secs: u64,
    /// Wrong codes so far.
    failed_attempts: u32,
}

/// What the audit log keeps of an approval: never the code itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalEvidence {
    /// The approved task.
    pub task_id: TaskId,
    /// Its fingerprint.
    pub fingerprint: String,
    /// The TOTP time step that approved it (unique: see [`replay`]).
    pub step: u64,
}

/// Why an approval (or a request for one) did not go through.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// No task waits under this fingerprint.
    #[error("no task is waiting for approval with this fingerprint")]
    UnknownFingerprint,
    /// The approval window closed; the task must end `denied`.
    #[error("the approval for task {task_id} expired")]
    Expired {
        /// The task to deny.
        task_id: TaskId,
    },
    /// The code is wrong (or not current).
    #[error("wrong or outdated code ({attempts_left} attempts left)")]
    InvalidCode {
        /// Wrong codes this approval still tolerates.
        attempts_left: u32,
    },
    /// Too many wrong codes: the approval is withdrawn; the task must end `denied`.
    #[error("too many wrong codes; task {task_id} is denied")]
    TooManyAttempts {
        /// The task to deny.
        task_id: TaskId,
    },
    /// The code's time step already approved something.
    #[error(transparent)]
    Replayed(ReplayError),
    /// Too many wrong codes in a row: no approvals until then.
    #[error("approvals are frozen after repeated wrong codes, until epoch second {until_secs}")]
    Frozen {
        /// Epoch second when approvals resume.
        until_secs: u64,
    },
    /// Another approval is pending (see the module doc).
    #[error("another task ({pending}) is waiting for approval")]
    Busy {
        /// The fingerprint already waiting.
        pending: Fingerprint,
    },
    /// This fingerprint is already pending.
    #[error("this task is already waiting for approval")]
    Duplicate,
    /// The replay store could not record the step; nothing was approved.
    #[error(transparent)]
    Store(ReplayError),
}

/// The worker's pending approvals, with the verifier and the replay guard.
#[derive(Debug)]
pub struct Approvals {
    verifier: TotpVerifier,
    replay: ReplayGuard,
    ttl: Duration,
    max_pending: usize,
    pending: BTreeMap<Fingerprint, PendingApproval>,
    consecutive_failures: u32,
    frozen_until_secs: Option<u64>,
}

impl Approvals {
    /// A book of approvals that expire after `ttl` (the policy's `approvals.ttl_secs`).
    pub fn new(verifier: TotpVerifier, replay: ReplayGuard, ttl: Duration) -> Self {
        Self {
            verifier,
            replay,
            ttl,
            max_pending: DEFAULT_MAX_PENDING,
            pending: BTreeMap::new(),
            consecutive_failures: 0,
            frozen_until_secs: None,
        }
    }

    /// Allows `max` approvals to wait at once. Above 1, a relayed code can be redirected to
    /// another waiting task by whoever relays it; only raise it if codes never pass through
    /// an untrusted relay.
    pub fn with_max_pending(mut self, max: usize) -> Self {
        self.max_pending = max.max(1);
        self
    }

    /// Starts waiting for approval of `task_id` under `fingerprint`.
    pub fn request(
        &mut self,
        task_id: TaskId,
        fingerprint: Fingerprint,
        now_secs: u64,
    ) -> Result<&PendingApproval, ApprovalError> {
        if self.pending.contains_key(&fingerprint) {
            return Err(ApprovalError::Duplicate);
        }
        if self.pending.len() >= self.max_pending {
            let pending = self
                .pending
                .keys()
                .next()
                .cloned()
                .ok_or(ApprovalError::Duplicate)?;
            return Err(ApprovalError::Busy { pending });
        }
        // Durably, before anyone is asked: a code typed for this request must be spent even
        // if the worker dies before the request is settled.
        self.replay.mark_pending().map_err(ApprovalError::Store)?;
        let entry = PendingApproval {
            task_id,
            fingerprint: fingerprint.clone(),
            requested_at_secs: now_secs,
            expires_at_secs: now_secs.saturating_add(self.ttl.as_secs()),
            failed_attempts: 0,
        };
        Ok(self.pending.entry(fingerprint).or_insert(entry))
    }

    /// Approves the task waiting under `fingerprint` if `code` is a current TOTP code whose
    /// time step was never used. On success the step is durably marked used and the task
    /// leaves the book; the caller runs exactly the task it fingerprinted.
    pub fn approve(
        &mut self,
        fingerprint: &Fingerprint,
        code: &str,
        now_secs: u64,
    ) -> Result<ApprovalEvidence, ApprovalError> {
        self.approve_checked(None, fingerprint, code, now_secs)
    }

    /// Approves as [`Approvals::approve`] does, for a decision relayed for one task (e.g. in
    /// its heartbeat answer): the fingerprint must be that task's, or nothing is approved and no time
    /// step is used.
    pub fn approve_task(
        &mut self,
        task_id: TaskId,
        fingerprint: &Fingerprint,
        code: &str,
        now_secs: u64,
    ) -> Result<ApprovalEvidence, ApprovalError> {
        self.approve_checked(Some(task_id), fingerprint, code, now_secs)
    }

    fn approve_checked(
        &mut self,
        task_id: Option<TaskId>,
        fingerprint: &Fingerprint,
        code: &str,
        now_secs: u64,
    ) -> Result<ApprovalEvidence, ApprovalError> {
        if let Some(until_secs) = self.frozen_until_secs.filter(|until| now_secs < *until) {
            return Err(ApprovalError::Frozen { until_secs });
        }
        let entry = self
            .pending
            .get(fingerprint)
            .filter(|entry| task_id.is_none_or(|id| id == entry.task_id));
        let Some(entry) = entry else {
            self.note_failure(now_secs);
            return Err(ApprovalError::UnknownFingerprint);
        };
        if now_secs >= entry.expires_at_secs {
            let task_id = entry.task_id;
            self.pending.remove(fingerprint);
            return Err(ApprovalError::Expired { task_id });
        }
        let steps = self.verifier.matching_steps(code, now_secs);
        let Some(step) = steps.iter().copied().find(|s| self.replay.is_fresh(*s)) else {
            return Err(self.wrong_code(fingerprint, steps.first().copied(), now_secs));
        };
        self.replay.consume(step).map_err(ApprovalError::Store)?;
        self.consecutive_failures = 0;
        let entry = self
            .pending
            .remove(fingerprint)
            .ok_or(ApprovalError::UnknownFingerprint)?;
        if self.pending.is_empty() {
            // The step is spent already; a mark left behind only spends one more on start.
            if let Err(err) = self.replay.clear_pending() {
                tracing::warn!(error = %err, "cannot clear the pending-approval mark");
            }
        }
        Ok(ApprovalEvidence {
            task_id: entry.task_id,
            fingerprint: entry.fingerprint.to_string(),
            step,
        })
    }

    /// Records a wrong (or replayed) code against the approval and the global counter.
    fn wrong_code(
        &mut self,
        fingerprint: &Fingerprint,
        replayed: Option<u64>,
        now_secs: u64,
    ) -> ApprovalError {
        self.note_failure(now_secs);
        let Some(entry) = self.pending.get_mut(fingerprint) else {
            return ApprovalError::UnknownFingerprint;
        };
        entry.failed_attempts += 1;
        if entry.failed_attempts >= MAX_FAILED_ATTEMPTS {
            let task_id = entry.task_id;
            self.pending.remove(fingerprint);
            return ApprovalError::TooManyAttempts { task_id };
        }
        match replayed {
            Some(step) => ApprovalError::Replayed(ReplayError::Replayed { step }),
            None => ApprovalError::InvalidCode {
                attempts_left: MAX_FAILED_ATTEMPTS - entry.failed_attempts,
            },
        }
    }

    fn note_failure(&mut self, now_secs: u64) {
        self.consecutive_failures += 1;
        if self.consecutive_failures >= MAX_CONSECUTIVE_FAILURES {
            self.frozen_until_secs = Some(now_secs.saturating_add(FREEZE.as_secs()));
            self.consecutive_failures = 0;
        }
    }

    /// The owner refused (`/deny fingerprint`): the task leaves the book, to be denied.
    pub fn deny(&mut self, fingerprint: &Fingerprint) -> Option<PendingApproval> {
        self.pending.remove(fingerprint)
    }

    /// Drops a task's approval (cancelled by a client, lease gone).
    pub fn withdraw(&mut self, task_id: TaskId) -> Option<PendingApproval> {
        let fingerprint = self
            .pending
            .values()
            .find(|p| p.task_id == task_id)?
            .fingerprint
            .clone();
        self.pending.remove(&fingerprint)
    }

    /// Removes and returns every approval whose window closed by `now_secs`: those tasks
    /// end `denied`.
    pub fn expire(&mut self, now_secs: u64) -> Vec<PendingApproval> {
        let expired: Vec<Fingerprint> = self
            .pending
            .values()
            .filter(|p| now_secs >= p.expires_at_secs)
            .map(|p| p.fingerprint.clone())
            .collect();
        expired
            .iter()
            .filter_map(|fp| self.pending.remove(fp))
            .collect()
    }

    /// Marks every code that is valid now as used (durably). Call it when a pending
    /// approval ends without being approved (denied, expired, cancelled, withdrawn): a
    /// code the owner already typed for it must not approve the next task in line, which
    /// a compromised relay could deny the first one to bring up and then approve with it.
    /// The next approval then needs a code from a later time step (at most a minute away).
    pub fn burn_current_codes(&mut self, now_secs: u64) -> Result<(), ReplayError> {
        let newest = (now_secs / totp::STEP_SECS).saturating_add(totp::SKEW_STEPS);
        if self.replay.is_fresh(newest) {
            self.replay.consume(newest)?;
        }
        if self.pending.is_empty() {
            self.replay.clear_pending()?;
        }
        Ok(())
    }

    /// Called once at start: when the last worker stopped with an approval pending (it
    /// died before deny, expiry or cancel could burn the codes), burns the codes valid
    /// now, so one the owner typed for that request, and a compromised bot kept back,
    /// approves nothing after the restart. Returns whether it burnt them. A clean start
    /// burns nothing: the owner's next code works at once.
    pub fn recover(&mut self, now_secs: u64) -> Result<bool, ReplayError> {
        if !self.replay.was_pending() {
            return Ok(false);
        }
        self.burn_current_codes(now_secs)?;
        Ok(true)
    }

    /// The approvals waiting now.
    pub fn pending(&self) -> impl Iterator<Item = &PendingApproval> {
        self.pending.values()
    }
}

/// Now, in epoch seconds (0 if the clock is before 1970).
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
