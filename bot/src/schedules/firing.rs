//! The firing loop: every tick, each due schedule has its run turned into a task, once.
//!
//! Why a run happens once and never in a burst:
//! - Each schedule's next run (`next_run_at`) is a durable slot. A firer takes a slot by
//!   moving it forward in the same transaction that queues the run's task, on condition
//!   that it still holds the value the firer read ([`Queue::fire`]); a second bot process on
//!   the same database finds the slot moved and does nothing.
//! - A slot always moves to the first run after *now*, so however long the bot was down, a
//!   schedule has at most one run due when it comes back; [`MissedRuns`] says whether that
//!   one runs.

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use openclaw_shared::EpochMillis;

use super::{run_task, MissedRuns, ScheduleSettings};
use crate::config::LimitsConfig;
use crate::intake::callback::CallbackRule;
use crate::intake::{CallbackChannels, Rules};
use crate::queue::{now_millis, Fired, Firing, Queue, QueueError, Schedule, Timetable};
use crate::telemetry::{error_chain, Throttled};

/// Most due schedules fired per tick; the rest wait for the next (they are not lost).
const DUE_PER_TICK: usize = 100;

/// Failed ticks, logged once per interval with a count.
static TICK_FAILURES: Throttled = Throttled::new(std::time::Duration::from_secs(60));

/// What one tick did, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Runs whose task was queued.
    pub queued: usize,
    /// Slots taken without a task: skipped as missed, or refused (recorded on the schedule).
    pub skipped: usize,
    /// Slots another firer took first.
    pub taken: usize,
}

/// Fires due schedules on a queue: what each run's task is checked against, and the rules.
#[derive(Clone)]
pub struct Firer {
    queue: Queue,
    limits: LimitsConfig,
    channels: CallbackChannels,
    callbacks: CallbackRule,
    settings: ScheduleSettings,
}

impl Firer {
    /// A firer for `queue`, checking each run's task against `limits`, `channels` and
    /// `callbacks` as the other doors do.
    pub fn new(
        queue: Queue,
        limits: LimitsConfig,
        channels: CallbackChannels,
        callbacks: CallbackRule,
        settings: ScheduleSettings,
    ) -> Firer {
        Firer {
            queue,
            limits,
            channels,
            callbacks,
            settings,
        }
    }

    /// Fires due schedules every `settings.tick` until `stop`. A failing store is logged
    /// and retried next tick.
    pub async fn run(self, stop: CancellationToken) {
        let mut ticker = tokio::time::interval(self.settings.tick);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            match self.tick(now_millis()).await {
                Ok(report) if report == TickReport::default() => {}
                Ok(report) => tracing::debug!(
                    queued = report.queued,
                    skipped = report.skipped,
                    taken = report.taken,
                    "schedules fired"
                ),
                Err(err) => {
                    if let Some(count) = TICK_FAILURES.hit() {
                        tracing::error!(error = %error_chain(&err), count, "firing schedules failed (count: failures since the last such line)");
                    }
                }
            }
        }
    }

    /// Fires every schedule due at `now` (up to 100; the rest next tick), one slot each.
    pub async fn tick(&self, now: EpochMillis) -> Result<TickReport, QueueError> {
        let mut report = TickReport::default();
        for schedule in self.queue.due_schedules(now, DUE_PER_TICK).await? {
            let Some(firing) = self.firing(&schedule, now) else {
                continue;
            };
            match self.queue.fire(firing).await? {
                Fired::Queued(_) => report.queued += 1,
                Fired::Skipped | Fired::Refused(_) => report.skipped += 1,
                Fired::Taken => report.taken += 1,
            }
        }
        Ok(report)
    }

    /// What firing `schedule`'s due slot at `now` does: the run's task (or why none), and
    /// where the schedule moves to.
    fn firing(&self, schedule: &Schedule, now: EpochMillis) -> Option<Firing> {
        let slot = schedule.next_run_at?;
        let timetable = match Timetable::parse(&schedule.cron, &schedule.tz) {
            Ok(timetable) => timetable,
            Err(err) => {
                // Checked when saved, so only a hand-edited row gets here: stop it.
                return Some(Firing {
                    id: schedule.id,
                    slot,
                    next_run_at: None,
                    run: Err(format!("stopped: the stored {err}")),
                });
            }
        };
        let next_run_at = timetable.next_after(now);
        let missed_after =
            u64::try_from(self.settings.missed_after.as_millis()).unwrap_or(u64::MAX);
        let missed = now.saturating_sub(slot) > missed_after;
        let run = if missed && self.settings.missed == MissedRuns::Skip {
            tracing::info!(schedule_id = %schedule.id, due = %timetable.local_time(slot), "runs missed while no bot was firing were skipped (schedules.missed = skip)");
            Err(format!(
                "runs missed while the bot was down were skipped (schedules.missed = \"skip\"); \
                 the last was due {}",
                timetable.local_time(slot)
            ))
        } else {
            if missed {
                tracing::info!(schedule_id = %schedule.id, due = %timetable.local_time(slot), "runs missed while no bot was firing: running once now (schedules.missed = run_once)");
            }
            let rules = Rules {
                limits: &self.limits,
                channels: &self.channels,
                callbacks: self.callbacks,
            };
            let run = run_task(&schedule.task, &schedule.owner, &rules);
            if let Err(why) = &run {
                tracing::warn!(schedule_id = %schedule.id, why, "a schedule's run created no task");
            }
            run
        };
        Some(Firing {
            id: schedule.id,
            slot,
            next_run_at,
            run,
        })
    }
}
