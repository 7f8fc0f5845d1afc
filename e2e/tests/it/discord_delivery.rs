//! How results reach Discord: progress, long output, output that tries to ping or break the
//! message, screenshots, expired interaction tokens, channels named over the HTTP API, and
//! Discord failing the edit.

use discord_fake::{FailMode, Route, SlashCommand};
use serde_json::json;
use std::time::Duration;

use crate::helpers::{is_result, within_discord, DiscordTest};

/// A script that blocks until the test creates `go` in the worker's directory.
const GATE_SCRIPT: &str = "#!/bin/sh\nwhile [ ! -e go ]; do sleep 0.05; done\necho released\n";

#[tokio::test]
async fn progress_shows_the_worker_while_the_command_runs() {
    within_discord(async {
        let t = DiscordTest::start().await;
        let gate = t.script("gate.sh", GATE_SCRIPT);

        let ix = t
            .command(SlashCommand::new("run").option("command", gate.as_str()))
            .await;
        let running = t
            .discord
            .wait_for_original(&ix, |m| m.content.contains("running on `mac`"))
            .await
            .unwrap();
        std::fs::write(t.path("go"), "").unwrap();
        let result = t.result(&ix).await;

        assert!(
            running.content.starts_with(&format!("⚙️ `{gate}`")),
            "{}",
            running.content
        );
        assert!(
            result.content.ends_with("```\nreleased\n```"),
            "{}",
            result.content
        );
    })
    .await;
}

#[tokio::test]
async fn long_output_keeps_its_tail_and_comes_whole_as_output_txt() {
    within_discord(async {
        let t = DiscordTest::start().await;

        let result = t.run("seq 1 5000").await;

        let expected: String = (1..=5000).map(|n| format!("{n}\n")).collect();
        assert!(result.content.chars().count() <= 2000);
        assert!(
            result.content.contains("\n4999\n5000\n```"),
            "{}",
            result.content
        );
        assert!(!result.content.contains("\n1\n2\n3\n"));
        assert!(
            result.content.contains("output trimmed"),
            "{}",
            result.content
        );
        assert_eq!(
            result.attachment("output.txt").unwrap().bytes,
            expected.as_bytes()
        );
    })
    .await;
}

#[tokio::test]
async fn output_with_everyone_mentions_and_fences_pings_nobody_and_stays_in_its_block() {
    within_discord(async {
        let t = DiscordTest::start().await;
        let owner = t.discord.owner_id();
        let evil = format!("@everyone @here <@{owner}>\n```\nescaped?\n```\n");
        std::fs::write(t.path("evil.txt"), evil).unwrap();

        let result = t.run("cat evil.txt").await;

        assert_eq!(
            result.content.matches("```").count(),
            2,
            "{}",
            result.content
        );
        assert!(result.content.contains("@everyone @here"));
        let mentions = result.mentions(None);
        assert!(!mentions.everyone);
        assert!(mentions.users.is_empty(), "{mentions:?}");
        assert!(mentions.roles.is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_screenshot_named_by_the_result_is_attached_as_an_image() {
    within_discord(async {
        let t = DiscordTest::start().await;
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR a small picture".to_vec();
        std::fs::write(t.path("shot.png"), &png).unwrap();

        let ix = t
            .command(SlashCommand::new("claude").option("prompt", "take a screenshot"))
            .await;
        let result = t.result(&ix).await;

        let image = result
            .attachment("shot.png")
            .expect("the screenshot is attached");
        assert_eq!(image.bytes, png);
        assert!(
            !result.content.contains("not uploaded"),
            "{}",
            result.content
        );
    })
    .await;
}

#[tokio::test]
async fn a_result_after_the_token_died_is_posted_in_the_channel_mentioning_only_the_user() {
    within_discord(async {
        let t = DiscordTest::start().await;
        let owner = t.discord.owner_id();
        let gate = t.script("gate.sh", GATE_SCRIPT);

        let ix = t
            .command(SlashCommand::new("run").option("command", gate.as_str()))
            .await;
        t.discord
            .wait_for_original(&ix, |m| m.content.contains("running on"))
            .await
            .unwrap();
        // As after Discord's 15 minutes: edits with this token now get 401 (50027).
        assert!(t.discord.expire_interaction_token(&ix.token));
        std::fs::write(t.path("go"), "").unwrap();
        let posted = t
            .discord
            .wait_for_channel_message(ix.channel_id, |m| m.content.contains("released"))
            .await
            .unwrap();

        assert!(
            posted
                .content
                .starts_with(&format!("<@{owner}> result of your `/run`:\n✅ `{gate}`")),
            "{}",
            posted.content
        );
        let mentions = posted.mentions(None);
        assert_eq!(mentions.users, [owner]);
        assert!(!mentions.everyone);
        assert!(!is_result(&t.discord.original_response(&ix).unwrap()));
    })
    .await;
}

#[tokio::test]
async fn a_task_from_the_http_api_that_names_a_channel_is_answered_there() {
    within_discord(async {
        let t = DiscordTest::start().await;
        let channel = t.discord.channel_id();

        let id = t
            .bot()
            .submit(
                "/tasks",
                json!({"command": "echo from the api", "discordChannelId": channel.to_string()}),
            )
            .await;
        let posted = t
            .discord
            .wait_for_channel_message(channel, |m| m.content.contains("from the api"))
            .await
            .unwrap();

        let short: String = id.to_string().chars().take(8).collect();
        assert!(
            posted.content.starts_with(&format!(
                "-# task `{short}` from the API\n✅ `echo from the api`"
            )),
            "{}",
            posted.content
        );
        assert!(posted.mentions(None).users.is_empty());
        let view = t.bot().task(id, 0).await;
        assert_eq!(view.stdout.as_deref(), Some("from the api\n"));
    })
    .await;
}

#[tokio::test]
async fn a_500_then_a_429_on_the_result_edit_are_retried_until_it_lands() {
    within_discord(async {
        // A long edit interval: no progress edit goes out, so the faults hit the result.
        let t = DiscordTest::start_with(|c| c.discord.edit_interval_ms = 60_000).await;
        t.discord
            .fail_next(Route::EditOriginal, FailMode::Status(500));
        t.discord.fail_next(
            Route::EditOriginal,
            FailMode::RateLimited {
                retry_after: Duration::from_millis(100),
            },
        );

        let result = t.run("echo persistent").await;

        assert!(result.content.ends_with("```\npersistent\n```"));
        let statuses: Vec<Option<u16>> = t
            .discord
            .requests_to(Route::EditOriginal)
            .iter()
            .map(|r| r.status)
            .collect();
        assert_eq!(statuses, [Some(500), Some(429), Some(200)]);
    })
    .await;
}
