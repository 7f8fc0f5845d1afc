//! The worker's loop against the real bot (in-process, loopback HTTP, SQLite in a temp dir),
//! driven through the client API as a user's tools would: every task kind, timeouts and
//! cancels, concurrency, a bot restart, a lost claim, shutdown, a rejected token. The
//! worker runs under [`OPEN_POLICY`], so the tests' commands are simple commands (scripts
//! with arguments): shell syntax would wait for an approval.

use std::fs;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use openclaw_shared::ContentEncoding;
use serde_json::json;

use crate::helpers::{
    any_port, process_running, start_open_stack, unique_sleep, wait_for, within_limit,
    write_script, E2eDirs, TestBot, WorkerProcess, OPEN_POLICY, WORKER_TOKEN,
};

/// A command that records its start, waits for `gate` to exist, then records its end; both
/// files live in `~/run`. (Not in `~` itself: a sandboxed task cannot create files directly
/// in a directory the deny lists name missing entries of, such as `~/.ssh`.)
fn gated(home: &std::path::Path, log: &str, gate: &str) -> String {
    let script = home.join("gated.sh");
    if !script.exists() {
        write_script(
            &script,
            "#!/bin/sh\necho start >> \"$1\"\nwhile [ ! -f \"$2\" ]; do sleep 0.02; done\n\
             echo end >> \"$1\"\necho done\n",
        );
    }
    fs::create_dir_all(home.join("run")).unwrap();
    let (log, gate) = (home.join("run").join(log), home.join("run").join(gate));
    format!("{} {} {}", script.display(), log.display(), gate.display())
}

/// A command that runs `sleep <marker>` in the background and waits for it: a grandchild
/// that a kill must reach.
fn sleeper(home: &std::path::Path, marker: &str) -> String {
    let script = home.join("sleeper.sh");
    if !script.exists() {
        write_script(&script, "#!/bin/sh\nsleep \"$1\" &\nwait\n");
    }
    format!("{} {marker}", script.display())
}

