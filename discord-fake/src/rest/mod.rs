//! The REST side: one axum fallback handler that records each request, applies injected faults and
//! bot authentication, then dispatches on the classified route and answers like Discord.
//!
//! # Layout
//! - this file: the router, the handler and dispatch.
//! - `crate::reply`: Discord's error codes, [`RestError`] and the answer helpers every route
//!   uses; `faults.rs`: injected faults' answers.
//! - `commands.rs`: application commands (other routes: `webhooks.rs`, `channels.rs`).

use std::sync::Arc;
use std::time::Instant;

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::fault::take_fault;
use crate::message::Payload;
use crate::recorder::RecordedRequest;
use crate::route::ParsedRoute;
use crate::{body, channels, model, webhooks, Shared};

mod commands;
mod faults;

pub(crate) use crate::reply::{check_application, code, ok, RestError, RestResult};
use commands::{echo_commands, register_commands};
use faults::fault_response;

/// The largest request body the fake reads: ten files at Discord's per-file limit, plus JSON.
const MAX_BODY_BYTES: usize = 110 * 1024 * 1024;

/// The REST router: everything goes through [`handle`].
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(handle).with_state(shared)
}

/// Records, fault-checks, authenticates and dispatches one request.
async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, request_body) = request.into_parts();
    let route = ParsedRoute::classify(&parts.method, parts.uri.path());
    let content_type = header_str(&parts.headers, header::CONTENT_TYPE).map(str::to_owned);
    let parsed = match to_bytes(request_body, MAX_BODY_BYTES).await {
        Ok(bytes) => body::parse(content_type.as_deref(), bytes)
            .await
            .map_err(|err| {
                tracing::debug!(error = %err, "unreadable request body");
                RestError::new(
                    StatusCode::BAD_REQUEST,
                    code::INVALID_JSON,
                    "The request body contains invalid JSON.",
                )
            }),
        Err(_) => Err(RestError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::ENTITY_TOO_LARGE,
            "Request entity too large",
        )),
    };
    let path = parts.uri.path().to_owned();
    if route == ParsedRoute::Unknown {
        tracing::warn!(
            method = %parts.method,
            %path,
            "the Discord fake does not implement this route; answering 404"
        );
    }
    let (seq, fault) = shared.recorder.update(|state| {
        let seq = state.requests.len() as u64;
        let fault = take_fault(&mut state.faults, route.kind(), &path);
        state.requests.push(RecordedRequest {
            seq,
            method: parts.method.to_string(),
            path: path.clone(),
            query: parts.uri.query().map(str::to_owned),
            route: route.kind(),
            at: Instant::now(),
            status: None,
            fault_injected: fault.is_some(),
            payload: parsed.clone().unwrap_or_default(),
        });
        (seq, fault)
    });

    let response = match (fault, parsed) {
        (Some(mode), _) => fault_response(mode),
        (None, Err(err)) => err.into_response(),
        (None, Ok(_))
            if route.needs_bot_auth() && !is_bot(&parts.headers, &shared.config.token) =>
        {
            RestError::new(StatusCode::UNAUTHORIZED, code::GENERAL, "401: Unauthorized")
                .into_response()
        }
        (None, Ok(payload)) => dispatch(&shared, route, payload)
            .await
            .unwrap_or_else(IntoResponse::into_response),
    };

    let status = response.status().as_u16();
    tracing::debug!(method = %parts.method, %path, status, "fake discord answered");
    shared.recorder.update(|state| {
        if let Some(record) = state.requests.get_mut(seq as usize) {
            record.status = Some(status);
        }
    });
    response
}

/// Calls the handler for a classified route.
async fn dispatch(shared: &Shared, route: ParsedRoute, payload: Payload) -> RestResult {
    let config = &shared.config;
    match route {
        ParsedRoute::GetGateway => ok(model::gateway(&shared.gateway_url)),
        ParsedRoute::GetApplication => ok(model::application(
            config.application_id,
            &shared.bot_user(),
            &model::user(config.owner_id, "owner", false),
        )),
        ParsedRoute::GetCurrentUser => ok(shared.bot_user()),
        ParsedRoute::GetCommands {
            application_id,
            guild_id,
        } => {
            check_application(shared, application_id)?;
            let commands = shared
                .recorder
                .read(|s| echo_commands(shared, &s.commands, guild_id));
            ok(commands)
        }
        ParsedRoute::RegisterCommands {
            application_id,
            guild_id,
        } => register_commands(shared, application_id, guild_id, payload),
        ParsedRoute::InteractionCallback {
            interaction_id,
            token,
        } => webhooks::callback(shared, interaction_id, &token, payload),
        ParsedRoute::Original {
            application_id,
            token,
            method,
        } => webhooks::original(shared, application_id, &token, &method, payload),
        ParsedRoute::CreateFollowup {
            application_id,
            token,
        } => webhooks::create_followup(shared, application_id, &token, payload),
        ParsedRoute::EditFollowup {
            application_id,
            token,
            message_id,
        } => webhooks::edit_followup(shared, application_id, &token, message_id, payload),
        ParsedRoute::CreateMessage { channel_id } => {
            channels::create_message(shared, channel_id, payload)
        }
        ParsedRoute::GetGuildChannels { guild_id } => channels::guild_channels(shared, guild_id),
        ParsedRoute::DownloadAttachment { attachment_id } => {
            channels::download(shared, attachment_id)
        }
        ParsedRoute::Unknown => Err(RestError::not_found()),
    }
}

/// Whether the request carries `Authorization: Bot <token>` for this fake's token.
fn is_bot(headers: &HeaderMap, token: &str) -> bool {
    header_str(headers, header::AUTHORIZATION)
        .and_then(|value| value.strip_prefix("Bot "))
        .is_some_and(|sent| sent == token.strip_prefix("Bot ").unwrap_or(token))
}

/// A header as text, if present and valid UTF-8.
fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_bot_token_is_accepted_with_the_bot_prefix_only() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bot secret"),
        );

        assert!(is_bot(&headers, "secret"));
        assert!(!is_bot(&headers, "other"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("secret"));
        assert!(!is_bot(&headers, "secret"));
    }
}
