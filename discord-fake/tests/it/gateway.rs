//! Gateway and REST basics as the real client experiences them: identify, intents, restarts,
//! bad tokens and unknown routes.

use discord_fake::{FakeDiscord, Route, SlashCommand};
use poise::serenity_prelude as serenity;

use crate::bot::{Failure, Outcome, TestBot};
use crate::helpers::{fake_with_bot, within_timeout};

#[tokio::test]
async fn the_bot_identifies_with_non_privileged_intents() {
    within_timeout(async {
        let (discord, _bot) = fake_with_bot().await;

        let identify = discord.wait_for_ready().await.unwrap();

        assert_eq!(
            identify.intents,
            serenity::GatewayIntents::non_privileged().bits()
        );
        assert_eq!(discord.identifies().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_restarted_bot_gets_the_next_interaction() {
    within_timeout(async {
        let (discord, first) = fake_with_bot().await;
        first.stop().await.unwrap();

        let second = TestBot::start(&discord).await;
        // Until the second IDENTIFY, the fake may still list the first client's session.
        discord.wait_for_identifies(2).await.unwrap();
        let ix = discord
            .send_slash_command(SlashCommand::new("ping"))
            .await
            .unwrap();
        discord.wait_for_original_edit(&ix).await.unwrap();

        assert_eq!(discord.identifies().len(), 2);
        assert_eq!(second.next_outcome().await, Outcome::Deferred(Ok(())));
    })
    .await;
}

#[tokio::test]
async fn a_wrong_token_is_refused_by_the_gateway_and_rest() {
    within_timeout(async {
        let discord = FakeDiscord::start().await.unwrap();
        let http = serenity::HttpBuilder::new("wrong-token")
            .proxy(discord.base_url())
            .ratelimiter_disabled(true)
            .build();

        let rest = http.get_current_user().await.unwrap_err();
        let bot = TestBot::start_with_token(&discord, "wrong-token")
            .await
            .unwrap();
        let gateway = bot.stopped().await;

        assert_eq!(
            Failure::from_error(&rest),
            Failure {
                status: Some(401),
                code: Some(0)
            }
        );
        assert!(
            matches!(
                gateway,
                Err(serenity::Error::Gateway(
                    serenity::GatewayError::InvalidAuthentication
                ))
            ),
            "{gateway:?}"
        );
        assert!(discord.identifies().is_empty());
    })
    .await;
}

#[tokio::test]
async fn an_unknown_route_is_a_logged_discord_404() {
    within_timeout(async {
        let discord = FakeDiscord::start().await.unwrap();
        let http = serenity::HttpBuilder::new(discord.token())
            .proxy(discord.base_url())
            .ratelimiter_disabled(true)
            .build();

        let err = http
            .get_guild(serenity::GuildId::new(discord.guild_id()))
            .await
            .unwrap_err();

        assert_eq!(
            Failure::from_error(&err),
            Failure {
                status: Some(404),
                code: Some(0)
            }
        );
        let unknown = discord.requests_to(Route::Unknown);
        assert_eq!(
            unknown[0].path,
            format!("/api/v10/guilds/{}", discord.guild_id())
        );
        assert_eq!(unknown[0].method, "GET");
    })
    .await;
}

#[tokio::test]
async fn a_message_to_an_unknown_channel_is_refused() {
    within_timeout(async {
        let discord = FakeDiscord::start().await.unwrap();
        let http = serenity::HttpBuilder::new(discord.token())
            .proxy(discord.base_url())
            .ratelimiter_disabled(true)
            .build();

        let unknown = serenity::ChannelId::new(1)
            .say(&http, "hello")
            .await
            .unwrap_err();
        let known = serenity::ChannelId::new(discord.channel_id())
            .say(&http, "hello")
            .await
            .unwrap();

        assert_eq!(
            Failure::from_error(&unknown),
            Failure {
                status: Some(404),
                code: Some(10003)
            }
        );
        assert_eq!(known.content, "hello");
        assert_eq!(discord.channel_messages(discord.channel_id()).len(), 1);
        assert!(discord.channel_messages(1).is_empty());
    })
    .await;
}
