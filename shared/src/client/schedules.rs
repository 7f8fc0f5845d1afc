//! Schedules on the wire: creating one (or previewing its next runs first), and how one is
//! shown. Each run of a schedule is an ordinary task, created as the API's create routes
//! create theirs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    ClaudeRequest, CreateCommandRequest, FileEditRequest, FileReadRequest, FileWriteRequest,
};
use crate::task::TaskId;
use crate::EpochMillis;

/// A schedule's id; on the wire, a hyphenated UUID string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScheduleId(pub Uuid);

impl ScheduleId {
    /// A fresh random id.
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }
}

impl Default for ScheduleId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ScheduleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for ScheduleId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// The task a schedule creates at each run: the body of one of the create routes, with its
/// `kind` (`command` for `POST /tasks`, `file_read`, `file_write`, `file_edit`, `claude`).
/// Its `priority` defaults to 7 (after interactive and API work).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScheduledTask {
    /// `POST /tasks`: a shell command.
    Command(CreateCommandRequest),
    /// `POST /files/read`.
    FileRead(FileReadRequest),
    /// `POST /files/write`.
    FileWrite(FileWriteRequest),
    /// `POST /files/edit`.
    FileEdit(FileEditRequest),
    /// `POST /claude`.
    Claude(ClaudeRequest),
}

impl ScheduledTask {
    /// The fields every create request carries (worker, Discord channel, priority).
    pub fn common_mut(&mut self) -> &mut super::CommonFields {
        match self {
            ScheduledTask::Command(req) => &mut req.common,
            ScheduledTask::FileRead(req) => &mut req.common,
            ScheduledTask::FileWrite(req) => &mut req.common,
            ScheduledTask::FileEdit(req) => &mut req.common,
            ScheduledTask::Claude(req) => &mut req.common,
        }
    }
}

/// `POST /schedules`: run `task` at every time `cron` names in time zone `tz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateScheduleRequest {
    /// A cron expression: 5 fields (minute hour day-of-month month day-of-week), or 6 with
    /// seconds first; names (`MON`, `JAN`), ranges, steps, `L`, `#` and `@daily`-style
    /// nicknames are understood.
    pub cron: String,
    /// The IANA time zone the expression is read in (`Europe/Berlin`); `UTC` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tz: Option<String>,
    /// What each run does.
    pub task: ScheduledTask,
    /// Run only on this worker (the same as `task.worker`, which it replaces when given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<String>,
    /// A name to show in lists (up to 100 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Only answer the next runs (a [`SchedulePreview`]); nothing is saved.
    #[serde(default)]
    pub preview: bool,
}

/// One future run: when, in epoch milliseconds and in the schedule's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunTime {
    /// When, in epoch milliseconds.
    pub at: EpochMillis,
    /// The same time in the schedule's time zone, RFC 3339 with its offset
    /// (`2026-03-29T03:00:00+02:00`).
    pub local: String,
}

/// The answer to a `POST /schedules` with `preview`: when it would run, nothing saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchedulePreview {
    /// The expression, as given.
    pub cron: String,
    /// The time zone it is read in.
    pub tz: String,
    /// Its next runs from now; fewer (or none) when it stops matching.
    pub next_runs: Vec<RunTime>,
}

/// A schedule, as `GET /schedules/:id` and the other schedule routes show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleView {
    /// Its id.
    pub id: ScheduleId,
    /// Its name, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whose it is (and so whose its runs are): `api` or `discord:<user id>`.
    pub owner: String,
    /// The cron expression.
    pub cron: String,
    /// The IANA time zone it is read in.
    pub tz: String,
    /// What each run does.
    pub task: ScheduledTask,
    /// Paused: no run until resumed (runs missed meanwhile are skipped).
    pub paused: bool,
    /// When it was created, in epoch milliseconds.
    pub created_at: EpochMillis,
    /// The next run, in epoch milliseconds; absent while paused or once it never matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_run_at: Option<EpochMillis>,
    /// The last run that created a task, in epoch milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_at: Option<EpochMillis>,
    /// The task the last run created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_task_id: Option<TaskId>,
    /// How many tasks its runs created.
    pub runs: u64,
    /// Why the last run created no task, if it did not (a refused field, a quota, runs
    /// skipped while the bot was down).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Its next few runs (on a single schedule's view).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub next_runs: Vec<RunTime>,
}

/// `GET /schedules`: the schedules the token sees, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleList {
    /// The schedules.
    pub schedules: Vec<ScheduleView>,
}
