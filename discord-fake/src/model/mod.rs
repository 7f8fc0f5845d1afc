//! JSON builders for the Discord objects the fake sends. Each carries every field serenity 0.12
//! requires to deserialize it (checked by this file's tests against serenity's own models); a
//! missing field would make serenity drop the event silently.

use std::time::SystemTime;

use serde_json::{json, Value};

use crate::ids::iso8601;
use crate::interaction::{Interaction, OptionValue, SlashCommand};
use crate::message::{MessageOrigin, StoredAttachment, StoredMessage};

/// Permissions the fake grants everyone (ADMINISTRATOR), so permission checks never get in the
/// way of a test that is not about Discord permissions.
const ALL_PERMISSIONS: &str = "8";

/// A user object.
pub(crate) fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({
        "id": id.to_string(),
        "username": name,
        "global_name": name,
        "discriminator": "0",
        "avatar": null,
        "bot": bot,
        "public_flags": 0,
    })
}

/// A guild member object wrapping `user`.
fn member(user: Value, joined: SystemTime) -> Value {
    json!({
        "user": user,
        "nick": null,
        "roles": [],
        "joined_at": iso8601(joined),
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "permissions": ALL_PERMISSIONS,
    })
}

/// `GET /gateway` (and `/gateway/bot`, which adds sharding hints).
pub(crate) fn gateway(ws_url: &str) -> Value {
    json!({
        "url": ws_url,
        "shards": 1,
        "session_start_limit": {
            "total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1,
        },
    })
}

/// `GET /oauth2/applications/@me`: the application, owned by `owner`.
pub(crate) fn application(application_id: u64, bot: &Value, owner: &Value) -> Value {
    json!({
        "id": application_id.to_string(),
        "name": "fake-app",
        "icon": null,
        "description": "",
        "rpc_origins": [],
        "bot_public": false,
        "bot_require_code_grant": false,
        "bot": bot,
        "owner": owner,
        "verify_key": "0000000000000000000000000000000000000000000000000000000000000000",
        "team": null,
        "flags": 0,
    })
}

/// The `READY` dispatch payload.
pub(crate) fn ready(
    bot: &Value,
    guild_ids: &[u64],
    session_id: &str,
    resume_url: &str,
    application_id: u64,
) -> Value {
    let guilds: Vec<Value> = guild_ids
        .iter()
        .map(|id| json!({"id": id.to_string(), "unavailable": true}))
        .collect();
    json!({
        "v": 10,
        "user": bot,
        "guilds": guilds,
        "session_id": session_id,
        "resume_gateway_url": resume_url,
        "shard": [0, 1],
        "application": {"id": application_id.to_string(), "flags": 0},
    })
}

/// A guild's text channels, as `GET /guilds/{id}/channels` and `GUILD_CREATE` show them.
pub(crate) fn guild_channels(guild_id: u64, channel_ids: &[u64]) -> Vec<Value> {
    channel_ids
        .iter()
        .enumerate()
        .map(|(position, id)| {
            json!({
                "id": id.to_string(),
                "type": 0,
                "guild_id": guild_id.to_string(),
                "name": format!("channel-{position}"),
                "position": position,
                "permission_overwrites": [],
                "nsfw": false,
                "topic": null,
                "last_message_id": null,
                "parent_id": null,
                "rate_limit_per_user": 0,
            })
        })
        .collect()
}

/// The `GUILD_CREATE` dispatch payload: a small guild with text channels and the bot as member.
pub(crate) fn guild_create(
    guild_id: u64,
    name: &str,
    channel_ids: &[u64],
    bot: &Value,
    owner_id: u64,
    joined: SystemTime,
) -> Value {
    let channels = guild_channels(guild_id, channel_ids);
    let mut guild = json!({
        "id": guild_id.to_string(),
        "name": name,
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": owner_id.to_string(),
        "afk_channel_id": null,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 1,
        "explicit_content_filter": 0,
        "roles": [{
            "id": guild_id.to_string(),
            "name": "@everyone",
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
            "hoist": false,
            "icon": null,
            "unicode_emoji": null,
            "position": 0,
            "permissions": "1071698660929",
            "managed": false,
            "mentionable": false,
            "flags": 0,
        }],
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": null,
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
    });
    // Two literals: one would exceed `json!`'s macro recursion limit.
    let state = json!({
        "public_updates_channel_id": null,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
        "joined_at": iso8601(joined),
        "large": false,
        "unavailable": false,
        "member_count": 2,
        "voice_states": [],
        "members": [member(bot.clone(), joined)],
        "channels": channels,
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
    });
    if let (Value::Object(guild), Value::Object(state)) = (&mut guild, state) {
        guild.extend(state);
    }
    guild
}

