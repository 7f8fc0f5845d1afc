//! `[[webhooks]]` (the endpoints the operator configures) and `[webhook_delivery]` (how
//! messages are sent and retried, and what an API client's `callbackUrl` may be).

use std::time::Duration;

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::ConfigError;
use crate::queue::WebhookEvent;

/// The prefix of a Standard Webhooks secret; the rest is the key in base64.
pub const SECRET_PREFIX: &str = "whsec_";

/// One `[[webhooks]]` endpoint: where to send which events, signed with which secret.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointConfig {
    /// Where to POST. The operator's choice: any http(s) URL, internal addresses included
    /// (unlike a client's `callbackUrl`).
    pub url: String,
    /// `whsec_` and the base64 of 24-64 random bytes (Standard Webhooks); the receiver
    /// verifies `webhook-signature` with it.
    pub secret: SecretString,
    /// Which events to send (`task.finished`, `task.awaiting_approval`, `worker.online`,
    /// `worker.offline`); all of them when empty.
    #[serde(default)]
    pub events: Vec<String>,
}

impl WebhookEndpointConfig {
    /// The events this endpoint takes (all when none are named). Validated at load.
    pub fn event_list(&self) -> Vec<WebhookEvent> {
        if self.events.is_empty() {
            return WebhookEvent::ALL.to_vec();
        }
        self.events
            .iter()
            .filter_map(|e| WebhookEvent::parse(e))
            .collect()
    }
}

/// `[webhook_delivery]`: retries, timeouts, and the rules for clients' `callbackUrl`s.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookDeliveryConfig {
    /// Attempts per message before it is marked `failed` (a manual redeliver starts over).
    pub max_attempts: u32,
    /// The wait before the first retry, in milliseconds; each retry waits four times the
    /// last, up to `max_retry_delay_secs`, less up to a half at random (jitter).
    pub retry_base_ms: u64,
    /// The longest wait between two attempts, in seconds.
    pub max_retry_delay_secs: u64,
    /// How long one attempt may take (connect, send, answer), in seconds.
    pub timeout_secs: u64,
    /// Signs the messages sent to a task's `callbackUrl` (`whsec_…`). Without it the API
    /// refuses `callbackUrl`.
    pub callback_secret: Option<SecretString>,
    /// Lets `callbackUrl` be `http://` and point at loopback addresses (127.0.0.0/8, ::1):
    /// for tests and a receiver on the bot's own host. Private, link-local and other
    /// internal addresses stay refused whatever this says.
    pub allow_loopback_callbacks: bool,
    /// Delivered and failed messages are deleted this many seconds after they were written.
    pub retention_secs: u64,
}

impl Default for WebhookDeliveryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            retry_base_ms: 5_000,
            max_retry_delay_secs: 3_600,
            timeout_secs: 10,
            callback_secret: None,
            allow_loopback_callbacks: false,
            retention_secs: 7 * 24 * 3600,
        }
    }
}

impl WebhookDeliveryConfig {
    /// How long one attempt may take.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }
}

/// Decodes a `whsec_` secret into its key bytes; `None` if it is not one.
pub fn secret_key(secret: &SecretString) -> Option<Vec<u8>> {
    let text = secret.expose_secret().strip_prefix(SECRET_PREFIX)?;
    let key = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    (24..=64).contains(&key.len()).then_some(key)
}

/// Checks the endpoints and the delivery settings; the error names the key.
pub(super) fn validate(
    endpoints: &[WebhookEndpointConfig],
    delivery: &WebhookDeliveryConfig,
) -> Result<(), ConfigError> {
    let invalid = |key: &'static str, reason: String| Err(ConfigError::Invalid { key, reason });
    for endpoint in endpoints {
        let url = url::Url::parse(&endpoint.url);
        if !url
            .as_ref()
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        {
            return invalid(
                "webhooks.url",
                format!("must be an http(s) URL, got {:?}", endpoint.url),
            );
        }
        if secret_key(&endpoint.secret).is_none() {
            return invalid(
                "webhooks.secret",
                format!(
                    "of {} must be `{SECRET_PREFIX}` and the base64 of 24-64 random bytes \
                     (e.g. `echo {SECRET_PREFIX}$(head -c 32 /dev/urandom | base64)`)",
                    endpoint.url
                ),
            );
        }
        if let Some(unknown) = endpoint
            .events
            .iter()
            .find(|e| WebhookEvent::parse(e).is_none())
        {
            let known: Vec<&str> = WebhookEvent::ALL.iter().map(|e| e.as_str()).collect();
            return invalid(
                "webhooks.events",
                format!("names {unknown:?}; known events: {}", known.join(", ")),
            );
        }
    }
    if delivery
        .callback_secret
        .as_ref()
        .is_some_and(|s| secret_key(s).is_none())
    {
        return invalid(
            "webhook_delivery.callback_secret",
            format!("must be `{SECRET_PREFIX}` and the base64 of 24-64 random bytes"),
        );
    }
    let positive = [
        (
            "webhook_delivery.max_attempts",
            u64::from(delivery.max_attempts),
        ),
        ("webhook_delivery.retry_base_ms", delivery.retry_base_ms),
        (
            "webhook_delivery.max_retry_delay_secs",
            delivery.max_retry_delay_secs,
        ),
        ("webhook_delivery.timeout_secs", delivery.timeout_secs),
        ("webhook_delivery.retention_secs", delivery.retention_secs),
    ];
    if let Some((key, _)) = positive.iter().find(|(_, value)| *value == 0) {
        return invalid(key, "must be greater than 0".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use figment::providers::{Format, Toml};
    use figment::Figment;

    use crate::config::Config;

    fn load(text: &str) -> Result<Config, crate::config::ConfigError> {
        Config::from_figment(Figment::from(Toml::string(text)))
    }

    #[test]
    fn an_endpoint_needs_a_whsec_secret_and_known_events() {
        let good = "[[webhooks]]\nurl = \"https://hooks.example.com/x\"\n\
                    secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nevents = [\"task.finished\"]";
        let no_prefix = good.replace("whsec_", "");
        let bad_event = good.replace("task.finished", "task.done");

        let config = load(good).unwrap();
        let prefix_error = load(&no_prefix).unwrap_err().to_string();
        let event_error = load(&bad_event).unwrap_err().to_string();

        assert_eq!(config.webhooks.len(), 1);
        assert!(prefix_error.contains("webhooks.secret"), "{prefix_error}");
        assert!(event_error.contains("task.done"), "{event_error}");
    }
}
