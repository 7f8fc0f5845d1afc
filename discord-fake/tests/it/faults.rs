//! Injected failures reach the real client the way Discord's do, so the bot's retry paths can be
//! tested on top of them.

use std::time::Duration;

use discord_fake::{FailMode, FakeDiscord, Route, SlashCommand};

use crate::bot::{Failure, Outcome, TestBot};
use crate::helpers::{fake_with_bot, within_timeout};

#[tokio::test]
async fn an_injected_500_on_the_edit_reaches_the_client_and_a_retry_succeeds() {
    within_timeout(async {
        let (discord, bot) = fake_with_bot().await;
        discord.fail_next(Route::EditOriginal, FailMode::Status(500));

        let ix = discord
            .send_slash_command(SlashCommand::new("ping"))
            .await
            .unwrap();
        let original = discord.wait_for_original_edit(&ix).await.unwrap();

        assert_eq!(bot.next_outcome().await, Outcome::Deferred(Ok(())));
        let failed = Failure {
            status: Some(500),
            code: Some(0),
        };
        assert_eq!(bot.next_outcome().await, Outcome::Edited(Err(failed)));
        assert_eq!(
            bot.next_outcome().await,
            Outcome::Edited(Ok(vec!["pong.bin".into()]))
        );
        let edits = discord.requests_to(Route::EditOriginal);
        assert_eq!(edits.len(), 2);
        assert!(edits[0].fault_injected);
        assert_eq!(edits[0].status, Some(500));
        assert_eq!(edits[1].status, Some(200));
        assert_eq!(
            original.edits, 1,
            "the failed edit must not change the message"
        );
    })
    .await;
}

#[tokio::test]
async fn an_injected_rate_limit_is_a_429_for_the_client() {
    within_timeout(async {
        let (discord, bot) = fake_with_bot().await;
        let retry_after = Duration::from_millis(1500);
        discord.fail_next(Route::EditOriginal, FailMode::RateLimited { retry_after });

        let ix = discord
            .send_slash_command(SlashCommand::new("ping"))
            .await
            .unwrap();
        discord.wait_for_original_edit(&ix).await.unwrap();

        assert_eq!(bot.next_outcome().await, Outcome::Deferred(Ok(())));
        let Outcome::Edited(Err(failure)) = bot.next_outcome().await else {
            panic!("the first edit should have been rate limited");
        };
        assert_eq!(failure.status, Some(429));
        let limited = &discord.requests_to(Route::EditOriginal)[0];
        assert_eq!(limited.status, Some(429));
    })
    .await;
}

#[tokio::test]
async fn a_callback_after_the_deadline_is_an_unknown_interaction() {
    within_timeout(async {
        // A zero deadline makes every callback late without any sleeping.
        let discord = FakeDiscord::builder()
            .ack_deadline(Some(Duration::ZERO))
            .start()
            .await
            .unwrap();
        let bot = TestBot::start(&discord).await;
        discord.wait_for_commands_registered().await.unwrap();

        let ix = discord
            .send_slash_command(SlashCommand::new("ping"))
            .await
            .unwrap();

        let late = Failure {
            status: Some(404),
            code: Some(10062),
        };
        assert_eq!(bot.next_outcome().await, Outcome::Deferred(Err(late)));
        assert!(discord.callback(&ix).is_none());
    })
    .await;
}

#[tokio::test]
async fn faults_on_other_routes_leave_the_edit_alone() {
    within_timeout(async {
        let (discord, bot) = fake_with_bot().await;
        discord.fail_times(Route::CreateMessage, FailMode::Status(503), 3);

        let ix = discord
            .send_slash_command(SlashCommand::new("ping"))
            .await
            .unwrap();
        discord.wait_for_original_edit(&ix).await.unwrap();

        assert_eq!(bot.next_outcome().await, Outcome::Deferred(Ok(())));
        assert_eq!(
            bot.next_outcome().await,
            Outcome::Edited(Ok(vec!["pong.bin".into()]))
        );
        assert!(discord.requests().iter().all(|r| !r.fault_injected));
    })
    .await;
}

#[tokio::test]
async fn a_file_over_the_size_limit_is_refused_with_413() {
    within_timeout(async {
        let discord = FakeDiscord::builder()
            .attachment_size_limit(4)
            .start()
            .await
            .unwrap();
        let bot = TestBot::start(&discord).await;
        discord.wait_for_commands_registered().await.unwrap();

        let ix = discord
            .send_slash_command(SlashCommand::new("ping"))
            .await
            .unwrap();

        assert_eq!(bot.next_outcome().await, Outcome::Deferred(Ok(())));
        let too_large = Failure {
            status: Some(413),
            code: Some(40005),
        };
        assert_eq!(bot.next_outcome().await, Outcome::Edited(Err(too_large)));
        assert!(discord.original_response(&ix).unwrap().is_loading());
    })
    .await;
}
