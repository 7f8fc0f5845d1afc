//! Firing schedules safely: two firers on one database (as two bot processes would be)
//! queue each run once, and a bot restarted after missing runs applies `schedules.missed`
//! (skip, or run once) instead of making them all up in a burst.

use std::path::Path;
use std::time::Duration;

use openclaw_bot::config::MissedRuns;
use openclaw_bot::intake::callback::CallbackRule;
use openclaw_bot::intake::CallbackChannels;
use openclaw_bot::queue::{now_millis, Queue};
use openclaw_bot::schedules::{Firer, ScheduleSettings};
use openclaw_bot::Config;
use serde_json::json;

use crate::helpers::{within, TestApp};

/// A firer with its own queue (its own connections) on the database at `path`, as another
/// bot process on the same file would have.
fn firer_on(path: &Path, config: &Config) -> Firer {
    let queue = Queue::open(path, config.queue_settings()).unwrap();
    Firer::new(
        queue,
        config.limits.clone(),
        CallbackChannels::new(&[], false),
        CallbackRule::default(),
        ScheduleSettings::from_config(&config.schedules),
    )
}

/// The slots the runs of schedule `id` were queued for, oldest first.
fn fired_slots(path: &Path, id: &str) -> Vec<u64> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT scheduled_for FROM tasks WHERE schedule_id = ?1 ORDER BY scheduled_for")
        .unwrap();
    let slots = stmt
        .query_map([id], |row| row.get::<_, i64>(0))
        .unwrap()
        .map(|slot| u64::try_from(slot.unwrap()).unwrap())
        .collect();
    slots
}

#[tokio::test]
async fn two_firers_on_one_database_queue_each_run_exactly_once() {
    within(async {
        // The bot's own firer looks once at start, then not for an hour: the two below race.
        let app = TestApp::spawn_with(|c| {
            c.schedules.tick_ms = 3_600_000;
            c.schedules.missed_after_secs = 3_600;
        })
        .await;
        let config = app.state.config().clone();
        let path = config.storage.database_path();
        let saved = app
            .schedule(
                json!({"cron": "* * * * * *", "task": {"kind": "command", "command": "true"}}),
            )
            .await;
        let id = saved["id"].as_str().unwrap();
        let first = saved["nextRunAt"].as_u64().unwrap();
        let (a, b) = (firer_on(&path, &config), firer_on(&path, &config));

        // Twenty seconds of ticks, each second's tick run by both at once.
        let mut queued = 0;
        for second in 0..20 {
            let now = first + second * 1000 + 10;
            let (from_a, from_b) = tokio::join!(a.tick(now), b.tick(now));
            queued += from_a.unwrap().queued + from_b.unwrap().queued;
        }

        let slots = fired_slots(&path, id);
        let expected: Vec<u64> = (0..20).map(|second| first + second * 1000).collect();
        assert_eq!(queued, 20);
        assert_eq!(slots, expected, "each slot once, none twice, none skipped");
    })
    .await
}

/// Runs a bot with an every-second schedule until it fired once, stops it for 2.5 s (past
/// `missed_after_secs` = 1), starts it again on the same data dir and lets it run 1.5 s.
/// Returns the slots fired, and when the bot stopped and started again.
async fn restart_after_missing_runs(missed: MissedRuns) -> (Vec<u64>, u64, u64) {
    let tweak = move |c: &mut Config| {
        c.schedules.tick_ms = 100;
        c.schedules.missed_after_secs = 1;
        c.schedules.missed = missed;
    };
    let app = TestApp::spawn_with(tweak).await;
    let path = app.state.config().storage.database_path();
    let saved = app
        .schedule(json!({"cron": "* * * * * *", "task": {"kind": "command", "command": "true"}}))
        .await;
    let id = saved["id"].as_str().unwrap().to_owned();
    while app.claim_waiting("mac", 2_000).await.is_empty() {}
    let dir = app.stop().await;
    let stopped_at = now_millis();

    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let restarted_at = now_millis();
    let app = TestApp::spawn_in(dir, tweak).await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let slots = fired_slots(&path, &id);
    drop(app);
    (slots, stopped_at, restarted_at)
}

#[tokio::test]
async fn runs_missed_while_the_bot_was_down_are_skipped_under_skip() {
    within(async {
        let (slots, stopped_at, restarted_at) = restart_after_missing_runs(MissedRuns::Skip).await;

        let missed: Vec<_> = slots
            .iter()
            .filter(|slot| (stopped_at..=restarted_at).contains(slot))
            .collect();
        let after: Vec<_> = slots.iter().filter(|slot| **slot > restarted_at).collect();
        assert!(missed.is_empty(), "missed slots fired: {missed:?}");
        assert!(
            (1..=2).contains(&after.len()),
            "the schedule goes on at its pace after the restart: {after:?}"
        );
    })
    .await
}

#[tokio::test]
async fn runs_missed_while_the_bot_was_down_run_once_not_in_a_burst_under_run_once() {
    within(async {
        let (slots, stopped_at, restarted_at) =
            restart_after_missing_runs(MissedRuns::RunOnce).await;

        let missed: Vec<_> = slots
            .iter()
            .filter(|slot| (stopped_at..=restarted_at).contains(slot))
            .collect();
        assert_eq!(
            missed.len(),
            1,
            "one run for all the missed ones: {slots:?}"
        );
        let after = slots.iter().filter(|slot| **slot > restarted_at).count();
        assert!(after <= 2, "no burst after the restart: {slots:?}");
    })
    .await
}

#[tokio::test]
async fn a_run_past_the_quota_queues_nothing_says_why_and_the_schedule_goes_on() {
    within(async {
        let app = TestApp::spawn_with(|c| {
            c.schedules.tick_ms = 3_600_000;
            c.schedules.missed_after_secs = 3_600;
            c.quota.max_live_tasks = 1;
        })
        .await;
        let config = app.state.config().clone();
        let path = config.storage.database_path();
        app.submit_command("true").await;
        let saved = app
            .schedule(
                json!({"cron": "* * * * * *", "task": {"kind": "command", "command": "true"}}),
            )
            .await;
        let id = saved["id"].as_str().unwrap();
        let first = saved["nextRunAt"].as_u64().unwrap();

        let report = firer_on(&path, &config).tick(first + 10).await.unwrap();
        let after = app
            .get(&format!("/schedules/{id}"), Some(crate::helpers::CLIENT))
            .await
            .1;

        assert_eq!((report.queued, report.skipped), (0, 1));
        assert!(fired_slots(&path, id).is_empty());
        let why = after["lastError"].as_str().unwrap_or_default();
        assert!(why.contains("quota.max_live_tasks"), "{after}");
        assert_eq!(after["nextRunAt"].as_u64(), Some(first + 1000));
    })
    .await
}
