//! Live progress of a slash command's task: the original response is edited as the task moves
//! (queued → running on `<worker>` → result), at most once per edit interval per message,
//! always with the newest state (intermediate states that were overtaken are skipped).
//! While it runs, the message also shows the end of its live output, edited at most once
//! per live edit interval (2.5 s by default) when only the output changed.

use std::time::Duration;

use openclaw_shared::TaskId;
use tokio::sync::watch;
use tokio::time::Instant;

use super::courier::Courier;
use super::render::{self, Rendered};
use super::send::{self, SendError};
use crate::intake::InteractionOrigin;
use crate::queue::{now_millis, TaskEvent};

/// Where a task stands, as far as its message is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Waiting for a worker.
    Queued,
    /// Claimed by this worker.
    Running(String),
    /// The worker waits for the owner's approval.
    AwaitingApproval,
    /// The worker refused a relayed approval (e.g. a wrong code); still waiting.
    ApprovalRejected(String),
    /// Final: the result is due.
    Finished,
}

impl Stage {
    /// The stage a queue event announces.
    pub fn of(event: &TaskEvent) -> Stage {
        match event {
            TaskEvent::Queued { .. } => Stage::Queued,
            TaskEvent::Claimed { worker, .. } => Stage::Running(worker.clone()),
            TaskEvent::AwaitingApproval { .. } => Stage::AwaitingApproval,
            TaskEvent::ApprovalRejected { reason, .. } => Stage::ApprovalRejected(reason.clone()),
            TaskEvent::Finished { .. } => Stage::Finished,
        }
    }
}

/// When the next edit of one message may go out. Progress edits wait one interval after
/// the acknowledgement and after each edit; the result waits only for the previous *edit*,
/// so a quick command's answer replaces "thinking…" at once instead of after a pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    interval: Duration,
    acknowledged: Instant,
    last_edit: Option<Instant>,
}

impl Throttle {
    /// A throttle for a message acknowledged (deferred) at `acknowledged`.
    pub fn new(interval: Duration, acknowledged: Instant) -> Throttle {
        Throttle {
            interval,
            acknowledged,
            last_edit: None,
        }
    }

    /// The earliest time the next edit may go out.
    pub fn due(&self, is_final: bool) -> Instant {
        match (is_final, self.last_edit) {
            (_, Some(edit)) => edit + self.interval,
            (true, None) => self.acknowledged,
            (false, None) => self.acknowledged + self.interval,
        }
    }

    /// The earliest time an edit that only shows newer live output may go out.
    pub fn due_for_output(&self, interval: Duration) -> Instant {
        self.last_edit.unwrap_or(self.acknowledged) + interval.max(self.interval)
    }

    /// Records an edit (or an attempt Discord answered with a failure, which counts against
    /// the same rate limit) at `at`.
    pub fn edited(&mut self, at: Instant) {
        self.last_edit = Some(at);
    }
}

/// How following a task's progress ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Followed {
    /// The task finished and its result is due now; `token_alive` says whether the
    /// interaction token still takes edits (as far as the last edit showed).
    Finished {
        /// The interaction token still worked at the last edit.
        token_alive: bool,
    },
    /// The app is stopping (or the stages ended): deliver nothing now; the result stays
    /// undelivered and is picked up by the next run.
    Stopped,
}

