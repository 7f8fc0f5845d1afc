//! The schedules' slice of the store interface (see the parent module for its shape).

use openclaw_shared::client::ScheduleId;
use openclaw_shared::{EpochMillis, TaskId};

use super::{Refusal, StoreError};
use crate::queue::quota::QuotaSettings;
use crate::queue::schedule::{Fired, Firing, NewSchedule, Schedule};
use crate::queue::task::Scope;

/// Schedules: saved, listed, paused, deleted, and fired one slot at a time.
pub trait ScheduleStore {
    /// Saves a new schedule as `id`, created at `now`, unless its owner already has
    /// `max_per_owner` ([`Refusal::OverQuota`], nothing saved).
    fn insert_schedule(
        &self,
        id: ScheduleId,
        schedule: &NewSchedule,
        now: EpochMillis,
        max_per_owner: u64,
    ) -> Result<Result<(), Refusal>, StoreError>;

    /// The schedule with this id, if saved.
    fn schedule(&self, id: ScheduleId) -> Result<Option<Schedule>, StoreError>;

    /// Up to `limit` schedules in `scope`, oldest first.
    fn schedules(&self, scope: &Scope, limit: usize) -> Result<Vec<Schedule>, StoreError>;

    /// Pauses a schedule (`next_run_at` `None`) or resumes it from `next_run_at`. Returns
    /// whether it exists.
    fn set_paused(
        &self,
        id: ScheduleId,
        paused: bool,
        next_run_at: Option<EpochMillis>,
    ) -> Result<bool, StoreError>;

    /// Deletes a schedule (the tasks its runs created stay). Returns whether it existed.
    fn delete_schedule(&self, id: ScheduleId) -> Result<bool, StoreError>;

    /// Up to `limit` unpaused schedules whose next run is at or before `now`, most
    /// overdue first.
    fn due_schedules(&self, now: EpochMillis, limit: usize) -> Result<Vec<Schedule>, StoreError>;

    /// Applies `firing` atomically: only if the schedule is unpaused and still due at
    /// `firing.slot` (else [`Fired::Taken`], nothing changed), moves it to
    /// `firing.next_run_at` and creates its run as task `id` at `now` (expiring at
    /// `expires_at`, ranked at `ranked_at`), within `quota`.
    #[allow(
        clippy::too_many_arguments,
        reason = "one atomic change; each is a column or a rule"
    )]
    fn fire(
        &self,
        firing: &Firing,
        id: TaskId,
        now: EpochMillis,
        expires_at: EpochMillis,
        ranked_at: EpochMillis,
        quota: &QuotaSettings,
    ) -> Result<Fired, StoreError>;
}
