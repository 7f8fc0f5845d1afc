//! Schedule types: what an adapter saves, what the queue stores about a schedule, and what
//! one firing did. Plain data, like `task`.

use openclaw_shared::client::ScheduleId;
use openclaw_shared::{EpochMillis, TaskId};

use super::quota::Quota;
use super::task::{NewTask, Task};
use super::timetable::Timetable;

/// A schedule to save. The queue stores `task` without reading it: the schedules service
/// that fires the schedule gives it meaning (the body of a create route, with its kind).
#[derive(Debug, Clone, PartialEq)]
pub struct NewSchedule {
    /// Whose it is, as [`NewTask::owner`] names owners; its runs are theirs.
    pub owner: String,
    /// A name to show, if given.
    pub name: Option<String>,
    /// The cron expression (checked by [`Timetable::parse`](super::Timetable::parse)).
    pub cron: String,
    /// The IANA time zone it is read in.
    pub tz: String,
    /// What each run does, as the schedules service stores it.
    pub task: serde_json::Value,
    /// The first run; `None` if the expression never matches.
    pub next_run_at: Option<EpochMillis>,
}

/// A schedule as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Its id.
    pub id: ScheduleId,
    /// Whose it is.
    pub owner: String,
    /// Its name, if given.
    pub name: Option<String>,
    /// The cron expression.
    pub cron: String,
    /// The IANA time zone it is read in.
    pub tz: String,
    /// What each run does (see [`NewSchedule::task`]).
    pub task: serde_json::Value,
    /// Paused: never due until resumed.
    pub paused: bool,
    /// When it was saved.
    pub created_at: EpochMillis,
    /// The run due next: the durable "slot" firers claim. `None` while paused, or when the
    /// expression never matches again.
    pub next_run_at: Option<EpochMillis>,
    /// The slot of the last run that created a task.
    pub last_run_at: Option<EpochMillis>,
    /// The task that run created.
    pub last_task_id: Option<TaskId>,
    /// How many tasks its runs created.
    pub runs: u64,
    /// Why the last slot created no task (skipped while the bot was down, a refused field,
    /// a quota); cleared by the next run that creates one.
    pub last_error: Option<String>,
}

impl Schedule {
    /// When it runs, read from its stored expression and time zone (`None` only for a row
    /// edited by hand: both are checked when saved). For views: `timetable()?.next_runs(now,
    /// 5)` and `local_time` give its next runs.
    pub fn timetable(&self) -> Option<Timetable> {
        Timetable::parse(&self.cron, &self.tz).ok()
    }
}

/// One firing, as the schedules service decided it: take slot `slot` of a schedule (if no
/// other firer took it), move it to `next_run_at`, and create `run` for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    /// The schedule.
    pub id: ScheduleId,
    /// The slot being fired: the schedule's `next_run_at` as the firer read it.
    pub slot: EpochMillis,
    /// Where the schedule moves to (strictly after now: a firing never leaves a slot due).
    pub next_run_at: Option<EpochMillis>,
    /// The task to create, or why none is (runs skipped, a refused field).
    pub run: Result<NewTask, String>,
}

/// What a [`Firing`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Fired {
    /// The slot was no longer due as read (another firer took it, or the schedule was
    /// paused or deleted meanwhile): nothing changed.
    Taken,
    /// The slot was taken and the task created (`queued`).
    Queued(Box<Task>),
    /// The slot was taken without a task: skipped, or refused for the reason recorded.
    Skipped,
    /// The slot was taken but the task passed a quota: nothing queued, the reason recorded.
    Refused(Quota),
}