/// Follows one slash command's task until it finishes: waits for stage changes and edits the
/// progress line when the throttle allows. The final delivery is the caller's.
pub(super) async fn follow(
    courier: &Courier,
    id: TaskId,
    origin: &InteractionOrigin,
    mut stages: watch::Receiver<Stage>,
) -> Followed {
    let settings = &courier.settings;
    let mut throttle = Throttle::new(settings.edit_interval, Instant::now());
    let mut token_alive = origin.token_is_fresh(now_millis(), settings.interaction_ttl);
    let mut shown: Option<Stage> = None;
    // Live output: where the text shown ends; the watch is closed when the tail is dropped.
    let mut output = settings
        .live_edit_interval
        .map(|interval| (interval, courier.queue.watch_output(id)));
    let mut shown_output = 0u64;
    loop {
        let stage = stages.borrow_and_update().clone();
        let is_final = stage == Stage::Finished;
        let output_end = output.as_mut().map_or(0, |(_, w)| *w.borrow_and_update());
        let new_stage = shown.as_ref() != Some(&stage);
        let new_output = matches!(stage, Stage::Running(_)) && output_end > shown_output;
        // Nothing new to show, or nowhere to show progress: wait for the next change.
        if (!new_stage && !new_output) || (!is_final && !token_alive) {
            let mut output_closed = false;
            tokio::select! {
                changed = stages.changed() => if changed.is_err() { return Followed::Stopped },
                open = output_changed(&mut output) => output_closed = !open,
                () = courier.stop.cancelled() => return Followed::Stopped,
            }
            if output_closed {
                output = None;
            }
            continue;
        }
        let due = match (&output, new_stage) {
            (Some((interval, _)), false) => throttle.due_for_output(*interval),
            _ => throttle.due(is_final),
        };
        tokio::select! {
            () = tokio::time::sleep_until(due) => {}
            // A newer stage may change what is due (a result overtakes a progress line).
            changed = stages.changed() => {
                if changed.is_err() { return Followed::Stopped }
                continue;
            }
            () = courier.stop.cancelled() => return Followed::Stopped,
        }
        if is_final {
            return Followed::Finished { token_alive };
        }
        let task = match courier.queue.get(id).await {
            Ok(task) => task,
            Err(error) => {
                tracing::warn!(task_id = %id, error = %crate::telemetry::error_chain(&error), "cannot read the task for its progress line");
                shown = Some(stage);
                continue;
            }
        };
        if task.status.is_terminal() {
            // The Finished event is on its way; the result edit will follow it.
            shown = Some(stage);
            continue;
        }
        let rejection = match &stage {
            Stage::ApprovalRejected(reason) => Some(reason.as_str()),
            _ => None,
        };
        let live = match (&stage, &output) {
            (Stage::Running(_), Some(_)) => courier.queue.live_output(id, 0),
            _ => None,
        };
        let content = match &live {
            Some(slice) => {
                shown_output = slice.end;
                render::progress_with_output(&task, &slice.text)
            }
            None => render::progress(&task, rejection),
        };
        let message = Rendered {
            content,
            files: Vec::new(),
        };
        let sent = send::edit_original(&courier.http, origin, &message).await;
        throttle.edited(Instant::now());
        shown = Some(stage);
        match sent {
            Ok(_) => tracing::debug!(task_id = %id, "progress shown"),
            Err(SendError::TokenGone) => {
                tracing::info!(task_id = %id, "interaction token gone; the result will go to the channel");
                token_alive = false;
            }
            // A progress line is not worth a retry: the next stage or the result follows.
            Err(error) => tracing::info!(task_id = %id, %error, "progress edit failed"),
        }
    }
}

/// Waits for the live output to grow: `false` once its watch is closed (the tail was
/// dropped); never returns without one.
async fn output_changed(output: &mut Option<(Duration, watch::Receiver<u64>)>) -> bool {
    match output {
        Some((_, watch)) => watch.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_goes_out_at_once_when_nothing_was_edited_yet() {
        let start = Instant::now();
        let throttle = Throttle::new(Duration::from_millis(1500), start);

        assert_eq!(throttle.due(true), start);
        assert_eq!(throttle.due(false), start + Duration::from_millis(1500));
    }

    #[test]
    fn every_edit_waits_one_interval_after_the_previous_edit() {
        let start = Instant::now();
        let mut throttle = Throttle::new(Duration::from_millis(1500), start);
        let edit = start + Duration::from_secs(4);

        throttle.edited(edit);

        assert_eq!(throttle.due(true), edit + Duration::from_millis(1500));
        assert_eq!(throttle.due(false), edit + Duration::from_millis(1500));
    }

    #[test]
    fn an_edit_for_newer_output_only_waits_the_longer_live_interval() {
        let start = Instant::now();
        let mut throttle = Throttle::new(Duration::from_millis(1500), start);
        let edit = start + Duration::from_secs(4);
        throttle.edited(edit);

        assert_eq!(
            throttle.due_for_output(Duration::from_millis(2500)),
            edit + Duration::from_millis(2500)
        );
        assert_eq!(
            throttle.due_for_output(Duration::from_millis(500)),
            edit + Duration::from_millis(1500)
        );
    }

    #[test]
    fn events_map_to_stages() {
        let id = TaskId::new();

        assert_eq!(Stage::of(&TaskEvent::Queued { id }), Stage::Queued);
        assert_eq!(
            Stage::of(&TaskEvent::Claimed {
                id,
                worker: "mac".into()
            }),
            Stage::Running("mac".into())
        );
        assert_eq!(
            Stage::of(&TaskEvent::Finished {
                id,
                status: openclaw_shared::TaskStatus::Succeeded
            }),
            Stage::Finished
        );
    }
}
