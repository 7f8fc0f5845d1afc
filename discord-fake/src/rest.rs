//! The REST side: one axum fallback handler that records each request, applies injected faults and
//! bot authentication, then dispatches on the classified route and answers like Discord.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::fault::{take_fault, FailMode};
use crate::message::{Payload, PayloadError};
use crate::recorder::{RecordedRequest, RegisteredCommand};
use crate::route::ParsedRoute;
use crate::{body, channels, model, webhooks, Shared};

/// The largest request body the fake reads: ten files at Discord's per-file limit, plus JSON.
const MAX_BODY_BYTES: usize = 110 * 1024 * 1024;

/// Discord error codes the fake answers with.
pub(crate) mod code {
    /// Generic error (used with "404: Not Found", "401: Unauthorized", …).
    pub const GENERAL: u32 = 0;
    /// Unknown Application.
    pub const UNKNOWN_APPLICATION: u32 = 10002;
    /// Unknown Channel.
    pub const UNKNOWN_CHANNEL: u32 = 10003;
    /// Unknown Message.
    pub const UNKNOWN_MESSAGE: u32 = 10008;
    /// Unknown Webhook.
    pub const UNKNOWN_WEBHOOK: u32 = 10015;
    /// Unknown interaction (late or unknown callback).
    pub const UNKNOWN_INTERACTION: u32 = 10062;
    /// Request entity too large.
    pub const ENTITY_TOO_LARGE: u32 = 40005;
    /// Interaction has already been acknowledged.
    pub const ALREADY_ACKNOWLEDGED: u32 = 40060;
    /// Missing Access.
    pub const MISSING_ACCESS: u32 = 50001;
    /// Cannot send an empty message.
    pub const EMPTY_MESSAGE: u32 = 50006;
    /// Invalid Webhook Token (also after an interaction token's 15 minutes).
    pub const INVALID_WEBHOOK_TOKEN: u32 = 50027;
    /// Invalid Form Body.
    pub const INVALID_FORM_BODY: u32 = 50035;
    /// The request body contains invalid JSON.
    pub const INVALID_JSON: u32 = 50109;
}

/// A Discord-style error answer: a status and a `{"message", "code"}` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RestError {
    pub(crate) status: StatusCode,
    pub(crate) code: u32,
    pub(crate) message: String,
}

impl RestError {
    /// Builds an error answer.
    pub(crate) fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// Discord's answer to an unknown route or resource.
    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, code::GENERAL, "404: Not Found")
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        (self.status, Json(model::error(self.code, &self.message))).into_response()
    }
}

impl From<PayloadError> for RestError {
    fn from(err: PayloadError) -> Self {
        match err {
            PayloadError::FileTooLarge { .. } => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                code::ENTITY_TOO_LARGE,
                "Request entity too large",
            ),
            PayloadError::UnknownAttachment(_) => Self::new(
                StatusCode::BAD_REQUEST,
                code::INVALID_FORM_BODY,
                "Invalid Form Body",
            ),
            PayloadError::Empty => Self::new(
                StatusCode::BAD_REQUEST,
                code::EMPTY_MESSAGE,
                "Cannot send an empty message",
            ),
        }
    }
}

/// What a route handler returns.
pub(crate) type RestResult = Result<Response, RestError>;

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
        ParsedRoute::DownloadAttachment { attachment_id } => {
            channels::download(shared, attachment_id)
        }
        ParsedRoute::Unknown => Err(RestError::not_found()),
    }
}

