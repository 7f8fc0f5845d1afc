//! A worker that crashes, is replaced by a new binary, or sleeps past its leases loses no
//! finished work: each task's process runs under a supervisor that outlives the worker,
//! the next worker takes over what it finds in the spool (the same state directory), and
//! the bot takes the late result of a task it marked lost. Nothing runs twice.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use openclaw_shared::client::TaskView;
use openclaw_shared::worker::ClaimedTask;
use openclaw_worker::exec::job::{ProcessJob, JOB_VERSION};
use openclaw_worker::policy::Verdict;
use openclaw_worker::sandbox::Invocation;
use openclaw_worker::spool::TaskRecord;
use serde_json::json;

use crate::helpers::{
    any_port, process_running, unique_sleep, wait_for, within_limit, write_script, E2eDirs,
    TestBot, WorkerProcess, OPEN_POLICY,
};

/// A home under [`OPEN_POLICY`] and a bot whose leases lapse after `lease_ttl_secs`
/// without a heartbeat (and whose offers after 2 s), so that a worker gone for a few
/// seconds has its tasks marked lost.
async fn stack(lease_ttl_secs: u64) -> (E2eDirs, TestBot) {
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
fn log_counts(home: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in fs::read_to_string(home.join("run/log"))
        .unwrap_or_default()
        .lines()
    {
        *counts.entry(line.to_owned()).or_insert(0) += 1;
    }
    counts
}

fn spool_is_empty(dirs: &E2eDirs) -> bool {
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

/// Writes task `task`'s spool directory in `dirs`'s state as a worker that stopped at a
/// given point would have left it: the record, a job that would create `marker`, and a lock
/// file holding `pid` (empty: no supervisor ever took the task).
fn leave_in_spool(dirs: &E2eDirs, task: &ClaimedTask, marker: &Path, pid: &str) {
    let dir = dirs.state_dir().join("spool").join(task.id.to_string());
    fs::create_dir_all(&dir).unwrap();
    let record = TaskRecord {
        task: task.clone(),
        verdict: Verdict::Allow,
        rule: "commands.allow[0]".into(),
        reason: "allowed".into(),
        approval: None,
    };
    fs::write(dir.join("task.json"), serde_json::to_vec(&record).unwrap()).unwrap();
    let job = ProcessJob {
        version: JOB_VERSION,
        invocation: Invocation {
            program: "/usr/bin/touch".into(),
            arg0: None,
            args: vec![marker.as_os_str().to_owned()],
        },
        env: Vec::new(),
        cwd: "/".into(),
        sandbox: None,
        max_output_bytes: 1024,
        kill_grace_ms: 1_000,
        timeout_ms: 10_000,
        what: "/usr/bin/touch".into(),
    };
    fs::write(dir.join("job.json"), serde_json::to_vec(&job).unwrap()).unwrap();
    fs::write(dir.join("lock"), pid).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_left_before_its_process_started_or_with_its_supervisor_gone_never_runs() {
    within_limit(async {
        let (dirs, bot) = stack(60).await;
        let never = bot.command("true").await;
        let lost = bot.command("true").await;
        let claimed = bot.claim_and_accept("e2e-mac").await;
        let task = |id| claimed.iter().find(|t| t.id == id).unwrap();
        let (never_marker, lost_marker) = (dirs.home.join("never"), dirs.home.join("lost"));
        // Handed to a supervisor that never took it; taken by one that died with it.
        leave_in_spool(&dirs, task(never), &never_marker, "");
        leave_in_spool(&dirs, task(lost), &lost_marker, "999999\n");

        let mut worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        let never = bot.finished(never).await;
        let lost = bot.finished(lost).await;

        assert_eq!(never.status, "failed", "{never:?}");
        let why = |view: &TaskView| view.error.clone().flatten().unwrap_or_default();
        assert!(why(&never).contains("nothing ran"), "{never:?}");
        assert_eq!(lost.status, "failed", "{lost:?}");
        assert!(why(&lost).contains("unknown"), "{lost:?}");
        assert!(never.metadata.unwrap()["audit"]["count"].is_u64());
        assert!(
            !never_marker.exists() && !lost_marker.exists(),
            "nothing ran again"
        );
        wait_for("the spool to empty", || spool_is_empty(&dirs)).await;
        worker.terminate();
        assert!(worker.exit_status().await.success());
        bot.stop().await;
    })
    .await;
}

/// What a chaos run saw.
struct Chaos {
    /// Tasks whose process finished.
    finished: usize,
    /// Of them, reported with their real result.
    real: usize,
    /// Tasks that started more than once.
    twice: usize,
    /// Tasks that never started.
    never: usize,
    /// Task processes running at the moments of the kills, added up.
    hit: usize,
}

/// Kills the worker with SIGKILL `kills` times at moments drawn from `seed`, while `tasks`
/// tasks of random length run three at a time, restarting it each time on the same state.
async fn chaos(tasks: usize, kills: usize, seed: u64) -> Chaos {
    let (dirs, bot) = stack(3).await;
    let mut rng = fastrand::Rng::with_seed(seed);
    let script = dirs.home.join("chaos.sh");
    write_script(
        &script,
        "#!/bin/sh\necho \"start $2\" >> \"$1/log\"\nsleep \"$3\"\n\
         echo \"end $2\" >> \"$1/log\"\necho \"task $2\"\n",
    );
    fs::create_dir_all(dirs.home.join("run")).unwrap();
    let env = [("MAX_CONCURRENT", "3")];
    let mut worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &env);
    let mut ids = Vec::new();
    for n in 0..tasks {
        let secs = format!("0.{}", rng.u32(2..9));
        let command = format!(
            "{} {} {n} {secs}",
            script.display(),
            dirs.home.join("run").display()
        );
        ids.push(bot.command(&command).await);
    }
    let mut hit = 0;
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(rng.u64(200..1_200))).await;
        let counts = log_counts(&dirs.home);
        let started = counts
            .keys()
            .filter(|line| line.starts_with("start"))
            .count();
        let ended = counts.keys().filter(|line| line.starts_with("end")).count();
        hit += started - ended;
        worker.kill().await;
        worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &env);
    }
    for id in &ids {
        bot.finished(*id).await;
    }
    // A task marked lost while its worker was down ends later with its late result: read
    // the views once every result left the spool.
    wait_for("the spool to empty", || spool_is_empty(&dirs)).await;
    let mut views = Vec::new();
    for id in &ids {
        views.push(bot.task(*id, 0).await);
    }
    let counts = log_counts(&dirs.home);
    let (mut finished, mut real, mut twice, mut never) = (0, 0, 0, 0);
    for (n, view) in views.iter().enumerate() {
        let started = counts.get(&format!("start {n}")).copied().unwrap_or(0);
        let ended = counts.get(&format!("end {n}")).copied().unwrap_or(0);
        twice += usize::from(started > 1);
        never += usize::from(started == 0);
        if ended > 0 {
            finished += 1;
            let expected = format!("task {n}\n");
            if view.status == "succeeded" && view.stdout.as_deref() == Some(expected.as_str()) {
                real += 1;
            } else {
                eprintln!("task {n} finished but reported {view:?}");
            }
        } else if started == 0 {
            assert_ne!(view.status, "succeeded", "task {n} never ran: {view:?}");
        }
    }
    worker.terminate();
    assert!(worker.exit_status().await.success());
    bot.stop().await;
    Chaos {
        finished,
        real,
        twice,
        never,
        hit,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_worker_at_random_loses_no_finished_task_and_runs_none_twice() {
    within_limit(async {
        // CHAOS_TASKS and CHAOS_KILLS make a longer run (for the figures in the README).
        let number = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|value| value.parse().ok())
                .unwrap_or(default)
        };
        let tasks = usize::try_from(number("CHAOS_TASKS", 12)).unwrap();
        let kills = usize::try_from(number("CHAOS_KILLS", 6)).unwrap();
        // A new draw each run, printed, so that a failure can be replayed with CHAOS_SEED.
        let seed = number("CHAOS_SEED", fastrand::u64(..));

        let run = chaos(tasks, kills, seed).await;

        eprintln!(
            "CHAOS_SEED={seed}: {kills} × SIGKILL during {tasks} tasks ({} task processes \
             running at the kills): {} processes finished, {} reported with their real \
             result, {} started twice, {} never started",
            run.hit, run.finished, run.real, run.twice, run.never
        );
        assert_eq!(
            run.real, run.finished,
            "every finished task reports its real result"
        );
        assert_eq!(run.twice, 0, "no task runs twice");
        assert!(
            run.finished > tasks / 2,
            "most tasks ran: {} of {tasks}",
            run.finished
        );
    })
    .await;
}
