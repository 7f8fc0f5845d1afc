//! Where a task's result goes in Discord, stored in the task's opaque `origin` so the answer
//! can find its way back after a bot restart: the interaction to edit, or a channel to post
//! in. Built by [`super::check`] (both adapters' requests) and read by Discord delivery.

use std::fmt;
use std::num::NonZeroU64;
use std::time::Duration;

use openclaw_shared::EpochMillis;
use poise::serenity_prelude::{ApplicationId, ChannelId, GuildId, InteractionId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The key under which a slash command's interaction is stored in a task's origin.
const INTERACTION_KEY: &str = "discord_interaction";
/// The key under which another platform's channel key is stored (never sent to Discord).
const CHANNEL_KEY_KEY: &str = "channel_key";
/// The key under which "post the result in this channel" is stored.
const CHANNEL_KEY: &str = "discord_channel_id";

/// Where a task's result goes in Discord.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A slash command: edit its original response (or, once its token has died, post in
    /// its channel and mention the user).
    Interaction(InteractionOrigin),
    /// A task submitted over the HTTP API that named a channel: post the result there.
    Channel(ChannelId),
}

impl Origin {
    /// Post the result in this channel (a task from the API that named one).
    pub fn channel(id: NonZeroU64) -> Origin {
        Origin::Channel(ChannelId::from(id))
    }

    /// The origin as a task stores it: `{"discord_interaction": {…}}` or
    /// `{"discord_channel_id": "<id>"}`, snowflakes as strings.
    pub fn to_value(&self) -> Value {
        let (key, inner) = match self {
            // Serializing ids, strings and a number cannot fail.
            Origin::Interaction(interaction) => (
                INTERACTION_KEY,
                serde_json::to_value(interaction).unwrap_or(Value::Null),
            ),
            Origin::Channel(channel) => (CHANNEL_KEY, Value::String(channel.to_string())),
        };
        let mut origin = serde_json::Map::new();
        origin.insert(key.to_owned(), inner);
        Value::Object(origin)
    }

    /// Reads a task's origin. `None` when the origin is absent, is not Discord's, or does
    /// not parse (a malformed channel id from an old row must not stop delivery of others).
    pub fn from_value(value: &Value) -> Option<Origin> {
        if let Some(interaction) = value.get(INTERACTION_KEY) {
            return serde_json::from_value(interaction.clone())
                .ok()
                .map(Origin::Interaction);
        }
        value
            .get(CHANNEL_KEY)
            .and_then(|id| serde_json::from_value::<ChannelId>(id.clone()).ok())
            .map(Origin::Channel)
    }

    /// The channel the result lands in when it cannot (or should not) edit an interaction.
    pub fn channel_id(&self) -> ChannelId {
        match self {
            Origin::Interaction(interaction) => interaction.channel_id,
            Origin::Channel(channel) => *channel,
        }
    }
}

/// The stored origin of a task whose client named another platform's channel: kept for that
/// client (`{"channel_key": "…"}`); Discord delivery does not read it.
pub fn channel_key_value(key: &str) -> Value {
    let mut origin = serde_json::Map::new();
    origin.insert(CHANNEL_KEY_KEY.to_owned(), Value::String(key.to_owned()));
    Value::Object(origin)
}

/// A slash command invocation, with everything needed to answer it later. Snowflakes are
/// stored as strings (serenity's serde form), so JSON readers without 64-bit integers see
/// them intact.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionOrigin {
    /// The application the interaction was sent to; webhook edits are addressed by it.
    pub application_id: ApplicationId,
    /// The interaction itself (for logs; the token is what authorizes edits).
    pub interaction_id: InteractionId,
    /// The interaction token: authorizes editing the original response for 15 minutes.
    /// Kept out of `Debug` output and logs.
    pub token: String,
    /// Where the command was used; the fallback message goes there.
    pub channel_id: ChannelId,
    /// The guild, or `None` in a DM.
    pub guild_id: Option<GuildId>,
    /// Who used it; mentioned by a fallback message.
    pub user_id: UserId,
    /// The command's name, e.g. `run`.
    pub command: String,
    /// When the bot received the interaction; the token's age is counted from here.
    pub received_at: EpochMillis,
}

impl InteractionOrigin {
    /// Whether the interaction token is still young enough to edit the original response.
    /// Discord kills tokens after 15 minutes; `ttl` is configured a little shorter so an edit
    /// never races the deadline.
    pub fn token_is_fresh(&self, now: EpochMillis, ttl: Duration) -> bool {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        now.saturating_sub(self.received_at) < ttl_ms
    }
}

impl fmt::Debug for InteractionOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InteractionOrigin")
            .field("application_id", &self.application_id)
            .field("interaction_id", &self.interaction_id)
            .field("token", &"[redacted]")
            .field("channel_id", &self.channel_id)
            .field("guild_id", &self.guild_id)
            .field("user_id", &self.user_id)
            .field("command", &self.command)
            .field("received_at", &self.received_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn interaction() -> InteractionOrigin {
        InteractionOrigin {
            application_id: ApplicationId::new(11),
            interaction_id: InteractionId::new(22),
            token: "tok".into(),
            channel_id: ChannelId::new(33),
            guild_id: Some(GuildId::new(44)),
            user_id: UserId::new(55),
            command: "run".into(),
            received_at: 1_000,
        }
    }

    #[test]
    fn an_interaction_origin_round_trips_with_string_snowflakes() {
        let origin = interaction();

        let value = Origin::Interaction(origin.clone()).to_value();

        assert_eq!(value["discord_interaction"]["channel_id"], json!("33"));
        assert_eq!(
            Origin::from_value(&value),
            Some(Origin::Interaction(origin))
        );
    }

    #[test]
    fn the_http_api_channel_origin_is_understood() {
        let value = json!({"discord_channel_id": "123456789012345678"});

        let origin = Origin::from_value(&value).unwrap();

        assert_eq!(
            origin,
            Origin::Channel(ChannelId::new(123_456_789_012_345_678))
        );
        assert_eq!(origin.channel_id().get(), 123_456_789_012_345_678);
    }

    #[test]
    fn a_channel_origin_is_stored_as_the_api_always_stored_it() {
        let origin = Origin::channel(NonZeroU64::new(123_456_789_012_345_678).unwrap());

        let value = origin.to_value();

        assert_eq!(value, json!({"discord_channel_id": "123456789012345678"}));
        assert_eq!(Origin::from_value(&value), Some(origin));
    }

    #[test]
    fn foreign_or_malformed_origins_are_ignored_without_panicking() {
        for value in [
            json!({}),
            json!({"discord_channel_id": "0"}),
            json!({"discord_channel_id": "general"}),
            json!({"discord_interaction": {"token": "t"}}),
            json!("text"),
        ] {
            assert_eq!(Origin::from_value(&value), None, "{value}");
        }
    }

    #[test]
    fn a_token_is_fresh_only_within_its_ttl() {
        let origin = interaction();
        let ttl = Duration::from_secs(60);

        assert!(origin.token_is_fresh(1_000, ttl));
        assert!(origin.token_is_fresh(60_999, ttl));
        assert!(!origin.token_is_fresh(61_000, ttl));
        // A clock that went backwards does not make an old token look dead.
        assert!(origin.token_is_fresh(0, ttl));
    }

    #[test]
    fn debug_output_hides_the_token() {
        let text = format!("{:?}", interaction());

        assert!(!text.contains("tok\""), "{text}");
        assert!(text.contains("[redacted]"));
    }
}
