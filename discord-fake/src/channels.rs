//! Channel messages (`POST /channels/{id}/messages`), a guild's channel list
//! (`GET /guilds/{id}/channels`) and the fake's attachment CDN.

use axum::http::StatusCode;

use crate::message::{MessageOrigin, Payload, StoredMessage};
use crate::model;
use crate::reply::{bytes_response, code, ok, RestError, RestResult};
use crate::Shared;

/// Posts a message in a configured guild channel or a DM channel an interaction came from.
pub(crate) fn create_message(shared: &Shared, channel_id: u64, payload: Payload) -> RestResult {
    let limit = shared.config.attachment_size_limit as usize;
    let guild_id = shared.config.guild_of_channel(channel_id);
    shared.recorder.update(|state| {
        let is_dm = state
            .interactions
            .iter()
            .any(|r| r.interaction.guild_id.is_none() && r.interaction.channel_id == channel_id);
        if guild_id.is_none() && !is_dm {
            return Err(RestError::new(
                StatusCode::NOT_FOUND,
                code::UNKNOWN_CHANNEL,
                "Unknown Channel",
            ));
        }
        let mut message = StoredMessage::new(channel_id, guild_id, MessageOrigin::Channel);
        message.create(payload, limit)?;
        let answer = shared.message_json(&message);
        state.channel_messages.push(message);
        ok(answer)
    })
}

/// Lists a configured guild's text channels; any other guild is Discord's 403 Missing Access.
pub(crate) fn guild_channels(shared: &Shared, guild_id: u64) -> RestResult {
    let guild = shared
        .config
        .guilds
        .iter()
        .find(|guild| guild.id == guild_id)
        .ok_or_else(|| {
            RestError::new(
                StatusCode::FORBIDDEN,
                code::MISSING_ACCESS,
                "Missing Access",
            )
        })?;
    ok(serde_json::Value::Array(model::guild_channels(
        guild_id,
        &guild.channel_ids,
    )))
}

/// Serves an attachment's bytes, as Discord's CDN does at the attachment's `url`.
pub(crate) fn download(shared: &Shared, attachment_id: u64) -> RestResult {
    shared.recorder.read(|state| {
        let attachment = state
            .attachment(attachment_id)
            .ok_or_else(RestError::not_found)?;
        let content_type = attachment
            .content_type
            .as_deref()
            .unwrap_or("application/octet-stream");
        Ok(bytes_response(content_type, attachment.bytes.clone()))
    })
}
