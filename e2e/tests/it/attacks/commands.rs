//! Command attacks: shell syntax smuggled into an allowlisted program's arguments, and
//! inline evaluation through programs that run code given as text. None of them may run
//! without the owner's approval, whatever the allow rules say.

use serde_json::json;

use crate::helpers::{within_limit, Lab};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shell_syntax_smuggled_into_allowed_arguments_waits_and_runs_nothing() {
    within_limit(async {
        let lab = Lab::start("", &[]).await;
        let pwned = lab.home_path("pwned");
        let before = lab.snapshot();
        let smuggled = [
            format!("ls $(touch {pwned})"),
            format!("ls `touch {pwned}`"),
            format!("ls; touch {pwned}"),
            format!("ls && touch {pwned}"),
            format!("ls > {pwned}"),
            format!("ls\ntouch {pwned}"),
        ];

        for command in &smuggled {
            let waiting = lab
                .expect_approval_then_deny("/tasks", json!({ "command": command }))
                .await;

            let message = waiting.message.unwrap();
            assert!(
                message.contains("through the shell"),
                "{command}: {message}"
            );
        }

        before.assert_unchanged(&lab.snapshot());
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_evaluation_waits_for_approval_even_for_an_allowed_shell() {
    within_limit(async {
        let lab = Lab::start("", &[]).await;
        let pwned = lab.home_path("pwned");
        let before = lab.snapshot();
        let evaluators = [
            format!("sh -c 'touch {pwned}'"),
            format!("python3 -c 'open(\"{pwned}\", \"w\")'"),
            format!("env touch {pwned}"),
            format!("find {} -delete", lab.home_path("shared")),
        ];

        for command in &evaluators {
            let id = lab.bot.command(command).await;
            let waiting = lab.await_approval(id).await;
            lab.bot.deny(id).await;
            let end = lab.bot.finished(id).await;

            assert_eq!(end.status, "denied", "{command}");
            assert!(waiting.fingerprint.is_some());
            let rule = end.metadata.unwrap()["policy"]["rule"].clone();
            assert_eq!(rule, "inline_eval", "{command}");
        }

        before.assert_unchanged(&lab.snapshot());
        lab.stop().await;
    })
    .await;
}
