//! Interaction endpoints: the callback (`POST /interactions/{id}/{token}/callback`), the original
//! response (`/webhooks/{app}/{token}/messages/@original`) and follow-ups, with Discord's rules
//! for late, repeated and expired answers.

use std::time::Instant;

use axum::http::{Method, StatusCode};
use serde_json::Value;

use crate::interaction::{CallbackKind, InteractionCallback};
use crate::message::{MessageOrigin, Payload, StoredMessage, FLAG_EPHEMERAL, FLAG_LOADING};
use crate::recorder::InteractionRecord;
use crate::reply::{check_application, code, no_content, ok, RestError, RestResult};
use crate::Shared;

/// Discord's answer to a callback for an unknown, late or expired interaction.
fn unknown_interaction() -> RestError {
    RestError::new(
        StatusCode::NOT_FOUND,
        code::UNKNOWN_INTERACTION,
        "Unknown interaction",
    )
}

/// Discord's answer to a webhook call with a bad or expired interaction token.
fn invalid_token() -> RestError {
    RestError::new(
        StatusCode::UNAUTHORIZED,
        code::INVALID_WEBHOOK_TOKEN,
        "Invalid Webhook Token",
    )
}

/// Discord's answer when the message to read or edit does not exist.
fn unknown_message() -> RestError {
    RestError::new(
        StatusCode::NOT_FOUND,
        code::UNKNOWN_MESSAGE,
        "Unknown Message",
    )
}

/// Records the bot's answer to an interaction; only the first one within the deadline counts.
pub(crate) fn callback(
    shared: &Shared,
    interaction_id: u64,
    token: &str,
    payload: Payload,
) -> RestResult {
    let deadline = shared.config.ack_deadline;
    let limit = shared.config.attachment_size_limit as usize;
    shared.recorder.update(|state| {
        let record = state
            .interactions
            .iter_mut()
            .find(|r| r.interaction.id == interaction_id)
            .ok_or_else(unknown_interaction)?;
        if record.interaction.token != token {
            return Err(invalid_token());
        }
        if record.token_expired {
            return Err(unknown_interaction());
        }
        if record.callback.is_some() {
            return Err(RestError::new(
                StatusCode::BAD_REQUEST,
                code::ALREADY_ACKNOWLEDGED,
                "Interaction has already been acknowledged.",
            ));
        }
        if deadline.is_some_and(|d| record.interaction.sent_at.elapsed() > d) {
            tracing::warn!(
                interaction_id,
                "callback arrived after the acknowledgement deadline"
            );
            return Err(unknown_interaction());
        }
        let kind = payload
            .json
            .get("type")
            .and_then(Value::as_u64)
            .map(CallbackKind::from_wire)
            .ok_or_else(|| {
                RestError::new(
                    StatusCode::BAD_REQUEST,
                    code::INVALID_FORM_BODY,
                    "Invalid Form Body",
                )
            })?;
        let data = payload.json.get("data").cloned().unwrap_or(Value::Null);
        let ix = &record.interaction;
        match kind {
            CallbackKind::Message => {
                let mut message = StoredMessage::new(
                    ix.channel_id,
                    ix.guild_id,
                    MessageOrigin::InteractionResponse,
                );
                let initial = Payload {
                    json: data,
                    files: payload.files.clone(),
                    multipart: payload.multipart,
                };
                message.create(initial, limit)?;
                record.original = Some(message);
            }
            CallbackKind::DeferredMessage => {
                let mut message = StoredMessage::new(
                    ix.channel_id,
                    ix.guild_id,
                    MessageOrigin::InteractionResponse,
                );
                let requested = data.get("flags").and_then(Value::as_u64).unwrap_or(0);
                message.flags = FLAG_LOADING | (requested & FLAG_EPHEMERAL);
                record.original = Some(message);
            }
            _ => {}
        }
        record.callback = Some(InteractionCallback {
            kind,
            payload,
            at: Instant::now(),
        });
        Ok(())
    })?;
    no_content()
}

/// `GET`, `PATCH` or `DELETE` the original response.
pub(crate) fn original(
    shared: &Shared,
    application_id: u64,
    token: &str,
    method: &Method,
    payload: Payload,
) -> RestResult {
    let limit = shared.config.attachment_size_limit as usize;
    with_token(shared, application_id, token, |record| {
        if *method == Method::DELETE {
            return match record.original.take() {
                Some(_) => no_content(),
                None => Err(unknown_message()),
            };
        }
        let message = record.original.as_mut().ok_or_else(unknown_message)?;
        if *method == Method::PATCH {
            message.edit(payload, limit)?;
        }
        ok(shared.message_json(message))
    })
}

/// `POST /webhooks/{app}/{token}`: a follow-up message. Right after a deferred (type 5) callback,
/// Discord treats it as an edit of the loading message, keeping the defer's ephemeral flag
/// (documented "for backwards compatibility"); the fake does the same.
pub(crate) fn create_followup(
    shared: &Shared,
    application_id: u64,
    token: &str,
    payload: Payload,
) -> RestResult {
    let limit = shared.config.attachment_size_limit as usize;
    with_token(shared, application_id, token, |record| {
        if record.callback.is_none() {
            return Err(RestError::new(
                StatusCode::NOT_FOUND,
                code::UNKNOWN_WEBHOOK,
                "Unknown Webhook",
            ));
        }
        if let Some(original) = record.original.as_mut().filter(|m| m.is_loading()) {
            original.edit(payload, limit)?;
            return ok(shared.message_json(original));
        }
        let ix = &record.interaction;
        let mut message = StoredMessage::new(ix.channel_id, ix.guild_id, MessageOrigin::Followup);
        message.create(payload, limit)?;
        let answer = shared.message_json(&message);
        record.followups.push(message);
        ok(answer)
    })
}

/// `PATCH /webhooks/{app}/{token}/messages/{id}`: edits a follow-up (or the original by its id).
pub(crate) fn edit_followup(
    shared: &Shared,
    application_id: u64,
    token: &str,
    message_id: u64,
    payload: Payload,
) -> RestResult {
    let limit = shared.config.attachment_size_limit as usize;
    with_token(shared, application_id, token, |record| {
        let message = record
            .followups
            .iter_mut()
            .chain(record.original.as_mut())
            .find(|m| m.id == message_id)
            .ok_or_else(unknown_message)?;
        message.edit(payload, limit)?;
        ok(shared.message_json(message))
    })
}

/// Runs `f` on the interaction a webhook token belongs to, after Discord's token checks.
fn with_token(
    shared: &Shared,
    application_id: u64,
    token: &str,
    f: impl FnOnce(&mut InteractionRecord) -> RestResult,
) -> RestResult {
    check_application(shared, application_id).map_err(|_| {
        RestError::new(
            StatusCode::NOT_FOUND,
            code::UNKNOWN_WEBHOOK,
            "Unknown Webhook",
        )
    })?;
    shared.recorder.update(|state| {
        let record = state
            .interaction_by_token(token)
            .ok_or_else(invalid_token)?;
        if record.token_expired {
            return Err(invalid_token());
        }
        f(record)
    })
}
