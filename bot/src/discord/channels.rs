//! Keeps the callback-channel allow-list current: lists the configured guilds' channels from
//! Discord at start and every `discord.channel_refresh_secs`. Only configured guilds are ever
//! asked about, so no attacker-chosen id costs a Discord call.

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude::{GuildId, Http};
use tokio_util::sync::CancellationToken;

use crate::intake::CallbackChannels;
use crate::telemetry::error_chain;

/// Wait before listing again after a failure (Discord down, or still connecting).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30);

/// Lists the channels of `guilds` into `channels` until `stop`: at once, then every `every`
/// (sooner after a failure). Does nothing without guilds.
pub async fn keep_loaded(
    http: Arc<Http>,
    guilds: Vec<GuildId>,
    channels: CallbackChannels,
    every: Duration,
    stop: CancellationToken,
) {
    if guilds.is_empty() {
        return;
    }
    loop {
        let wait = match list(&http, &guilds).await {
            Ok(ids) => {
                tracing::debug!(count = ids.len(), "listed the guilds' channels");
                channels.set_guild_channels(ids);
                every
            }
            Err(error) => {
                tracing::warn!(%error, retry_in_secs = RETRY_AFTER_FAILURE.as_secs(), "cannot list the guilds' channels; API tasks naming a channel are checked again before posting");
                RETRY_AFTER_FAILURE.min(every)
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = stop.cancelled() => return,
        }
    }
}

/// Every channel id of every guild, or the first failure.
async fn list(http: &Http, guilds: &[GuildId]) -> Result<Vec<u64>, String> {
    let mut ids = Vec::new();
    for guild in guilds {
        let listed = http
            .get_channels(*guild)
            .await
            .map_err(|error| format!("guild {guild}: {}", error_chain(&error)))?;
        ids.extend(listed.iter().map(|channel| channel.id.get()));
    }
    Ok(ids)
}
