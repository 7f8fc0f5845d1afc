//! Test plumbing: a timeout around every test and opt-in logs (`TEST_LOG=1`).

use std::future::Future;
use std::sync::Once;
use std::time::Duration;

use discord_fake::FakeDiscord;

use crate::bot::TestBot;

/// The most any test here may take; the fake's own waits give up sooner, with a clearer message.
const TEST_TIMEOUT: Duration = Duration::from_secs(90);

/// Turns on logs for `TEST_LOG=1 cargo test -p discord-fake`.
fn init_logs() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,discord_fake=debug,serenity=debug".into());
            tracing_subscriber::fmt().with_env_filter(filter).init();
        }
    });
}

/// Runs a test body with logs set up and a hard timeout.
pub async fn within_timeout(body: impl Future<Output = ()>) {
    init_logs();
    tokio::time::timeout(TEST_TIMEOUT, body)
        .await
        .expect("test timed out");
}

/// A started fake with the test bot connected and its commands registered.
pub async fn fake_with_bot() -> (FakeDiscord, TestBot) {
    let discord = FakeDiscord::start().await.expect("starting the fake");
    let bot = TestBot::start(&discord).await;
    discord
        .wait_for_commands_registered()
        .await
        .expect("the test bot registers its commands");
    (discord, bot)
}
