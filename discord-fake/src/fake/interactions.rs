//! Slash commands injected into the bot, and what it answered to each: the callback, the
//! original response and its edits, the follow-ups.

use std::time::Instant;

use super::FakeDiscord;
use crate::error::FakeError;
use crate::ids::{interaction_token, next_snowflake};
use crate::interaction::{Interaction, InteractionCallback, OptionValue, Place, SlashCommand};
use crate::message::{StoredAttachment, StoredMessage};
use crate::model;
use crate::recorder::{InteractionRecord, Outbound, State};

impl FakeDiscord {
    /// Sends an `INTERACTION_CREATE` for a slash command to the newest gateway session (waiting
    /// for one), and returns the interaction to pass to the `wait_for_*` helpers. The
    /// acknowledgement deadline starts now.
    pub async fn send_slash_command(
        &self,
        command: SlashCommand,
    ) -> Result<Interaction, FakeError> {
        self.wait_for_ready().await?;
        let shared = &self.shared;
        let id = next_snowflake();
        let place = command.place.unwrap_or(Place::Guild {
            guild_id: self.guild_id(),
            channel_id: self.channel_id(),
        });
        let (guild_id, channel_id) = match place {
            Place::Guild {
                guild_id,
                channel_id,
            } => (Some(guild_id), channel_id),
            Place::Dm { channel_id } => (None, channel_id),
        };
        let user_id = command.user_id.unwrap_or(shared.config.owner_id);
        let attachments: Vec<StoredAttachment> = command
            .options
            .iter()
            .filter_map(|(_, value)| match value {
                OptionValue::Attachment {
                    filename,
                    content_type,
                    bytes,
                } => Some(StoredAttachment {
                    id: next_snowflake(),
                    filename: filename.clone(),
                    content_type: content_type.clone(),
                    description: None,
                    bytes: bytes.clone(),
                }),
                _ => None,
            })
            .collect();
        let event = "INTERACTION_CREATE";
        shared.recorder.update(|state| {
            let command_id = registered_id(state, &command.name, guild_id);
            let interaction = Interaction {
                id,
                token: interaction_token(id),
                application_id: shared.config.application_id,
                command: command.name.clone(),
                user_id,
                channel_id,
                guild_id,
                sent_at: Instant::now(),
            };
            let data = model::interaction(
                &interaction,
                command_id,
                &command,
                &attachments,
                model::user(user_id, &format!("user-{user_id}"), false),
                &shared.base_url,
                shared.config.attachment_size_limit,
            );
            let session = state
                .sessions
                .last()
                .ok_or_else(|| FakeError::NoGatewaySession {
                    event: event.to_owned(),
                })?;
            session
                .tx
                .send(Outbound {
                    event: event.to_owned(),
                    data,
                })
                .map_err(|_| FakeError::NoGatewaySession {
                    event: event.to_owned(),
                })?;
            state
                .hosted
                .extend(attachments.iter().map(|a| (a.id, a.clone())));
            state.interactions.push(InteractionRecord {
                interaction: interaction.clone(),
                callback: None,
                original: None,
                followups: Vec::new(),
                token_expired: false,
            });
            Ok(interaction)
        })
    }

    /// The bot's accepted answer to the interaction, if it has answered.
    pub fn callback(&self, ix: &Interaction) -> Option<InteractionCallback> {
        self.record(ix, |r| r.callback.clone()).flatten()
    }

    /// Waits for the bot's answer to the interaction (defer or reply).
    pub async fn wait_for_callback(
        &self,
        ix: &Interaction,
    ) -> Result<InteractionCallback, FakeError> {
        let what = format!("the callback to interaction {} (/{})", ix.id, ix.command);
        self.wait(&what, |s| {
            s.interaction(ix.id).and_then(|r| r.callback.clone())
        })
        .await
    }

    /// The original response in its current state, if the bot has answered.
    pub fn original_response(&self, ix: &Interaction) -> Option<StoredMessage> {
        self.record(ix, |r| r.original.clone()).flatten()
    }

    /// Waits until the original response satisfies `condition`; returns it.
    pub async fn wait_for_original(
        &self,
        ix: &Interaction,
        mut condition: impl FnMut(&StoredMessage) -> bool,
    ) -> Result<StoredMessage, FakeError> {
        let what = format!(
            "the original response of /{} to match the test's condition",
            ix.command
        );
        self.wait(&what, |s| {
            s.interaction(ix.id)
                .and_then(|r| r.original.as_ref())
                .filter(|m| condition(m))
                .cloned()
        })
        .await
    }

    /// Waits until the original response has been edited (PATCH, or a follow-up filling a
    /// deferred response) at least `count` times; returns it.
    pub async fn wait_for_original_edits(
        &self,
        ix: &Interaction,
        count: u32,
    ) -> Result<StoredMessage, FakeError> {
        self.wait_for_original(ix, |m| m.edits >= count).await
    }

    /// Waits for the first edit of the original response; returns it.
    pub async fn wait_for_original_edit(
        &self,
        ix: &Interaction,
    ) -> Result<StoredMessage, FakeError> {
        self.wait_for_original_edits(ix, 1).await
    }

    /// The follow-up messages of the interaction (not counting one that filled a deferred
    /// response: that one is the original response).
    pub fn followups(&self, ix: &Interaction) -> Vec<StoredMessage> {
        self.record(ix, |r| r.followups.clone()).unwrap_or_default()
    }

    /// Waits until the interaction has at least `count` follow-ups; returns them.
    pub async fn wait_for_followups(
        &self,
        ix: &Interaction,
        count: usize,
    ) -> Result<Vec<StoredMessage>, FakeError> {
        let what = format!("{count} follow-up(s) to /{}", ix.command);
        self.wait(&what, |s| {
            s.interaction(ix.id)
                .filter(|r| r.followups.len() >= count)
                .map(|r| r.followups.clone())
        })
        .await
    }

    /// Reads one interaction's record.
    fn record<T>(&self, ix: &Interaction, f: impl FnOnce(&InteractionRecord) -> T) -> Option<T> {
        self.shared.recorder.read(|s| s.interaction(ix.id).map(f))
    }
}

/// The id of the registered command with this name, preferring the guild's own registration.
fn registered_id(state: &State, name: &str, guild_id: Option<u64>) -> u64 {
    let in_scope = |scope: Option<u64>| {
        state
            .commands
            .iter()
            .find(|c| c.name == name && c.guild_id == scope)
            .map(|c| c.id)
    };
    guild_id
        .and_then(|g| in_scope(Some(g)))
        .or_else(|| in_scope(None))
        .unwrap_or_else(|| {
            // Discord would not deliver it; the fake does, so a test can probe the bot's handling.
            tracing::warn!(
                command = name,
                "injecting a slash command the bot never registered"
            );
            next_snowflake()
        })
}
