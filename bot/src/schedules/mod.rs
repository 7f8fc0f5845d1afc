//! Schedules as a door to the queue: the clock. A schedule is saved through the API or
//! Discord (checked here, once, for both), and each of its runs becomes an ordinary task
//! through [`crate::intake`], as if its owner had asked at that moment: the same field rules,
//! priorities, policy, approvals and audit on the Mac.
//!
//! # Layout
//! - here: the settings, and [`plan`]: a schedule request checked into what the queue saves.
//! - [`firing`]: the loop that fires due runs, once each, whichever bot process gets there.

pub mod firing;

use std::time::Duration;

use openclaw_shared::client::{RunTime, ScheduledTask};
use openclaw_shared::{EpochMillis, TaskSpec};

pub use crate::config::MissedRuns;
use crate::config::SchedulesConfig;
use crate::intake::{
    self, fields, IntakeError, Problem, ReplyTo, RequestedTimeout, Requester, Rules, TaskRequest,
};
use crate::queue::{NewSchedule, NewTask, Priority, Timetable};

pub use firing::Firer;

/// Longest schedule name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Largest task a schedule keeps, as stored JSON, in bytes: schedules are not counted by
/// the storage quota, so each is kept small (a scheduled write carries its content).
pub const MAX_TASK_BYTES: usize = 64 * 1024;

/// How schedules fire (`[schedules]` in the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSettings {
    /// How often due schedules are looked for: a run fires up to this late.
    pub tick: Duration,
    /// A run found due more than this late was missed (the bot was down), and
    /// [`ScheduleSettings::missed`] decides what happens; a later one fires as usual.
    pub missed_after: Duration,
    /// What missed runs do.
    pub missed: MissedRuns,
    /// How many next runs a schedule's view and a preview show.
    pub preview_runs: usize,
}

impl ScheduleSettings {
    /// The settings `[schedules]` gives.
    pub fn from_config(config: &SchedulesConfig) -> ScheduleSettings {
        ScheduleSettings {
            tick: Duration::from_millis(config.tick_ms),
            missed_after: Duration::from_secs(config.missed_after_secs),
            missed: config.missed,
            preview_runs: config.preview_runs,
        }
    }
}

impl Default for ScheduleSettings {
    fn default() -> Self {
        ScheduleSettings::from_config(&SchedulesConfig::default())
    }
}

/// A schedule request in no adapter's shape: the API's body or Discord's options.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRequest {
    /// The cron expression.
    pub cron: String,
    /// The IANA time zone; `UTC` when `None` or empty.
    pub tz: Option<String>,
    /// What each run does.
    pub task: ScheduledTask,
    /// Run only on this worker (replaces `task`'s own `worker` when given).
    pub worker: Option<String>,
    /// A name to show.
    pub name: Option<String>,
    /// Whose schedule it is.
    pub requester: Requester,
}

/// A checked schedule: what the queue saves, and its timetable for answering next runs.
#[derive(Debug, Clone)]
pub struct Plan {
    /// What the queue saves.
    pub schedule: NewSchedule,
    /// When it runs.
    pub timetable: Timetable,
}

impl Plan {
    /// Its next `count` runs after `after`, in epoch ms and local time.
    pub fn next_runs(&self, after: EpochMillis, count: usize) -> Vec<RunTime> {
        run_times(&self.timetable, after, count)
    }
}

/// The next `count` runs of `timetable` after `after`, in epoch ms and local time.
pub fn run_times(timetable: &Timetable, after: EpochMillis, count: usize) -> Vec<RunTime> {
    timetable
        .next_runs(after, count)
        .into_iter()
        .map(|at| RunTime {
            at,
            local: timetable.local_time(at),
        })
        .collect()
}

