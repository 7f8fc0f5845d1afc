//! Schedules on the [`Queue`] handle: saving, reading (for the API, Discord and the web
//! monitor), pausing, deleting, and firing one run at a time. When a schedule runs and what
//! its task is, the schedules service decides (`crate::schedules`); the queue keeps the
//! durable slot that makes each run happen once, whoever fires it.

use openclaw_shared::client::ScheduleId;
use openclaw_shared::{EpochMillis, TaskId};

use super::clock::{duration_millis, now_millis};
use super::error::QueueError;
use super::events::TaskEvent;
use super::handle::Queue;
use super::schedule::{Fired, Firing, NewSchedule, Schedule};
use super::store::Refusal;
use super::task::Scope;
use super::waiters::Wake;

/// Most schedules one listing returns.
pub const MAX_SCHEDULES_LISTED: usize = 500;

impl Queue {
    /// Saves a new schedule. Refused with [`QueueError::QuotaExceeded`] (nothing saved) when
    /// its owner has `max_schedules_per_owner` already.
    #[tracing::instrument(skip_all, fields(owner = %schedule.owner))]
    pub async fn create_schedule(&self, schedule: NewSchedule) -> Result<Schedule, QueueError> {
        let id = ScheduleId::new();
        let now = now_millis();
        let max = self.inner.settings.max_schedules_per_owner;
        let saved = self
            .write(move |store| {
                if let Err(refusal) = store.insert_schedule(id, &schedule, now, max)? {
                    return Ok(Err(refusal));
                }
                Ok(Ok(store.schedule(id)?))
            })
            .await?;
        match saved {
            Ok(Some(schedule)) => {
                tracing::info!(schedule_id = %id, "schedule saved");
                Ok(schedule)
            }
            Ok(None) => Err(QueueError::ScheduleNotFound(id)),
            Err(Refusal::OverQuota(quota)) => Err(QueueError::QuotaExceeded(quota)),
            Err(_) => Err(QueueError::ScheduleNotFound(id)),
        }
    }

    /// The schedule `id` if `scope` covers it; another owner's is not found, like an
    /// unknown one.
    pub async fn schedule(&self, scope: &Scope, id: ScheduleId) -> Result<Schedule, QueueError> {
        let schedule = self.read(move |store| store.schedule(id)).await?;
        schedule
            .filter(|schedule| covers(scope, schedule))
            .ok_or(QueueError::ScheduleNotFound(id))
    }

    /// The schedules in `scope`, oldest first (at most [`MAX_SCHEDULES_LISTED`]).
    pub async fn schedules(&self, scope: &Scope) -> Result<Vec<Schedule>, QueueError> {
        let scope = scope.clone();
        Ok(self
            .read(move |store| store.schedules(&scope, MAX_SCHEDULES_LISTED))
            .await?)
    }

    /// Pauses schedule `id` (in `scope`): no run until it is resumed.
    pub async fn pause_schedule(
        &self,
        scope: &Scope,
        id: ScheduleId,
    ) -> Result<Schedule, QueueError> {
        self.schedule(scope, id).await?;
        self.write(move |store| store.set_paused(id, true, None))
            .await?;
        tracing::info!(schedule_id = %id, "schedule paused");
        self.schedule(scope, id).await
    }

    /// Resumes schedule `id` (in `scope`) from its next run after now: runs that fell while
    /// it was paused are skipped, never made up.
    pub async fn resume_schedule(
        &self,
        scope: &Scope,
        id: ScheduleId,
    ) -> Result<Schedule, QueueError> {
        let schedule = self.schedule(scope, id).await?;
        let next = schedule
            .timetable()
            .and_then(|table| table.next_after(now_millis()));
        self.write(move |store| store.set_paused(id, false, next))
            .await?;
        tracing::info!(schedule_id = %id, "schedule resumed");
        self.schedule(scope, id).await
    }

    /// Deletes schedule `id` (in `scope`) and returns it as it was. The tasks its runs
    /// created stay.
    pub async fn delete_schedule(
        &self,
        scope: &Scope,
        id: ScheduleId,
    ) -> Result<Schedule, QueueError> {
        let schedule = self.schedule(scope, id).await?;
        if !self.write(move |store| store.delete_schedule(id)).await? {
            return Err(QueueError::ScheduleNotFound(id));
        }
        tracing::info!(schedule_id = %id, "schedule deleted");
        Ok(schedule)
    }

    /// Unpaused schedules whose next run is at or before `now`, most overdue first, at most
    /// `limit`.
    pub async fn due_schedules(
        &self,
        now: EpochMillis,
        limit: usize,
    ) -> Result<Vec<Schedule>, QueueError> {
        Ok(self
            .read(move |store| store.due_schedules(now, limit))
            .await?)
    }

    /// Fires one slot of a schedule, atomically: if no other firer (in this process or
    /// another on the same database) took the slot, moves the schedule on and queues the
    /// run's task, which then wakes a waiting claim like any enqueue.
    #[tracing::instrument(skip_all, fields(schedule_id = %firing.id, slot = firing.slot))]
    pub async fn fire(&self, firing: Firing) -> Result<Fired, QueueError> {
        let id = TaskId::new();
        let now = now_millis();
        let settings = &self.inner.settings;
        let expires_at = now.saturating_add(duration_millis(settings.task_ttl));
        let ranked_at = match &firing.run {
            Ok(task) => task.priority.rank(now, settings.priority_aging),
            Err(_) => now,
        };
        let quota = settings.quota;
        let fired = self
            .write(move |store| store.fire(&firing, id, now, expires_at, ranked_at, &quota))
            .await?;
        if let Fired::Queued(task) = &fired {
            tracing::info!(task_id = %task.id, "schedule run queued");
            self.inner
                .waiters
                .wake(Wake::for_target(task.target_worker.as_deref()));
            self.publish(TaskEvent::Queued { id: task.id });
        }
        Ok(fired)
    }
}

/// Whether `scope` covers `schedule` (the admin's covers all; an owner's, their own).
fn covers(scope: &Scope, schedule: &Schedule) -> bool {
    scope.owner().is_none_or(|owner| owner == schedule.owner)
}
