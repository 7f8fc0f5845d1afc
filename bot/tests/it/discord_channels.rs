//! Results the bot posts in a channel for an API client: what the attacker controls (a file
//! name from a path) cannot disguise a program as a picture.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use discord_fake::{FakeDiscord, Route};
use openclaw_shared::ContentEncoding;
use reqwest::StatusCode;
use serde_json::json;

use crate::discord_support::{discord_config, within_discord};
use crate::helpers::{assert_error, success, TestApp, CLIENT};

#[tokio::test]
async fn a_right_to_left_override_cannot_make_a_program_look_like_a_picture() {
    within_discord(async {
        let discord = FakeDiscord::start().await.unwrap();
        let app = TestApp::spawn_with(|config| discord_config(config, &discord)).await;
        let channel = discord.channel_id();
        let (id, _) = app
            .create(
                "/files/read",
                json!({"path": "/tmp/invoice\u{202e}gpj.exe", "discordChannelId": channel.to_string()}),
            )
            .await;
        let claimed = app.claim("mac").await;
        assert_eq!(claimed[0].id, id);
        // A Windows program: "MZ", then bytes that are not UTF-8.
        let program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff";
        let mut outcome = success(&STANDARD.encode(program));
        outcome.stdout_encoding = ContentEncoding::Base64;

        app.report(&claimed[0], "mac", &outcome).await;

        let posted = discord
            .wait_for_channel_message(channel, |m| !m.attachments.is_empty())
            .await
            .unwrap();
        let name = &posted.attachments[0].filename;
        assert_eq!(name, "invoice_gpj.exe.bin");
        assert!(!posted.content.contains('\u{202e}'), "{}", posted.content);
        assert_eq!(posted.attachments[0].bytes, program, "the bytes are unchanged");
    })
    .await;
}

#[tokio::test]
async fn a_channel_outside_the_guilds_is_refused_without_a_discord_call() {
    within_discord(async {
        let discord = FakeDiscord::start().await.unwrap();
        let app = TestApp::spawn_with(|config| discord_config(config, &discord)).await;
        // The guild's own channel is accepted once the bot has listed the guild's channels.
        let guild_channel =
            json!({"command": "true", "discordChannelId": discord.channel_id().to_string()});
        discord
            .wait_for_request(|r| r.route == Route::GetGuildChannels)
            .await
            .unwrap();
        let mut accepted = app.post("/tasks", Some(CLIENT), &guild_channel).await;
        for _ in 0..50 {
            if accepted.0 == StatusCode::OK {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            accepted = app.post("/tasks", Some(CLIENT), &guild_channel).await;
        }
        assert_eq!(accepted.0, StatusCode::OK, "{}", accepted.1);

        // A channel id the bot can reach but that is no channel of its guilds.
        let elsewhere = json!({"command": "echo relay", "discordChannelId": "123456789012345678"});
        let answer = app.post("/tasks", Some(CLIENT), &elsewhere).await;

        assert_error(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_field",
            "does not post in",
        );
        let queued = app.claim("mac").await;
        assert_eq!(queued.len(), 1, "only the guild channel's task was queued");
        assert!(discord
            .requests_to(Route::CreateMessage)
            .iter()
            .all(|r| !r.path.contains("123456789012345678")));
    })
    .await;
}
