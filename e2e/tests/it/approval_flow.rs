//! The owner's side, end to end: an approval requested by the worker, posted by the Mac to
//! the owner's own webhook, approved with a TOTP code and run; a screenshot uploaded with a
//! result; a worker that refuses to approve without a TOTP secret; and a shutdown that
//! ends an approval wait. (Refusing to start at all needs no bot: the worker's own tests.)

use std::sync::{Arc, Mutex};

use axum::routing::post;
use axum::{Json, Router};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{screenshot_claude, wait_for, within_limit, Lab, WorkerProcess};

/// A loopback stand-in for a Discord webhook: records every JSON body posted to `/hook`.
pub async fn webhook() -> (String, Arc<Mutex<Vec<Value>>>) {
    let posts = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&posts);
    let app = Router::new().route(
        "/hook",
        post(move |Json(body): Json<Value>| {
            let sink = Arc::clone(&sink);
            async move {
                sink.lock().unwrap().push(body);
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), posts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_task_runs_exactly_as_the_mac_showed_it_to_the_owner() {
    within_limit(async {
        let (hook, posts) = webhook().await;
        let lab = Lab::start("", &[("OPENCLAW_WORKER_NOTIFY_WEBHOOK_URL", &hook)]).await;
        let target = lab.home_path("shared/inbox/made-by-approval");

        let id = lab.bot.command(&format!("touch {target}")).await;
        let waiting = lab.await_approval(id).await;
        let fingerprint = waiting.fingerprint.clone().unwrap();
        wait_for("the worker's webhook post", || {
            !posts.lock().unwrap().is_empty()
        })
        .await;
        let relayed = lab
            .bot
            .approve(id, &fingerprint, &lab.dirs.totp_code())
            .await;
        let done = lab.bot.finished(id).await;
        let entry = lab.dirs.cli(&["audit", "tail", "-n", "1"]);

        let post = posts.lock().unwrap()[0].clone();
        let content = post["content"].as_str().unwrap();
        assert!(content.contains(&format!("**{fingerprint}**")), "{content}");
        assert!(
            content.contains(&format!("/approve {fingerprint}")),
            "{content}"
        );
        assert!(content.contains(&format!("touch {target}")), "{content}");
        assert!(content.contains("<t:"), "{content}");
        assert_eq!(post["allowed_mentions"], json!({"parse": []}));
        assert!(waiting.message.unwrap().contains(&target));
        assert_eq!(relayed, StatusCode::OK);
        assert_eq!(done.status, "succeeded", "{done:?}");
        let metadata = done.metadata.unwrap();
        assert_eq!(metadata["policy"]["verdict"], "approve");
        assert_eq!(metadata["approval"]["fingerprint"], fingerprint.as_str());
        assert!(lab.dirs.home.join("shared/inbox/made-by-approval").exists());
        assert!(
            entry
                .stdout
                .contains(&format!("\"fingerprint\":\"{fingerprint}\"")),
            "{entry:?}"
        );
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_screenshot_named_by_claude_is_uploaded_with_the_result() {
    within_limit(async {
        let probe = tempfile::tempdir().unwrap();
        let claude = screenshot_claude(probe.path());
        let lab = Lab::start(
            "",
            &[("OPENCLAW_WORKER_CLAUDE_BIN", claude.to_str().unwrap())],
        )
        .await;
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR a tiny picture".to_vec();
        let shot = lab.dirs.file("shared/my shot.png", &png);

        let id = lab
            .bot
            .submit("/claude", json!({ "prompt": shot.to_str().unwrap() }))
            .await;
        let done = lab.bot.finished(id).await;
        let (status, content_type, body) = lab.bot.attachment(id, "my_shot.png").await;

        assert_eq!(done.status, "succeeded", "{done:?}");
        let attachments = done.attachments.unwrap();
        assert_eq!(attachments.len(), 1);
        assert_eq!(attachments[0].name, "my_shot.png");
        assert_eq!(attachments[0].content_type, "image/png");
        assert!(done.metadata.unwrap().get("screenshotError").is_none());
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type, "image/png");
        assert_eq!(body, png);
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_totp_secret_tasks_that_need_approval_are_denied() {
    within_limit(async {
        let lab = Lab::start("", &[]).await;
        let Lab { dirs, bot, worker } = lab;
        worker.stop().await;
        std::fs::remove_file(dirs.state_dir().join("totp.secret")).unwrap();
        let worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        worker.wait_for_log("approvals are disabled").await;

        let id = bot
            .command(&format!("touch {}", dirs.home.join("x").display()))
            .await;
        let end = bot.finished(id).await;
        let allowed = bot.command("ls shared").await;
        let allowed = bot.finished(allowed).await;

        assert_eq!(end.status, "denied");
        assert!(end
            .error
            .flatten()
            .unwrap()
            .contains("approvals are not set up"));
        assert!(!dirs.home.join("x").exists());
        assert_eq!(allowed.status, "succeeded");
        worker.stop().await;
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_a_task_waiting_for_approval_at_once_as_cancelled() {
    within_limit(async {
        // A grace period far longer than the test limit: only the approval wait ending at
        // once lets the worker exit in time.
        let lab = Lab::start("", &[("OPENCLAW_WORKER_SHUTDOWN_GRACE_SECS", "600")]).await;
        let id = lab
            .bot
            .command(&format!("touch {}", lab.home_path("never")))
            .await;
        lab.await_approval(id).await;

        let Lab { dirs, bot, worker } = lab;
        worker.stop().await;
        let view = bot.task(id, 0).await;

        assert_eq!(view.status, "cancelled", "{view:?}");
        let error = view.error.flatten().unwrap();
        assert!(error.contains("before the task was approved"), "{error}");
        assert!(!dirs.home.join("never").exists());
        bot.stop().await;
    })
    .await;
}