/// Checks a schedule request at `now`: the expression and time zone, the name, and its task
/// by the same rules a task created now would meet (so a schedule that could never run is
/// refused when saved, not at 3 a.m.). Searching a rare expression's next run can take a
/// while: call it off the runtime's threads.
pub fn plan(
    request: ScheduleRequest,
    rules: &Rules<'_>,
    now: EpochMillis,
) -> Result<Plan, IntakeError> {
    let tz = request
        .tz
        .as_deref()
        .map(str::trim)
        .filter(|tz| !tz.is_empty())
        .unwrap_or("UTC");
    let timetable = Timetable::parse(&request.cron, tz)
        .map_err(|err| IntakeError::invalid(err.field(), err.problem().to_owned()))?;
    let name = match request.name {
        Some(name) if !name.trim().is_empty() => {
            fields::non_blank("name", &name, MAX_NAME_CHARS * 4)?;
            if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
                return Err(IntakeError::invalid(
                    "name",
                    format!("must be at most {MAX_NAME_CHARS} characters on one line"),
                ));
            }
            Some(name)
        }
        _ => None,
    };
    let mut task = request.task;
    if let Some(worker) = request.worker.filter(|worker| !worker.is_empty()) {
        task.common_mut().worker = Some(worker);
    }
    intake::check(task_request(task.clone(), request.requester), rules)?;
    let next_run_at = timetable.next_after(now);
    if next_run_at.is_none() {
        return Err(IntakeError::invalid("cron", "never matches a time to come"));
    }
    let task = serde_json::to_value(&task)
        .map_err(|_| IntakeError::invalid("task", "cannot be stored"))?;
    if task.to_string().len() > MAX_TASK_BYTES {
        return Err(IntakeError::new(
            "task",
            Problem::TooLong {
                limit: MAX_TASK_BYTES,
            },
        ));
    }
    Ok(Plan {
        schedule: NewSchedule {
            owner: request.requester.owner(),
            name,
            cron: request.cron.trim().to_owned(),
            tz: timetable.tz_name().to_owned(),
            task,
            next_run_at,
        },
        timetable,
    })
}

/// The task one run of a schedule owned by `owner` creates, checked now by `rules`: its
/// stored `task`, asked for by its owner, at the schedules' priority unless it names one.
pub fn run_task(
    task: &serde_json::Value,
    owner: &str,
    rules: &Rules<'_>,
) -> Result<NewTask, String> {
    let requester = Requester::from_owner(owner)
        .ok_or_else(|| format!("the owner {owner:?} is not one this bot knows"))?;
    let task: ScheduledTask = serde_json::from_value(task.clone())
        .map_err(|err| format!("the stored task does not read back: {err}"))?;
    intake::check(task_request(task, requester), rules).map_err(|err| format!("refused: {err}"))
}

/// The intake request for `task` by `requester`, at [`Priority::SCHEDULED`] by default.
fn task_request(task: ScheduledTask, requester: Requester) -> TaskRequest {
    let (spec, timeout, common) = match task {
        ScheduledTask::Command(req) => (
            TaskSpec::Command {
                command: req.command,
                cwd: req.cwd,
            },
            req.timeout,
            req.common,
        ),
        ScheduledTask::FileRead(req) => (TaskSpec::FileRead { path: req.path }, None, req.common),
        ScheduledTask::FileWrite(req) => (
            TaskSpec::FileWrite {
                path: req.path,
                content: req.content,
                encoding: req.encoding,
            },
            None,
            req.common,
        ),
        ScheduledTask::FileEdit(req) => (
            TaskSpec::FileEdit {
                path: req.path,
                old_string: req.old_string,
                new_string: req.new_string,
                replace_all: req.replace_all,
            },
            None,
            req.common,
        ),
        ScheduledTask::Claude(req) => (
            // As `POST /claude` asks: intake makes it a Claude task, in a new session when
            // none is named.
            TaskSpec::Agent {
                agent: openclaw_shared::task::CLAUDE_AGENT.to_owned(),
                prompt: req.prompt,
                session: req
                    .session_id
                    .map(|id| openclaw_shared::task::AgentSession {
                        id,
                        new: req.new_session,
                    }),
                cwd: req.cwd,
            },
            req.timeout,
            req.common,
        ),
    };
    TaskRequest {
        timeout: timeout.map(RequestedTimeout::Millis),
        worker: common.worker,
        reply_to: common
            .discord_channel_id
            .map_or(ReplyTo::Nowhere, ReplyTo::DiscordChannel),
        priority: common.priority,
        default_priority: Priority::SCHEDULED,
        callback_url: common.callback_url,
        ..TaskRequest::new(spec, requester)
    }
}
