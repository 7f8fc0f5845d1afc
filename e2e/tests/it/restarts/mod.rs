//! A worker that crashes, is replaced by a new binary, or sleeps past its leases loses no
//! finished work: each task's process runs under a supervisor that outlives the worker,
//! the next worker takes over what it finds in the spool (the same state directory), and
//! the bot takes the late result of a task it marked lost. Nothing runs twice.
//!
//! Here the helpers and the single restarts; in `left.rs` spool entries a worker left at
//! each point before a supervisor ran them; in `chaos.rs` random kills.

mod chaos;
mod left;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use openclaw_shared::client::TaskView;
use serde_json::json;

use crate::helpers::{
    any_port, process_running, unique_sleep, wait_for, within_limit, write_script, E2eDirs,
    TestBot, WorkerProcess, OPEN_POLICY,
};

/// A home under [`OPEN_POLICY`] and a bot whose leases lapse after `lease_ttl_secs`
/// without a heartbeat (and whose offers after 2 s), so that a worker gone for a few
/// seconds has its tasks marked lost.
pub(super) async fn stack(lease_ttl_secs: u64) -> (E2eDirs, TestBot) {
    let dirs = E2eDirs::worker_outside_home();
    dirs.init_worker(OPEN_POLICY);
    let bot = TestBot::start_with(&dirs.data, any_port(), |config| {
        config.queue.lease_ttl_secs = lease_ttl_secs;
        config.queue.offer_ttl_secs = 2;
    })
    .await;
    (dirs, bot)
}

/// A command that appends `start <n>` to `~/run/log`, waits until `~/run/gate-<n>` exists,
/// appends `end <n>`, and prints `task <n>`.
fn gated(home: &Path, n: usize) -> String {
    let script = home.join("gated.sh");
    if !script.exists() {
        write_script(
            &script,
            "#!/bin/sh\necho \"start $2\" >> \"$1/log\"\n\
             while [ ! -f \"$1/gate-$2\" ]; do sleep 0.02; done\n\
             echo \"end $2\" >> \"$1/log\"\necho \"task $2\"\n",
        );
    }
    fs::create_dir_all(home.join("run")).unwrap();
    format!("{} {} {n}", script.display(), home.join("run").display())
}

fn open_gate(home: &Path, n: usize) {
    fs::write(home.join(format!("run/gate-{n}")), "").unwrap();
}

/// How often each line appears in `~/run/log`.
pub(super) fn log_counts(home: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in fs::read_to_string(home.join("run/log"))
        .unwrap_or_default()
        .lines()
    {
        *counts.entry(line.to_owned()).or_insert(0) += 1;
    }
    counts
}

pub(super) fn spool_is_empty(dirs: &E2eDirs) -> bool {
    fs::read_dir(dirs.state_dir().join("spool"))
        .map(|mut entries| entries.next().is_none())
        .unwrap_or(true)
}

fn late(view: &TaskView) -> bool {
    view.metadata
        .as_ref()
        .is_some_and(|metadata| metadata.get("late") == Some(&json!(true)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_ends_while_the_worker_is_dead_is_reported_by_the_next_one() {
    within_limit(async {
        let (dirs, bot) = stack(60).await;
        let worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        let id = bot.command(&gated(&dirs.home, 1)).await;
        wait_for("the task to start", || {
            log_counts(&dirs.home).contains_key("start 1")
        })
        .await;

        worker.kill().await;
        open_gate(&dirs.home, 1);
        wait_for("the task to end", || {
            log_counts(&dirs.home).contains_key("end 1")
        })
        .await;
        let mut next = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        let view = bot.finished(id).await;

        assert_eq!(view.status, "succeeded", "{view:?}\n{}", next.log_text());
        assert_eq!(view.stdout.as_deref(), Some("task 1\n"));
        assert_eq!(
            view.metadata.as_ref().unwrap()["sandbox"]["profile"],
            "allowed"
        );
        assert!(view.metadata.as_ref().unwrap()["audit"]["count"].is_u64());
        assert_eq!(log_counts(&dirs.home)["start 1"], 1, "it ran once");
        wait_for("the spool to empty", || spool_is_empty(&dirs)).await;
        next.terminate();
        assert!(next.exit_status().await.success());
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_worker_on_the_same_state_adopts_a_running_task_and_passes_on_a_cancel() {
    within_limit(async {
        let (dirs, bot) = stack(60).await;
        let worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        let marker = unique_sleep();
        let sleeper = dirs.home.join("sleeper.sh");
        write_script(&sleeper, "#!/bin/sh\nsleep \"$1\" &\nwait\n");
        let running = bot.command(&gated(&dirs.home, 1)).await;
        let doomed = bot
            .command(&format!("{} {marker}", sleeper.display()))
            .await;
        wait_for("both tasks to start", || {
            log_counts(&dirs.home).contains_key("start 1") && process_running(&marker)
        })
        .await;

        // As an upgrade that went wrong would: the old binary dies, launchd starts the new.
        worker.kill().await;
        let mut next = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        next.wait_for_log("took over tasks started before the restart")
            .await;
        bot.cancel(doomed).await;
        let doomed = bot.finished(doomed).await;
        open_gate(&dirs.home, 1);
        let running = bot.finished(running).await;

        assert_eq!(
            running.status,
            "succeeded",
            "{running:?}\n{}",
            next.log_text()
        );
        assert_eq!(running.stdout.as_deref(), Some("task 1\n"));
        assert_eq!(log_counts(&dirs.home)["start 1"], 1);
        assert_eq!(doomed.status, "cancelled", "{doomed:?}");
        assert!(
            !process_running(&marker),
            "the cancel reached the adopted task"
        );
        next.terminate();
        assert!(next.exit_status().await.success());
        assert!(spool_is_empty(&dirs));
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_marked_lost_while_the_worker_was_frozen_ends_with_its_real_result() {
    within_limit(async {
        let (dirs, bot) = stack(1).await;
        let mut worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        let id = bot.command(&gated(&dirs.home, 1)).await;
        wait_for("the task to start", || {
            log_counts(&dirs.home).contains_key("start 1")
        })
        .await;
        let pid = Pid::from_raw(i32::try_from(worker.pid()).unwrap());

        // As a Mac asleep: the worker stops heartbeating, and the bot marks the task lost.
        kill(pid, Signal::SIGSTOP).unwrap();
        let lost = bot.finished(id).await;
        kill(pid, Signal::SIGCONT).unwrap();
        worker
            .wait_for_log("it keeps running and its result is delivered late")
            .await;
        open_gate(&dirs.home, 1);
        let view = within_limit(async {
            loop {
                let view = bot.task(id, 0).await;
                if view.status != "lost" {
                    return view;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;

        assert_eq!(lost.status, "lost");
        assert_eq!(view.status, "succeeded", "{view:?}\n{}", worker.log_text());
        assert_eq!(view.stdout.as_deref(), Some("task 1\n"));
        assert!(late(&view), "{view:?}");
        worker.terminate();
        assert!(worker.exit_status().await.success());
        bot.stop().await;
    })
    .await;
}
