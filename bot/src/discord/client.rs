//! The gateway side: a serenity client with the poise framework, registering the commands on
//! READY and reporting its connection state to `/admin/health`. A client that cannot connect
//! (Discord down, wrong base URL, refused token) is rebuilt after a capped backoff, forever:
//! the HTTP API never depends on it.

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use serenity::{ConnectionStage, FullEvent, GatewayIntents};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::commands::{self, Data};
use super::error::CommandError;
use super::on_error::on_error;
use super::{auth, http_client};
use crate::state::{DiscordState, DiscordStatus};
use crate::telemetry::error_chain;

/// First wait after a failed connection; doubled after each failure in a row.
const RECONNECT_BASE: Duration = Duration::from_secs(1);
/// Longest wait between connection attempts. Discord bans IPs that make too many invalid
/// requests, so a refused token is retried slowly.
const RECONNECT_CAP: Duration = Duration::from_secs(300);
/// Longest wait for the client to close its gateway connection at shutdown.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);
/// A client that ran this long before stopping counts as having worked: the backoff restarts.
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// Slash commands arrive whatever the intents; asking for none keeps the gateway traffic
/// and serenity's cache (memory) minimal.
const INTENTS: GatewayIntents = GatewayIntents::empty();

/// Connects to the gateway and serves commands until `stop` is cancelled, reconnecting with
/// backoff whenever the client stops on its own.
pub async fn run(data: Data, token: String, api_base: Option<String>, stop: CancellationToken) {
    let mut failures: u32 = 0;
    loop {
        data.status.set(DiscordState::Connecting);
        let started = Instant::now();
        let outcome = connect_and_serve(&data, &token, api_base.as_deref(), &stop).await;
        data.status.set(DiscordState::Disconnected);
        match outcome {
            None => break,
            Some(error) => {
                if started.elapsed() >= HEALTHY_RUN {
                    failures = 0;
                }
                let wait = RECONNECT_BASE
                    .saturating_mul(1_u32.checked_shl(failures).unwrap_or(u32::MAX))
                    .min(RECONNECT_CAP);
                failures = failures.saturating_add(1);
                tracing::error!(%error, retry_in_secs = wait.as_secs(), "the Discord client stopped; the HTTP API keeps running");
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = stop.cancelled() => break,
                }
            }
        }
    }
    tracing::info!("Discord client stopped");
}

/// One client's life: `None` when it stopped because `stop` fired, else why it stopped.
async fn connect_and_serve(
    data: &Data,
    token: &str,
    api_base: Option<&str>,
    stop: &CancellationToken,
) -> Option<String> {
    let http = http_client(token, api_base);
    // serenity falls back to the real gateway when this request fails, and then retries a
    // shard that cannot start forever without ever returning from `start`; asking first
    // turns an unreachable Discord (or proxy) into our own backoff.
    if let Err(error) = http.get_gateway().await {
        return Some(format!(
            "asking for the gateway URL: {}",
            error_chain(&error)
        ));
    }
    let framework = framework(data.clone());
    let mut client = match serenity::ClientBuilder::new_with_http(http, INTENTS)
        .framework(framework)
        .await
    {
        Ok(client) => client,
        Err(error) => return Some(format!("building the client: {}", error_chain(&error))),
    };
    let shard_manager = Arc::clone(&client.shard_manager);
    let start = client.start();
    tokio::pin!(start);
    tokio::select! {
        result = &mut start => Some(match result {
            Ok(()) => "the gateway connection ended".to_owned(),
            Err(error) => error_chain(&error),
        }),
        () = stop.cancelled() => {
            // `shutdown_all` only ends `start` when a shard is running; with none (still
            // connecting) `start` would wait forever, so it is dropped instead.
            let running = !shard_manager.runners.lock().await.is_empty();
            shard_manager.shutdown_all().await;
            if running {
                match tokio::time::timeout(SHUTDOWN_WAIT, &mut start).await {
                    Ok(Err(error)) => tracing::debug!(error = %error_chain(&error), "the Discord client ended with an error while stopping"),
                    Ok(Ok(())) => {}
                    Err(_) => tracing::warn!("the Discord client did not stop in time; dropping it"),
                }
            }
            None
        }
    }
}

/// The poise framework: the commands behind the allowed-users check, mentions off by
/// default, our error handler, and command registration on READY.
fn framework(data: Data) -> poise::Framework<Data, CommandError> {
    let options = poise::FrameworkOptions {
        commands: commands::all(&data.settings),
        command_check: Some(auth::check),
        // Never let anyone past the allow list, the application's owner included.
        skip_checks_for_owners: false,
        on_error,
        event_handler: |framework, event| {
            Box::pin(async move {
                track_connection(&framework.user_data.status, event);
                Ok(())
            })
        },
        allowed_mentions: Some(serenity::CreateAllowedMentions::new()),
        ..Default::default()
    };
    poise::Framework::builder()
        .options(options)
        // Owners are not used (the allow list is the only authority): skip the lookup.
        .initialize_owners(false)
        .setup(move |ctx, _ready, framework| {
            Box::pin(async move {
                register(ctx, &framework.options().commands, &data.settings.guild_ids).await;
                data.status.set(DiscordState::Connected);
                tracing::info!("Discord connected; commands ready");
                Ok(data)
            })
        })
        .build()
}

/// Registers the commands in each configured guild (instant), or globally when none is
/// configured. A failure is logged, not fatal: poise would otherwise hold every event.
async fn register(
    ctx: &serenity::Context,
    commands: &[poise::Command<Data, CommandError>],
    guilds: &[serenity::GuildId],
) {
    if guilds.is_empty() {
        match poise::builtins::register_globally(ctx, commands).await {
            Ok(()) => tracing::info!(count = commands.len(), "commands registered globally"),
            Err(error) => {
                tracing::error!(error = %error_chain(&error), "registering the commands globally failed");
            }
        }
    }
    for guild in guilds {
        match poise::builtins::register_in_guild(ctx, commands, *guild).await {
            Ok(()) => {
                tracing::info!(guild_id = %guild, count = commands.len(), "commands registered")
            }
            Err(error) => tracing::error!(
                guild_id = %guild,
                error = %error_chain(&error),
                "registering the commands in a guild failed (is the bot in it?)"
            ),
        }
    }
}

/// Mirrors the gateway connection in the app's health state.
fn track_connection(status: &DiscordStatus, event: &FullEvent) {
    let next = match event {
        FullEvent::Ready { .. } | FullEvent::Resume { .. } => DiscordState::Connected,
        FullEvent::ShardStageUpdate { event } => match event.new {
            ConnectionStage::Connected => DiscordState::Connected,
            ConnectionStage::Disconnected => DiscordState::Disconnected,
            _ => DiscordState::Connecting,
        },
        _ => return,
    };
    status.set(next);
}
