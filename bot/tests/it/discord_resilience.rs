//! The HTTP API survives Discord's trouble: a gateway that cannot connect. (Discord results
//! surviving the bot's restarts need a worker: the `openclaw-e2e` crate.)

use openclaw_bot::state::DiscordState;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::json;

use crate::discord_support::within_discord;
use crate::helpers::{TestApp, ADMIN, CLIENT};

#[tokio::test]
async fn the_api_keeps_serving_when_the_gateway_cannot_connect() {
    within_discord(async {
        // A port nobody listens on: every Discord request is refused.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let app = TestApp::spawn_with(|config| {
            config.discord.token = Some(SecretString::from("unreachable-bot-token"));
            config.discord.api_base = Some(base);
            config.discord.allowed_user_ids = vec![1];
        })
        .await;

        let (status, created) = app
            .post(
                "/tasks",
                Some(CLIENT),
                &json!({"command": "echo still here"}),
            )
            .await;
        let (_, health) = app.get("/admin/health", Some(ADMIN)).await;

        assert_eq!(status, StatusCode::OK, "{created}");
        assert_ne!(app.state.discord_status().get(), DiscordState::Connected);
        assert_ne!(health["discord"], "connected", "{health}");
        assert_ne!(health["discord"], "disabled", "{health}");
        // And it stops cleanly, backoff and all.
        app.stop().await;
    })
    .await;
}