/// A registered command as Discord echoes it after a bulk overwrite: what the bot sent plus the
/// ids and defaults Discord fills in.
pub(crate) fn command(sent: &Value, id: u64, application_id: u64, guild_id: Option<u64>) -> Value {
    let mut echoed = match sent {
        Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    echoed.insert("id".into(), json!(id.to_string()));
    echoed.insert("application_id".into(), json!(application_id.to_string()));
    echoed.insert("version".into(), json!(id.to_string()));
    echoed.insert("guild_id".into(), json!(guild_id.map(|g| g.to_string())));
    for (key, default) in [
        ("type", json!(1)),
        ("description", json!("")),
        ("options", json!([])),
        ("default_member_permissions", Value::Null),
        ("nsfw", json!(false)),
        // Discord answers the default (guild install) where the bot sent null.
        ("integration_types", json!([0])),
    ] {
        if echoed.get(key).is_none_or(Value::is_null) {
            echoed.insert(key.into(), default);
        }
    }
    Value::Object(echoed)
}

/// Where the fake serves an attachment's bytes (its CDN URL).
pub(crate) fn attachment_url(
    base_url: &str,
    channel_id: u64,
    attachment: &StoredAttachment,
) -> String {
    format!(
        "{base_url}/attachments/{channel_id}/{}/{}",
        attachment.id,
        percent_encode(&attachment.filename)
    )
}

/// An attachment object.
pub(crate) fn attachment(base_url: &str, channel_id: u64, a: &StoredAttachment) -> Value {
    let url = attachment_url(base_url, channel_id, a);
    json!({
        "id": a.id.to_string(),
        "filename": a.filename,
        "description": a.description,
        "content_type": a.content_type,
        "size": a.bytes.len(),
        "url": url,
        "proxy_url": url,
    })
}

/// A message object as Discord returns it from create/edit/get.
pub(crate) fn message(
    m: &StoredMessage,
    author: &Value,
    application_id: u64,
    base_url: &str,
) -> Value {
    let mentions = m.mentions(None);
    let (kind, webhook_id) = match m.origin {
        MessageOrigin::Channel if m.message_reference.is_some() => (19, None),
        MessageOrigin::Channel => (0, None),
        MessageOrigin::InteractionResponse => (20, Some(application_id.to_string())),
        MessageOrigin::Followup => (0, Some(application_id.to_string())),
    };
    let mentioned_users: Vec<Value> = mentions
        .users
        .iter()
        .map(|id| user(*id, &format!("user-{id}"), false))
        .collect();
    let attachments: Vec<Value> = m
        .attachments
        .iter()
        .map(|a| attachment(base_url, m.channel_id, a))
        .collect();
    json!({
        "id": m.id.to_string(),
        "channel_id": m.channel_id.to_string(),
        "guild_id": m.guild_id.map(|g| g.to_string()),
        "author": author,
        "content": m.content,
        "timestamp": iso8601(m.created_wall),
        "edited_timestamp": m.edited_wall.map(iso8601),
        "tts": false,
        "mention_everyone": mentions.everyone,
        "mentions": mentioned_users,
        "mention_roles": mentions.roles.iter().map(u64::to_string).collect::<Vec<_>>(),
        "attachments": attachments,
        "embeds": m.embeds,
        "pinned": false,
        "type": kind,
        "flags": m.flags,
        "webhook_id": webhook_id,
        "application_id": webhook_id.as_ref().map(|_| application_id.to_string()),
        "message_reference": m.message_reference,
        "components": [],
    })
}

/// The `INTERACTION_CREATE` payload of a chat-input command. `attachments` are the stored
/// attachments for the command's attachment options, in option order.
pub(crate) fn interaction(
    ix: &Interaction,
    command_id: u64,
    command: &SlashCommand,
    attachments: &[StoredAttachment],
    invoker: Value,
    base_url: &str,
    attachment_size_limit: u32,
) -> Value {
    let mut next_attachment = attachments.iter();
    let mut resolved = serde_json::Map::new();
    let options: Vec<Value> = command
        .options
        .iter()
        .map(|(name, value)| match value {
            OptionValue::String(s) => json!({"name": name, "type": 3, "value": s}),
            OptionValue::Integer(i) => json!({"name": name, "type": 4, "value": i}),
            OptionValue::Boolean(b) => json!({"name": name, "type": 5, "value": b}),
            OptionValue::Number(n) => json!({"name": name, "type": 10, "value": n}),
            OptionValue::Attachment { .. } => match next_attachment.next() {
                Some(a) => {
                    resolved.insert(a.id.to_string(), attachment(base_url, ix.channel_id, a));
                    json!({"name": name, "type": 11, "value": a.id.to_string()})
                }
                None => json!({"name": name, "type": 11, "value": "0"}),
            },
        })
        .collect();
    // A subcommand's options are nested in one option of type 1 (SUB_COMMAND).
    let options = match command.subcommand.as_deref() {
        Some(sub) => vec![json!({"name": sub, "type": 1, "options": options})],
        None => options,
    };
    let mut data = json!({
        "id": command_id.to_string(),
        "name": ix.command,
        "type": 1,
        "options": options,
    });
    if !resolved.is_empty() {
        data["resolved"] = json!({ "attachments": resolved });
    }
    let mut payload = json!({
        "id": ix.id.to_string(),
        "application_id": ix.application_id.to_string(),
        "type": 2,
        "data": data,
        "channel_id": ix.channel_id.to_string(),
        "token": ix.token,
        "version": 1,
        "app_permissions": ALL_PERMISSIONS,
        "locale": "en-US",
        "entitlements": [],
        "attachment_size_limit": attachment_size_limit,
    });
    match ix.guild_id {
        Some(guild_id) => {
            payload["guild_id"] = json!(guild_id.to_string());
            payload["guild_locale"] = json!("en-US");
            payload["member"] = member(invoker, SystemTime::now());
            payload["channel"] =
                json!({"id": ix.channel_id.to_string(), "type": 0, "name": "channel"});
            payload["context"] = json!(0);
        }
        None => {
            payload["user"] = invoker;
            payload["channel"] = json!({"id": ix.channel_id.to_string(), "type": 1});
            payload["context"] = json!(1);
        }
    }
    payload
}

/// A Discord error body: `{"message", "code"}`.
pub(crate) fn error(code: u32, message: &str) -> Value {
    json!({"message": message, "code": code})
}

/// Percent-encodes a file name for use as one URL path segment.
fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
