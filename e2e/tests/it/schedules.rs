//! A schedule end to end: the real bot fires an every-second schedule, each run is an
//! ordinary task the real worker claims and runs under its policy and sandbox, and a
//! deleted schedule runs no more.

use std::fs;
use std::time::Duration;

use openclaw_shared::client::{ScheduleView, TaskList};
use serde_json::json;

use crate::helpers::{
    any_port, wait_for, within_limit, write_script, E2eDirs, TestBot, WorkerProcess, CLIENT_TOKEN,
    OPEN_POLICY,
};

fn ticks(path: &std::path::Path) -> usize {
    fs::read_to_string(path).unwrap_or_default().lines().count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_every_second_schedule_runs_ordinary_tasks_on_the_real_worker_until_deleted() {
    within_limit(async {
        let dirs = E2eDirs::worker_outside_home();
        dirs.init_worker(OPEN_POLICY);
        let bot = TestBot::start_with(&dirs.data, any_port(), |c| c.schedules.tick_ms = 100).await;
        let script = dirs.home.join("tick.sh");
        write_script(&script, "#!/bin/sh\necho tick >> \"$1\"\necho ticked\n");
        fs::create_dir_all(dirs.home.join("run")).unwrap();
        let log = dirs.home.join("run").join("ticks.log");
        let http = reqwest::Client::new();
        let body = json!({
            "cron": "* * * * * *",
            "name": "ticker",
            "task": {"kind": "command", "command": format!("{} {}", script.display(), log.display())},
        });
        let worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);

        let created: ScheduleView = http
            .post(format!("{}/schedules", bot.url()))
            .bearer_auth(CLIENT_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        wait_for("three scheduled runs on the Mac", || ticks(&log) >= 3).await;
        let deleted = http
            .delete(format!("{}/schedules/{}", bot.url(), created.id))
            .bearer_auth(CLIENT_TOKEN)
            .send()
            .await
            .unwrap();
        // A run already queued may still finish; after that, nothing more.
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let settled = ticks(&log);
        tokio::time::sleep(Duration::from_millis(2_000)).await;
        let tasks: TaskList = http
            .get(format!("{}/tasks?limit=200", bot.url()))
            .bearer_auth(CLIENT_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();

        assert!(deleted.status().is_success());
        assert_eq!(ticks(&log), settled, "a deleted schedule runs no more");
        let succeeded: Vec<_> = tasks
            .tasks
            .iter()
            .filter(|task| task.status == "succeeded")
            .collect();
        assert!(succeeded.len() >= 3, "{tasks:?}");
        for task in &succeeded {
            let view = bot.task(task.task_id, 0).await;
            assert_eq!(view.priority, Some(7));
            assert_eq!(view.owner.as_deref(), Some("api"));
            assert_eq!(view.stdout.as_deref(), Some("ticked\n"));
        }
        worker.stop().await;
        bot.stop().await;
    })
    .await
}
