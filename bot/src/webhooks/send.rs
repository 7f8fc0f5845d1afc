//! One attempt at one message: sign it, POST it, and say what came of it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::intake::callback;
use crate::queue::{AttemptResult, WebhookDelivery, WebhookTarget};

use super::guard::is_refusal;
use super::sign::signature;
use super::Sender;

/// What an attempt came to, before the retry rule decides what to record.
#[derive(Debug)]
pub(super) enum Attempt {
    /// 2xx.
    Delivered(u16),
    /// A status or a network failure worth retrying.
    Transient { status: Option<u16>, error: String },
    /// Never to be retried: the receiver is gone (410), the endpoint is no longer
    /// configured, or the address rules refuse the callback.
    Permanent { status: Option<u16>, error: String },
}

impl Sender {
    /// Sends `delivery` once.
    pub(super) async fn attempt(&self, delivery: &WebhookDelivery) -> Attempt {
        let (client, key) = match delivery.target {
            WebhookTarget::Endpoint => match self.endpoint_keys.get(&delivery.url) {
                Some(key) => (&self.endpoint_client, key.as_slice()),
                None => {
                    return Attempt::Permanent {
                        status: None,
                        error: "the endpoint is no longer in [[webhooks]]".into(),
                    }
                }
            },
            WebhookTarget::Callback => {
                let Some(key) = &self.callback_key else {
                    return Attempt::Permanent {
                        status: None,
                        error: "webhook_delivery.callback_secret is no longer set".into(),
                    };
                };
                // The rules as they are now: a URL stored while loopback was allowed is
                // refused once it is not. Names are checked again by the resolver.
                let rule = callback::CallbackRule {
                    enabled: true,
                    allow_loopback: self.allow_loopback,
                };
                if let Err(err) = callback::check(Some(delivery.url.clone()), rule) {
                    return Attempt::Permanent {
                        status: None,
                        error: err.to_string(),
                    };
                }
                (&self.callback_client, key.as_slice())
            }
        };
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let body = delivery.payload.as_bytes().to_vec();
        let sig = signature(key, &delivery.id, timestamp, &body);
        let sent = client
            .post(&delivery.url)
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", sig)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                Attempt::Delivered(response.status().as_u16())
            }
            Ok(response) if response.status() == reqwest::StatusCode::GONE => Attempt::Permanent {
                status: Some(410),
                error: "the receiver answered 410 Gone".into(),
            },
            Ok(response) => Attempt::Transient {
                status: Some(response.status().as_u16()),
                error: format!("the receiver answered {}", response.status()),
            },
            Err(err) if is_refusal(&err) => Attempt::Permanent {
                status: None,
                error: crate::telemetry::error_chain(&err),
            },
            Err(err) => Attempt::Transient {
                status: None,
                error: crate::telemetry::error_chain(&err),
            },
        }
    }

    /// What to record for `attempt`, the `attempts_before`+1-th at `delivery`, at `now`.
    pub(super) fn result(&self, attempt: Attempt, attempts_before: u32, now: u64) -> AttemptResult {
        match attempt {
            Attempt::Delivered(status) => AttemptResult::Delivered { status },
            Attempt::Permanent { status, error } => AttemptResult::Failed { status, error },
            Attempt::Transient { status, error } => {
                let made = attempts_before.saturating_add(1);
                if made >= self.settings.max_attempts {
                    AttemptResult::Failed {
                        status,
                        error: format!("{error} (gave up after {made} attempts)"),
                    }
                } else {
                    let delay = retry_delay(
                        made,
                        self.settings.retry_base,
                        self.settings.max_retry_delay,
                        fastrand::f64(),
                    );
                    AttemptResult::Retry {
                        status,
                        error,
                        retry_at: now
                            .saturating_add(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)),
                    }
                }
            }
        }
    }
}

/// The wait after the `made`-th failed attempt: `base` × 4^(made-1), at most `max`, less
/// up to half of it by `jitter` (0.0..1.0), so receivers that came back are not hit by
/// every sender's retries at once.
pub(super) fn retry_delay(made: u32, base: Duration, max: Duration, jitter: f64) -> Duration {
    let exponent = made.saturating_sub(1).min(16);
    let full = base.saturating_mul(4u32.saturating_pow(exponent)).min(max);
    full.mul_f64(1.0 - 0.5 * jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_four_times_each_up_to_the_cap_with_jitter_below() {
        let base = Duration::from_secs(5);
        let max = Duration::from_secs(3600);

        let delays: Vec<u64> = (1..=7)
            .map(|n| retry_delay(n, base, max, 0.0).as_secs())
            .collect();

        assert_eq!(delays, [5, 20, 80, 320, 1280, 3600, 3600]);
        assert_eq!(retry_delay(1, base, max, 1.0), Duration::from_millis(2500));
        assert_eq!(retry_delay(u32::MAX, base, max, 0.0), max);
    }
}
