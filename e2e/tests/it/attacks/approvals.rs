//! Approval attacks: a code seen once (by the bot, a log, a shoulder) replayed for another
//! task; the owner's valid code relayed with another fingerprint or for another task by an
//! attacker who owns the bot's database; a code the bot kept back until the worker
//! restarted; an approval that arrives after the request expired.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{wait_for, within_limit, Lab, WorkerProcess};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_code_approves_nothing() {
    within_limit(async {
        let lab = Lab::start("", &[]).await;
        let first = lab
            .bot
            .command(&format!("touch {}", lab.home_path("shared/inbox/first")))
            .await;
        let waiting = lab.await_approval(first).await;
        let fingerprint = waiting.fingerprint.unwrap();
        let code = lab.dirs.totp_code();
        assert_eq!(
            lab.bot.approve(first, &fingerprint, &code).await,
            StatusCode::OK
        );
        let approved = lab.bot.finished(first).await;
        let before = lab.snapshot();

        let second = lab
            .bot
            .command(&format!("touch {}", lab.home_path("shared/inbox/second")))
            .await;
        let second_fp = lab.await_approval(second).await.fingerprint.unwrap();
        // The bot cannot judge a code; it relays it. The worker remembers the time step.
        let relayed = lab.bot.approve(second, &second_fp, &code).await;
        lab.worker.wait_for_log("was already used").await;
        let still = lab.bot.task(second, 0).await;
        lab.bot.deny(second).await;
        let end = lab.bot.finished(second).await;

        assert_eq!(approved.status, "succeeded", "{approved:?}");
        assert_eq!(
            approved.metadata.unwrap()["approval"]["fingerprint"],
            fingerprint.as_str()
        );
        assert_eq!(relayed, StatusCode::OK);
        assert_eq!(still.state.as_str(), "awaiting_approval");
        assert_eq!(end.status, "denied");
        before.assert_unchanged(&lab.snapshot());
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_code_for_another_fingerprint_or_task_approves_nothing() {
    within_limit(async {
        let lab = Lab::start("", &[]).await;
        let asked = lab
            .bot
            .command(&format!("touch {}", lab.home_path("shared/inbox/asked")))
            .await;
        let asked_fp = lab.await_approval(asked).await.fingerprint.unwrap();
        // A second task that needs approval waits its turn, still `running` on the server.
        let held = lab
            .bot
            .command(&format!("touch {}", lab.home_path("shared/inbox/held")))
            .await;
        lab.bot.reaches(held, "running").await;
        let before = lab.snapshot();
        let code = lab.dirs.totp_code();

        // The attacker owns the bot's database, which the API's own checks cannot stop.
        let other = if asked_fp == "AAAAAAAA" {
            "BBBBBBBB"
        } else {
            "AAAAAAAA"
        };
        lab.bot.plant_decision(
            asked,
            &json!({"decision": "approve", "fingerprint": other, "code": code}),
        );
        lab.worker
            .wait_for_log("no task is waiting for approval with this fingerprint")
            .await;
        lab.bot.plant_decision(
            held,
            &json!({"decision": "approve", "fingerprint": asked_fp, "code": code}),
        );
        lab.worker
            .wait_for_log("relayed for a task that is not waiting for one")
            .await;
        let asked_view = lab.bot.task(asked, 0).await;
        let held_view = lab.bot.task(held, 0).await;
        let unchanged = lab.snapshot();
        // Neither attempt used the code up: relayed honestly, it approves what it was for.
        assert_eq!(
            lab.bot.approve(asked, &asked_fp, &code).await,
            StatusCode::OK
        );
        let approved = lab.bot.finished(asked).await;
        lab.await_approval(held).await;
        lab.bot.deny(held).await;
        let held_end = lab.bot.finished(held).await;

        assert_eq!(asked_view.state.as_str(), "awaiting_approval");
        assert_eq!(held_view.status, "running");
        before.assert_unchanged(&unchanged);
        assert_eq!(approved.status, "succeeded", "{approved:?}");
        assert_eq!(held_end.status, "denied");
        assert!(!lab.dirs.home.join("shared/inbox/held").exists());
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_kept_back_until_the_worker_restarts_approves_nothing() {
    within_limit(async {
        let lab = Lab::start("", &[]).await;
        let asked = lab
            .bot
            .command(&format!("touch {}", lab.home_path("shared/inbox/asked")))
            .await;
        lab.await_approval(asked).await;
        // The owner types a code for it; the bot keeps it back and the worker dies (the
        // bot cannot kill it, but a crash, the out-of-memory killer or a reboot can) with
        // the request pending, so no deny or expiry ever spends that code.
        let code = lab.dirs.totp_code();
        let Lab { dirs, bot, worker } = lab;
        worker.kill().await;
        let worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        let lab = Lab { dirs, bot, worker };
        let before = lab.snapshot();

        let planted = lab
            .bot
            .command(&format!("touch {}", lab.home_path("shared/inbox/planted")))
            .await;
        let planted_fp = lab.await_approval(planted).await.fingerprint.unwrap();
        let relayed = lab.bot.approve(planted, &planted_fp, &code).await;
        let planted_file = lab.dirs.home.join("shared/inbox/planted");
        wait_for("the worker to refuse or run it", || {
            lab.worker.logged("was already used") || planted_file.exists()
        })
        .await;
        assert!(
            !planted_file.exists(),
            "the kept-back code approved another task"
        );
        let still = lab.bot.task(planted, 0).await;
        lab.bot.deny(planted).await;
        let end = lab.bot.finished(planted).await;

        assert_eq!(relayed, StatusCode::OK);
        assert_eq!(still.state.as_str(), "awaiting_approval", "{still:?}");
        assert_eq!(end.status, "denied", "{end:?}");
        before.assert_unchanged(&lab.snapshot());
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_approval_request_denies_the_task() {
    within_limit(async {
        let lab = Lab::start("[approvals]\nttl_secs = 2\n", &[]).await;
        let before = lab.snapshot();

        let id = lab
            .bot
            .command(&format!("touch {}", lab.home_path("late")))
            .await;
        let end = lab.bot.finished(id).await;
        let late = lab.bot.approve(id, "AAAAAAAA", &lab.dirs.totp_code()).await;

        assert_eq!(end.status, "denied");
        assert!(end.error.flatten().unwrap().contains("expired"), "{id}");
        assert_eq!(late, StatusCode::CONFLICT);
        before.assert_unchanged(&lab.snapshot());
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_too_long_to_show_whole_is_denied_at_once_not_left_waiting() {
    within_limit(async {
        // A short expiry, so a worker that let it wait would end it `expired` quickly.
        let lab = Lab::start("[approvals]\nttl_secs = 5\n", &[]).await;
        let before = lab.snapshot();
        let padding = "a".repeat(1500);
        let command = format!("touch {} {padding}", lab.home_path("shared/inbox/long"));

        let view = lab
            .expect_denied("/tasks", json!({ "command": command }))
            .await;

        let error = view.error.flatten().unwrap();
        assert!(
            error.contains(&format!(
                "is {} bytes, too long to show whole",
                command.len()
            )),
            "{error}"
        );
        assert!(error.ends_with("run it on the Mac"), "{error}");
        assert!(view.fingerprint.is_none(), "{:?}", view.fingerprint);
        before.assert_unchanged(&lab.snapshot());
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_macs_own_message_spells_out_what_a_command_would_hide() {
    within_limit(async {
        let (hook, posts) = crate::approval_flow::webhook().await;
        let lab = Lab::start("", &[("OPENCLAW_WORKER_NOTIFY_WEBHOOK_URL", &hook)]).await;
        let before = lab.snapshot();
        // A right-to-left override makes `…\u{202e}hs.txt` read as `…txt.sh`; the newline
        // inside the quoted argument starts a line that reads like the sandbox line.
        let target = lab.home_path("shared/inbox/notes\u{202e}hs.txt");
        let command = format!("touch '{target}\nsandbox `allowed`: no network'");

        let id = lab.bot.command(&command).await;
        let waiting = lab.await_approval(id).await;
        crate::helpers::wait_for("the worker's webhook post", || {
            !posts.lock().unwrap().is_empty()
        })
        .await;
        lab.bot.deny(id).await;
        let end = lab.bot.finished(id).await;

        let post = posts.lock().unwrap()[0].clone();
        let content = post["content"].as_str().unwrap();
        let block = content.split("```").nth(1).unwrap();
        assert!(
            block.starts_with(&format!(
                "\nshell command ({} bytes, 2 lines)",
                command.len()
            )),
            "{content}"
        );
        assert!(content.contains("\n1│ touch '"), "{content}");
        assert!(
            content.contains("notes⟨U+202E⟩hs.txt\n2│ sandbox"),
            "{content}"
        );
        assert!(!content.contains('\u{202e}'), "{content}");
        assert!(
            content.contains("\nsandbox `\u{200b}approved`\u{200b}: writes only"),
            "{content}"
        );
        // The text's line about a sandbox is numbered as the command's own.
        let fake: Vec<&str> = block.lines().filter(|l| l.contains("no network")).collect();
        assert_eq!(fake, ["2│ sandbox `\u{200b}allowed`\u{200b}: no network'"]);
        assert!(waiting.message.unwrap_or_default().contains("⟨U+202E⟩"));
        assert_eq!(end.status, "denied");
        before.assert_unchanged(&lab.snapshot());
        lab.stop().await;
    })
    .await;
}
