//! The Discord REST calls deliveries make (edit an interaction's original response, post in a
//! channel), with Discord's failures sorted into what to do next, and retries with capped,
//! jittered backoff for the transient ones.

use std::future::Future;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use serenity::{
    ChannelId, CreateAllowedMentions, CreateAttachment, CreateMessage, EditInteractionResponse,
    Http, HttpError, MessageId, UserId,
};
use tokio_util::sync::CancellationToken;

use super::render::Rendered;
use crate::intake::InteractionOrigin;
use crate::telemetry::error_chain;

/// Longest wait between two delivery attempts.
const RETRY_CAP: Duration = Duration::from_secs(60);

/// Discord JSON error codes that mean an interaction's token or message is gone for good.
const UNKNOWN_MESSAGE: isize = 10_008;
const UNKNOWN_WEBHOOK: isize = 10_015;
const UNKNOWN_INTERACTION: isize = 10_062;
const INVALID_WEBHOOK_TOKEN: isize = 50_027;
/// Discord's "request entity too large" code (a file over the upload limit).
const ENTITY_TOO_LARGE: isize = 40_005;

/// Why a Discord call failed, sorted by what the caller should do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// A 5xx, a 429 or a network failure: worth another try later.
    #[error("transient Discord failure: {0}")]
    Transient(String),
    /// The interaction token no longer works (older than 15 minutes, or the response was
    /// deleted): answer in the channel instead.
    #[error("the interaction token no longer works")]
    TokenGone,
    /// A file was over Discord's upload limit: send again without files.
    #[error("Discord refused a file as too large")]
    TooLarge,
    /// The bot token was refused: nothing can be delivered until the configuration is fixed,
    /// so the result waits for the next start.
    #[error("Discord refused the bot token")]
    Unauthorized,
    /// Discord refused this request for good (no access to the channel, unknown channel, …).
    #[error("Discord refused the request: {0}")]
    Rejected(String),
}

impl SendError {
    /// Sorts a serenity error.
    pub fn classify(error: &serenity::Error) -> SendError {
        match error {
            serenity::Error::Http(HttpError::UnsuccessfulRequest(answer)) => Self::from_answer(
                answer.status_code.as_u16(),
                answer.error.code,
                &answer.error.message,
            ),
            // reqwest quotes the URL, which holds the interaction token: scrubbed.
            serenity::Error::Http(HttpError::Request(err)) => {
                SendError::Transient(format!("request failed: {}", error_chain(err)))
            }
            serenity::Error::Io(err) => SendError::Transient(format!("I/O: {err}")),
            other => SendError::Rejected(error_chain(other)),
        }
    }

    /// Sorts Discord's answer: HTTP status, JSON error code and message.
    pub fn from_answer(status: u16, code: isize, message: &str) -> SendError {
        let what = || format!("{status} (code {code}): {message}");
        match (status, code) {
            (_, INVALID_WEBHOOK_TOKEN | UNKNOWN_WEBHOOK | UNKNOWN_INTERACTION) => {
                SendError::TokenGone
            }
            (404, UNKNOWN_MESSAGE) => SendError::TokenGone,
            (413, _) | (_, ENTITY_TOO_LARGE) => SendError::TooLarge,
            (429, _) | (500..=599, _) => SendError::Transient(what()),
            (401, _) => SendError::Unauthorized,
            _ => SendError::Rejected(what()),
        }
    }
}

/// Edits the interaction's original response to `message`, with mentions off. Returns the
/// message id.
pub async fn edit_original(
    http: &Http,
    origin: &InteractionOrigin,
    message: &Rendered,
) -> Result<MessageId, SendError> {
    // Webhook edits are addressed by application id. The delivery client never sees READY
    // (it is not the gateway client), so it takes the id the interaction came with.
    if http.application_id().is_none() {
        http.set_application_id(origin.application_id);
    }
    let mut edit = EditInteractionResponse::new()
        .content(message.content.clone())
        .allowed_mentions(CreateAllowedMentions::new());
    for file in &message.files {
        edit = edit.new_attachment(CreateAttachment::bytes(file.bytes.clone(), &file.name));
    }
    serenity::Builder::execute(edit, http, &origin.token)
        .await
        .map(|m| m.id)
        .map_err(|err| SendError::classify(&err))
}

/// Posts `message` in `channel`. Nobody is pinged except `mention`, if given.
pub async fn post(
    http: &Http,
    channel: ChannelId,
    message: &Rendered,
    mention: Option<UserId>,
) -> Result<MessageId, SendError> {
    let allowed = CreateAllowedMentions::new().users(mention);
    let mut create = CreateMessage::new()
        .content(message.content.clone())
        .allowed_mentions(allowed);
    for file in &message.files {
        create = create.add_file(CreateAttachment::bytes(file.bytes.clone(), &file.name));
    }
    channel
        .send_message(http, create)
        .await
        .map(|m| m.id)
        .map_err(|err| SendError::classify(&err))
}

/// How transient failures are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first wait; each further wait doubles, up to `RETRY_CAP` (60 s).
    pub base: Duration,
    /// Tries in all, the first included.
    pub attempts: u32,
}

