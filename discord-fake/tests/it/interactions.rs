//! Slash commands end to end: registration, defer, multipart edit, ephemeral reply, attachment
//! options, and expired tokens.

use discord_fake::{CallbackKind, Route, SlashCommand};
use serde_json::json;

use crate::bot::{Outcome, PONG_BYTES};
use crate::helpers::{fake_with_bot, within_timeout};

#[tokio::test]
async fn the_bot_registers_its_commands_in_the_configured_guild() {
    within_timeout(async {
        let (discord, _bot) = fake_with_bot().await;

        let commands = discord.registered_commands();

        let mut names: Vec<_> = commands.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["gated", "ping", "secret", "twice", "upload", "whereami"]
        );
        assert!(commands
            .iter()
            .all(|c| c.guild_id == Some(discord.guild_id())));
        let upload = commands.iter().find(|c| c.name == "upload").unwrap();
        assert_eq!(upload.sent["options"][0]["type"], json!(11));
    })
    .await;
}

#[tokio::test]
async fn a_deferred_command_edits_its_original_response_with_an_attachment() {
    within_timeout(async {
        let (discord, bot) = fake_with_bot().await;

        let ix = discord
            .send_slash_command(SlashCommand::new("ping"))
            .await
            .unwrap();
        let callback = discord.wait_for_callback(&ix).await.unwrap();
        let original = discord.wait_for_original_edit(&ix).await.unwrap();

        assert_eq!(callback.kind, CallbackKind::DeferredMessage);
        assert!(!callback.is_ephemeral());
        assert_eq!(original.content, "pong @everyone");
        assert_eq!(original.attachment("pong.bin").unwrap().bytes, PONG_BYTES);
        let edit = original.sent.last().unwrap();
        assert!(edit.multipart);
        assert_eq!(edit.file("pong.bin").unwrap().field, "files[0]");
        assert_eq!(edit.allowed_mentions().unwrap()["parse"], json!([]));
        assert!(!original.mentions(None).everyone);
        assert_eq!(bot.next_outcome().await, Outcome::Deferred(Ok(())));
        assert_eq!(
            bot.next_outcome().await,
            Outcome::Edited(Ok(vec!["pong.bin".into()]))
        );
    })
    .await;
}

#[tokio::test]
async fn the_request_log_shows_the_defer_before_the_edit() {
    within_timeout(async {
        let (discord, _bot) = fake_with_bot().await;

        let ix = discord
            .send_slash_command(SlashCommand::new("ping"))
            .await
            .unwrap();
        discord.wait_for_original_edit(&ix).await.unwrap();

        let defer = &discord.requests_to(Route::InteractionCallback)[0];
        let edit = &discord.requests_to(Route::EditOriginal)[0];
        assert!(defer.seq < edit.seq);
        assert_eq!(defer.status, Some(204));
        assert_eq!(edit.status, Some(200));
        assert_eq!(
            defer.path,
            format!("/api/v10/interactions/{}/{}/callback", ix.id, ix.token)
        );
        assert!(
            discord.requests_to(Route::Unknown).is_empty(),
            "{:?}",
            discord.requests_to(Route::Unknown)
        );
    })
    .await;
}

#[tokio::test]
async fn an_ephemeral_reply_is_a_type_4_callback_with_flag_64() {
    within_timeout(async {
        let (discord, _bot) = fake_with_bot().await;

        let ix = discord
            .send_slash_command(SlashCommand::new("secret"))
            .await
            .unwrap();
        let callback = discord.wait_for_callback(&ix).await.unwrap();

        assert_eq!(callback.kind, CallbackKind::Message);
        assert!(callback.is_ephemeral());
        assert_eq!(callback.content(), Some("only you"));
        let original = discord.original_response(&ix).unwrap();
        assert!(original.is_ephemeral());
        assert_eq!(original.content, "only you");
    })
    .await;
}

#[tokio::test]
async fn an_attachment_option_is_downloadable_by_the_bot() {
    within_timeout(async {
        let (discord, bot) = fake_with_bot().await;
        let bytes = vec![0xde, 0xad, 0xbe, 0xef, 0];

        let command = SlashCommand::new("upload").attachment("file", "blob.bin", bytes.clone());
        let ix = discord.send_slash_command(command).await.unwrap();
        let callback = discord.wait_for_callback(&ix).await.unwrap();

        assert_eq!(bot.next_outcome().await, Outcome::Downloaded(bytes));
        assert_eq!(callback.content(), Some("blob.bin has 5 bytes"));
    })
    .await;
}

#[tokio::test]
async fn an_expired_token_refuses_the_edit_and_the_channel_message_still_lands() {
    within_timeout(async {
        let (discord, bot) = fake_with_bot().await;
        let user = 4242;

        let ix = discord
            .send_slash_command(SlashCommand::new("gated").user(user))
            .await
            .unwrap();
        discord.wait_for_callback(&ix).await.unwrap();
        assert!(discord.expire_interaction_token(&ix.token));
        bot.open_gate();
        let message = discord
            .wait_for_channel_message(ix.channel_id, |_| true)
            .await
            .unwrap();

        assert_eq!(bot.next_outcome().await, Outcome::Deferred(Ok(())));
        let Outcome::Edited(Err(failure)) = bot.next_outcome().await else {
            panic!("the edit should have failed");
        };
        assert_eq!((failure.status, failure.code), (Some(401), Some(50027)));
        let mentions = message.mentions(None);
        assert_eq!(mentions.users, vec![user]);
        assert!(!mentions.everyone);
        assert!(message.content.contains("@everyone"));
        assert!(matches!(bot.next_outcome().await, Outcome::Posted(Ok(_))));
    })
    .await;
}

#[tokio::test]
async fn the_first_followup_after_a_defer_fills_the_original_response() {
    within_timeout(async {
        let (discord, _bot) = fake_with_bot().await;

        let ix = discord
            .send_slash_command(SlashCommand::new("twice"))
            .await
            .unwrap();
        let followups = discord.wait_for_followups(&ix, 1).await.unwrap();
        let original = discord.original_response(&ix).unwrap();

        assert_eq!(original.content, "first");
        assert!(!original.is_loading());
        assert_eq!(followups.len(), 1);
        assert_eq!(followups[0].content, "second");
        assert_eq!(discord.requests_to(Route::CreateFollowup).len(), 2);
    })
    .await;
}

#[tokio::test]
async fn guild_create_fills_the_bots_cache() {
    within_timeout(async {
        let (discord, bot) = fake_with_bot().await;

        let ix = discord
            .send_slash_command(SlashCommand::new("whereami"))
            .await
            .unwrap();
        discord.wait_for_callback(&ix).await.unwrap();

        assert_eq!(
            bot.next_outcome().await,
            Outcome::Cached(Some(("fake-guild".into(), 1)))
        );
    })
    .await;
}
