//! Random kills: the worker killed with SIGKILL at random moments while tasks run, and
//! restarted on the same state each time. Every task whose process finished reports its real
//! result, and none runs twice.

use std::fs;
use std::time::Duration;

use super::{log_counts, spool_is_empty, stack};
use crate::helpers::{wait_for, within_limit, write_script, WorkerProcess};

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