impl RetryPolicy {
    /// The wait before try number `attempt + 1`: exponential, capped, half of it random so
    /// that many deliveries refused together (a 429) do not come back together.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exponential = self
            .base
            .saturating_mul(1_u32.checked_shl(attempt).unwrap_or(u32::MAX))
            .min(RETRY_CAP);
        let half = exponential / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// Runs `call` until it succeeds, fails for a non-transient reason, runs out of attempts, or
/// `stop` is cancelled (the last transient error is returned then). A 429's `retry_after`
/// is honoured inside serenity by its ratelimiter when talking to the real Discord; behind a
/// proxy (which limits for us) the ratelimiter is off and serenity's error drops the value,
/// so a 429 that reaches us simply backs off like a 5xx.
pub async fn with_retries<T, F, Fut>(
    policy: RetryPolicy,
    stop: &CancellationToken,
    what: &str,
    mut call: F,
) -> Result<T, SendError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SendError>>,
{
    let mut attempt = 0;
    loop {
        let error = match call().await {
            Ok(value) => return Ok(value),
            Err(SendError::Transient(error)) => error,
            Err(other) => return Err(other),
        };
        attempt += 1;
        if attempt >= policy.attempts {
            tracing::warn!(%error, attempts = attempt, "{what}: giving up for now");
            return Err(SendError::Transient(error));
        }
        let wait = policy.delay(attempt - 1);
        tracing::info!(%error, attempt, wait_ms = wait.as_millis() as u64, "{what}: retrying");
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = stop.cancelled() => return Err(SendError::Transient(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn answer(status: u16, code: isize) -> SendError {
        SendError::from_answer(status, code, "m")
    }

    #[test]
    fn discord_answers_are_sorted_by_what_to_do_next() {
        assert_eq!(answer(401, 50_027), SendError::TokenGone);
        assert_eq!(answer(404, 10_015), SendError::TokenGone);
        assert_eq!(answer(404, 10_008), SendError::TokenGone);
        assert_eq!(answer(413, 40_005), SendError::TooLarge);
        assert_eq!(answer(401, 0), SendError::Unauthorized);
        assert!(matches!(
            answer(429, 0),
            SendError::Transient(why) if why.starts_with("429")
        ));
        assert!(matches!(answer(502, 0), SendError::Transient(_)));
        assert!(matches!(answer(403, 50_001), SendError::Rejected(_)));
        assert!(matches!(answer(404, 10_003), SendError::Rejected(_)));
    }

    #[tokio::test]
    async fn a_network_failure_never_quotes_the_interaction_token() {
        // Nothing listens on port 1: the request fails with reqwest's error, URL included.
        let http = crate::discord::http_client("bot-token", Some("http://127.0.0.1:1"));
        let origin = InteractionOrigin {
            application_id: serenity::ApplicationId::new(11),
            interaction_id: serenity::InteractionId::new(22),
            token: "SECRET-interaction-token".into(),
            channel_id: ChannelId::new(33),
            guild_id: None,
            user_id: UserId::new(44),
            command: "run".into(),
            received_at: 0,
        };
        let message = Rendered {
            content: "hi".into(),
            files: Vec::new(),
        };

        let error = edit_original(&http, &origin, &message).await.unwrap_err();

        let text = format!("{error} {error:?}");
        assert!(matches!(error, SendError::Transient(_)), "{text}");
        assert!(!text.contains("SECRET"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }

    #[test]
    fn retry_delays_grow_and_stay_under_the_cap() {
        let policy = RetryPolicy {
            base: Duration::from_secs(1),
            attempts: 40,
        };

        let delays: Vec<Duration> = (0..40).map(|a| policy.delay(a)).collect();

        assert!(delays[0] >= Duration::from_millis(500) && delays[0] <= Duration::from_secs(1));
        assert!(delays[3] >= Duration::from_secs(4));
        assert!(delays.iter().all(|d| *d <= RETRY_CAP));
    }

    #[tokio::test]
    async fn transient_failures_are_retried_until_the_call_succeeds() {
        let calls = AtomicU32::new(0);
        let policy = RetryPolicy {
            base: Duration::from_millis(1),
            attempts: 5,
        };

        let result = with_retries(policy, &CancellationToken::new(), "t", || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    Err(SendError::Transient("500".into()))
                } else {
                    Ok(n)
                }
            }
        })
        .await;

        assert_eq!(result, Ok(2));
    }

    #[tokio::test]
    async fn permanent_failures_and_exhausted_attempts_stop_the_retries() {
        let calls = AtomicU32::new(0);
        let policy = RetryPolicy {
            base: Duration::from_millis(1),
            attempts: 3,
        };
        let stop = CancellationToken::new();

        let rejected: Result<(), _> = with_retries(policy, &stop, "t", || async {
            Err(SendError::Rejected("403".into()))
        })
        .await;
        let exhausted: Result<(), _> = with_retries(policy, &stop, "t", || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(SendError::Transient("503".into())) }
        })
        .await;

        assert_eq!(rejected, Err(SendError::Rejected("403".into())));
        assert!(matches!(exhausted, Err(SendError::Transient(_))));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }
}