fn lines(path: &std::path::Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_task_kind_runs_end_to_end() {
    within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let both = dirs.home.join("both.sh");
        write_script(&both, "#!/bin/sh\necho \"$1\"\necho err >&2\n");
        let claude = dirs.home.join("fake-claude");
        write_script(
            &claude,
            "#!/bin/sh\nfor a in \"$@\"; do printf 'arg:%s\\n' \"$a\"; done\n\
             echo 'PLEASE_UPLOAD_TO_DISCORD: /tmp/e2e.png'\n",
        );
        let mut worker = WorkerProcess::spawn(
            &bot.url(),
            &dirs.home,
            &[("OPENCLAW_WORKER_CLAUDE_BIN", claude.to_str().unwrap())],
        );

        let command = format!("{} '$0 ok'", both.display());
        let command = bot
            .submit("/tasks", json!({"command": command, "timeout": 10000}))
            .await;
        let command = bot.finished(command).await;
        let env = bot.submit("/tasks", json!({"command": "printenv"})).await;
        let env = bot.finished(env).await;
        let write = bot
            .submit(
                "/files/write",
                json!({"path": "~/notes/n.txt", "content": "one\ntwo\n", "encoding": "utf8"}),
            )
            .await;
        let write = bot.finished(write).await;
        let edit = bot
            .submit(
                "/files/edit",
                json!({"path": "~/notes/n.txt", "old_string": "two", "new_string": "2", "replace_all": false}),
            )
            .await;
        let edit = bot.finished(edit).await;
        let missed = bot
            .submit(
                "/files/edit",
                json!({"path": "~/notes/n.txt", "old_string": "zzz", "new_string": "y"}),
            )
            .await;
        let missed = bot.finished(missed).await;
        let read = bot.submit("/files/read", json!({"path": "~/notes/n.txt"})).await;
        let read = bot.finished(read).await;
        let bytes: Vec<u8> = (0..=255).collect();
        let binary = bot
            .submit(
                "/files/write",
                json!({"path": "~/bin.dat", "content": BASE64.encode(&bytes), "encoding": "base64"}),
            )
            .await;
        bot.finished(binary).await;
        let binary = bot.submit("/files/read", json!({"path": "~/bin.dat"})).await;
        let binary = bot.finished(binary).await;
        let prompt = "say $(touch pwned) hi";
        let claude_task = bot
            .submit("/claude", json!({"prompt": prompt, "sessionId": "sess-1", "timeout": 10000}))
            .await;
        let claude_task = bot.finished(claude_task).await;

        assert_eq!(command.status, "succeeded");
        assert_eq!(command.stdout.as_deref(), Some("$0 ok\n"));
        assert_eq!(command.stderr.as_deref(), Some("err\n"));
        assert_eq!(command.exit_code, Some(Some(0)));
        assert_eq!(command.error.flatten(), None);
        let env_out = env.stdout.unwrap();
        assert!(!env_out.contains(WORKER_TOKEN), "the worker token reached a child");
        assert!(env_out.contains("HOME="), "{env_out}");
        assert_eq!(write.status, "succeeded");
        let written = dirs.home.join("notes/n.txt");
        assert_eq!(write.stdout.unwrap(), format!("File written: {}", written.display()));
        assert_eq!(edit.status, "succeeded");
        assert_eq!(missed.status, "failed");
        assert_eq!(missed.exit_code, Some(Some(1)));
        assert_eq!(missed.error, Some(Some("old_string not found".into())));
        assert_eq!(read.stdout.as_deref(), Some("one\n2\n"));
        assert_eq!(binary.encoding, Some(ContentEncoding::Base64));
        assert_eq!(BASE64.decode(binary.stdout.unwrap()).unwrap(), bytes);
        assert_eq!(claude_task.status, "succeeded");
        assert!(claude_task.stdout.unwrap().contains(&format!("arg:{prompt}\n")));
        assert!(!dirs.home.join("pwned").exists());
        let metadata = claude_task.metadata.unwrap();
        assert_eq!(metadata["sessionId"], "sess-1");
        assert_eq!(metadata["screenshotPath"], "/tmp/e2e.png");
        assert_eq!(metadata["policy"]["verdict"], "allow");
        assert_eq!(command.metadata.unwrap()["policy"]["verdict"], "allow");

        worker.terminate();
        assert!(worker.exit_status().await.success());
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timed_out_and_cancelled_commands_leave_no_process_behind() {
    within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let mut worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        let (slow, stuck) = (unique_sleep(), unique_sleep());

        let timed = bot
            .submit(
                "/tasks",
                json!({"command": sleeper(&dirs.home, &slow), "timeout": 500}),
            )
            .await;
        let timed = bot.finished(timed).await;
        let cancelled = bot
            .submit("/tasks", json!({"command": sleeper(&dirs.home, &stuck)}))
            .await;
        wait_for("the task to start", || process_running(&stuck)).await;
        bot.cancel(cancelled).await;
        let cancelled = bot.finished(cancelled).await;

        assert_eq!(timed.status, "timed_out");
        assert!(timed
            .error
            .unwrap()
            .unwrap()
            .contains("timed out after 0.5s"));
        assert!(!process_running(&slow));
        assert_eq!(cancelled.status, "cancelled");
        assert!(!process_running(&stuck));

        worker.terminate();
        assert!(worker.exit_status().await.success());
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_never_runs_more_than_max_concurrent_tasks() {
    within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let mut ids = Vec::new();
        for _ in 0..5 {
            let command = gated(&dirs.home, "log", "gate");
            ids.push(bot.submit("/tasks", json!({ "command": command })).await);
        }

        let mut worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[("MAX_CONCURRENT", "2")]);
        let log = dirs.home.join("run/log");
        wait_for("two tasks to start", || lines(&log).len() >= 2).await;
        // Both slots are held by gated tasks: the worker must not have claimed a third.
        let running = bot.count("running").await;
        fs::write(dirs.home.join("run/gate"), "").unwrap();
        for id in &ids {
            assert_eq!(bot.finished(*id).await.status, "succeeded");
        }

        assert_eq!(running, 2);
        let mut now = 0;
        let mut most = 0;
        for line in lines(&log) {
            now += if line == "start" { 1 } else { -1 };
            most = most.max(now);
        }
        assert_eq!(most, 2, "tasks ran {most} at once with max_concurrent = 2");

        worker.terminate();
        assert!(worker.exit_status().await.success());
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_survives_a_bot_restart_and_delivers_the_result() {
    within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let addr = bot.addr;
        let mut worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        let log = dirs.home.join("run/log");
        let id = bot
            .submit(
                "/tasks",
                json!({"command": gated(&dirs.home, "log", "gate")}),
            )
            .await;
        wait_for("the task to start", || lines(&log).len() == 1).await;

        // The bot goes away while the task runs; the task finishes while it is down.
        bot.stop().await;
        fs::write(dirs.home.join("run/gate"), "").unwrap();
        wait_for("the task to end", || lines(&log).len() == 2).await;
        let bot = TestBot::start(&dirs.data, addr).await;
        let view = bot.finished(id).await;
        let after = bot.command("echo again").await;
        let after = bot.finished(after).await;

        assert_eq!(view.status, "succeeded");
        assert_eq!(view.stdout.as_deref(), Some("done\n"));
        assert_eq!(after.stdout.as_deref(), Some("again\n"));
        assert!(worker.is_running());

        worker.terminate();
        assert!(worker.exit_status().await.success());
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_handed_to_a_poll_that_died_still_runs_once_its_offer_lapses() {
    within_limit(async {
        let dirs = E2eDirs::worker_outside_home();
        dirs.init_worker(OPEN_POLICY);
        let bot = TestBot::start_with(&dirs.data, any_port(), |c| c.queue.offer_ttl_secs = 1).await;
        let id = bot.command("echo woke").await;
        // The Mac fell asleep mid-poll: the claim was answered but never heard.
        let unheard = bot.claim_as("asleep").await;

        let mut worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        let view = bot.finished(id).await;

        assert_eq!(unheard, vec![id]);
        assert_eq!(view.status, "succeeded", "{view:?}");
        assert_eq!(view.stdout.as_deref(), Some("woke\n"));
        worker.terminate();
        assert!(worker.exit_status().await.success());
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_running_task_finish_and_report_then_claims_nothing() {
    within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let mut worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[("MAX_CONCURRENT", "1")]);
        let log = dirs.home.join("run/log");
        let id = bot
            .submit(
                "/tasks",
                json!({"command": gated(&dirs.home, "log", "gate")}),
            )
            .await;
        wait_for("the task to start", || lines(&log).len() == 1).await;

        worker.terminate();
        worker.wait_for_log("claiming no more tasks").await;
        let later = bot
            .submit("/tasks", json!({"command": "echo too late"}))
            .await;
        fs::write(dirs.home.join("run/gate"), "").unwrap();
        let exit = worker.exit_status().await;

        assert!(exit.success(), "{exit:?}");
        let view = bot.task(id, 0).await;
        assert_eq!(view.status, "succeeded");
        assert_eq!(view.stdout.as_deref(), Some("done\n"));
        assert_eq!(bot.task(later, 0).await.status, "pending");
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_past_the_grace_period_kills_the_task_and_reports_it_cancelled() {
    within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let mut worker = WorkerProcess::spawn(
            &bot.url(),
            &dirs.home,
            &[("OPENCLAW_WORKER_SHUTDOWN_GRACE_SECS", "0")],
        );
        let marker = unique_sleep();
        let id = bot
            .submit("/tasks", json!({"command": sleeper(&dirs.home, &marker)}))
            .await;
        wait_for("the task to start", || process_running(&marker)).await;

        worker.terminate();
        let exit = worker.exit_status().await;
        let view = bot.task(id, 0).await;

        assert!(exit.success(), "{exit:?}");
        assert_eq!(view.status, "cancelled");
        assert!(view.error.unwrap().unwrap().contains("shut down"));
        assert!(!process_running(&marker));
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_token_is_logged_and_the_worker_keeps_running() {
    within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let mut worker = WorkerProcess::spawn(
            &bot.url(),
            &dirs.home,
            &[("WORKER_TOKEN", "oc_worker_wrong_0123456789abcdefghijklmn")],
        );

        worker.wait_for_log("worker token rejected by server").await;

        assert!(worker.is_running());
        worker.terminate();
        assert!(worker.exit_status().await.success());
        bot.stop().await;
    })
    .await;
}