/// `PUT` commands: a bulk overwrite of the scope's commands; ids stay stable per name.
fn register_commands(
    shared: &Shared,
    application_id: u64,
    guild_id: Option<u64>,
    payload: Payload,
) -> RestResult {
    check_application(shared, application_id)?;
    if guild_id.is_some_and(|g| !shared.config.guilds.iter().any(|spec| spec.id == g)) {
        return Err(RestError::new(
            StatusCode::FORBIDDEN,
            code::MISSING_ACCESS,
            "Missing Access",
        ));
    }
    let Value::Array(sent) = payload.json else {
        return Err(RestError::new(
            StatusCode::BAD_REQUEST,
            code::INVALID_FORM_BODY,
            "Invalid Form Body",
        ));
    };
    let echoed = shared.recorder.update(|state| {
        let mut next: Vec<RegisteredCommand> = state
            .commands
            .iter()
            .filter(|c| c.guild_id != guild_id)
            .cloned()
            .collect();
        for command in sent {
            let name = command
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let id = state
                .commands
                .iter()
                .find(|c| c.guild_id == guild_id && c.name == name)
                .map_or_else(crate::ids::next_snowflake, |c| c.id);
            next.push(RegisteredCommand {
                id,
                name,
                guild_id,
                sent: command,
            });
        }
        state.commands = next;
        state.command_registrations += 1;
        echo_commands(shared, &state.commands, guild_id)
    });
    ok(echoed)
}

/// The commands of one scope as Discord returns them.
fn echo_commands(shared: &Shared, commands: &[RegisteredCommand], guild_id: Option<u64>) -> Value {
    let app = shared.config.application_id;
    Value::Array(
        commands
            .iter()
            .filter(|c| c.guild_id == guild_id)
            .map(|c| model::command(&c.sent, c.id, app, c.guild_id))
            .collect(),
    )
}

/// Fails unless the path names this fake's application.
pub(crate) fn check_application(shared: &Shared, application_id: u64) -> Result<(), RestError> {
    if application_id == shared.config.application_id {
        Ok(())
    } else {
        Err(RestError::new(
            StatusCode::NOT_FOUND,
            code::UNKNOWN_APPLICATION,
            "Unknown Application",
        ))
    }
}

/// A 200 with a JSON body.
pub(crate) fn ok(value: Value) -> RestResult {
    Ok(Json(value).into_response())
}

/// A 204 with no body.
pub(crate) fn no_content() -> RestResult {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The answer for an injected fault, shaped like Discord's.
fn fault_response(mode: FailMode) -> Response {
    match mode {
        FailMode::Status(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = format!(
                "{}: {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("Error")
            );
            RestError::new(status, code::GENERAL, message).into_response()
        }
        FailMode::RateLimited { retry_after } => rate_limited(retry_after),
    }
}

/// Discord's 429: `retry_after` in seconds in the body and headers, bucket headers exhausted.
fn rate_limited(retry_after: Duration) -> Response {
    let secs = retry_after.as_secs_f64();
    let body =
        json!({"message": "You are being rate limited.", "retry_after": secs, "global": false});
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    let headers = response.headers_mut();
    let whole_secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    for (name, value) in [
        ("retry-after", whole_secs.to_string()),
        ("x-ratelimit-limit", "5".to_owned()),
        ("x-ratelimit-remaining", "0".to_owned()),
        ("x-ratelimit-reset-after", format!("{secs:.3}")),
        ("x-ratelimit-bucket", "fake-bucket".to_owned()),
        ("x-ratelimit-scope", "user".to_owned()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

/// A response with raw bytes and a content type.
pub(crate) fn bytes_response(content_type: &str, bytes: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(bytes));
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
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
    use super::*;

    #[tokio::test]
    async fn a_rate_limit_carries_retry_after_in_headers_and_body() {
        let response = rate_limited(Duration::from_millis(1500));

        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["retry-after"], "2");
        assert_eq!(response.headers()["x-ratelimit-reset-after"], "1.500");
        let body = to_bytes(response.into_body(), 1024).await.unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["retry_after"], json!(1.5));
        assert_eq!(body["global"], json!(false));
    }

    #[test]
    fn an_injected_status_has_a_discord_error_body() {
        let response = fault_response(FailMode::Status(502));

        assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    }

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
