//! `[auth]` and `[rate_limit]`: who may call the API, and how often. Tokens are validated
//! here (strength, per-worker names) so a weak one stops the bot before anything starts.

use std::net::IpAddr;

use axum::http::HeaderName;
use figment::providers::Serialized;
use figment::value::{Dict, Map};
use figment::{Metadata, Profile, Provider};
use openclaw_shared::worker::is_valid_worker_name;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::token_strength::weakness;
use super::{ConfigError, WORKERS_ENV};

/// `[auth]`: one token per role, and optionally one per named worker. Unset role tokens are
/// generated on first start and kept in `<data_dir>/tokens.toml`. A configured token must
/// pass [`weakness`] (32+ characters, no default or placeholder).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Creates and reads tasks (the original's API clients).
    pub client_token: Option<SecretString>,
    /// Claims tasks and reports results as ANY worker name (one-Mac setups). Not generated
    /// when `workers` is set, so that every worker must use its own token.
    pub worker_token: Option<SecretString>,
    /// Reads `/admin/*` (monitoring); cannot create or run tasks.
    pub admin_token: Option<SecretString>,
    /// `[[auth.workers]]`: named workers with their own tokens. A request with one of these
    /// acts as that worker only: it may claim, heartbeat, report and upload under that
    /// name, and gets 403 for any other.
    pub workers: Vec<WorkerTokenConfig>,
    /// Most worker names the shared `worker_token` may use at once. A new name past it is
    /// refused (403 `too_many_workers`) until one of the others is forgotten
    /// (`queue.worker_expiry_secs`), so made-up names cannot bury the real worker in
    /// `/status`. Per-worker tokens never count against it.
    pub max_shared_worker_names: usize,
}

/// Worker names the shared worker token may use at once, by default: it is meant for one
/// Mac (README), and a few more leave room for a renamed or second machine.
const DEFAULT_MAX_SHARED_WORKER_NAMES: usize = 4;

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            client_token: None,
            worker_token: None,
            admin_token: None,
            workers: Vec::new(),
            max_shared_worker_names: DEFAULT_MAX_SHARED_WORKER_NAMES,
        }
    }
}

/// One `[[auth.workers]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerTokenConfig {
    /// The worker's name (its `name` / `WORKER_NAME`), 1-64 of `A-Z a-z 0-9 . _ -`.
    pub name: String,
    /// The worker's own token (its `WORKER_TOKEN`).
    pub token: SecretString,
}

/// `[rate_limit]`: token buckets (GCRA) per client IP, checked before authentication, and
/// per token, checked after it. Failed authentications are also counted per IP, and an IP
/// over that budget is refused before its token is even looked at, so guessing is slow.
/// The request-rate defaults are ceilings above what the bot can serve on a small machine
/// (~15,000 task creations/s on 2 cores), so a benchmark filling the queue from loopback
/// with one token is never slowed; the failed-auth budget is the tight one.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Off switch for all of the limits below.
    pub enabled: bool,
    /// Sustained requests per second one token may send.
    pub per_token_per_sec: u32,
    /// Requests one token may send at once above the sustained rate.
    pub per_token_burst: u32,
    /// Sustained task creations per second one token may make (on top of its request rate).
    pub creates_per_sec: u32,
    /// Task creations one token may make at once above the sustained rate.
    pub creates_burst: u32,
    /// Sustained requests per second from one client IP (IPv6: one /64), any route.
    pub per_ip_per_sec: u32,
    /// Requests one client IP may send at once above the sustained rate.
    pub per_ip_burst: u32,
    /// Sustained failed authentications (401) per minute from one client IP.
    pub failed_auth_per_min: u32,
    /// Failed authentications one client IP may make in a row before it is refused.
    pub failed_auth_burst: u32,
    /// Reverse proxies whose `client_ip_header` is believed. Empty: the peer address is the
    /// client (behind a proxy, then, every client shares the proxy's limits).
    pub trusted_proxies: Vec<IpAddr>,
    /// Header carrying the client address when the peer is a trusted proxy, e.g.
    /// `x-forwarded-for` (its last entry is used: the one the proxy appended) or `x-real-ip`.
    pub client_ip_header: Option<String>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            per_token_per_sec: 10_000,
            per_token_burst: 20_000,
            creates_per_sec: 1_000,
            creates_burst: 10_000,
            per_ip_per_sec: 20_000,
            per_ip_burst: 40_000,
            failed_auth_per_min: 30,
            failed_auth_burst: 50,
            trusted_proxies: Vec::new(),
            client_ip_header: None,
        }
    }
}

impl RateLimitConfig {
    /// Checks ranges and that the proxy settings come together; the error names the key.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &'static str, reason: String| Err(ConfigError::Invalid { key, reason });
        let positive = [
            ("rate_limit.per_token_per_sec", self.per_token_per_sec),
            ("rate_limit.per_token_burst", self.per_token_burst),
            ("rate_limit.creates_per_sec", self.creates_per_sec),
            ("rate_limit.creates_burst", self.creates_burst),
            ("rate_limit.per_ip_per_sec", self.per_ip_per_sec),
            ("rate_limit.per_ip_burst", self.per_ip_burst),
            ("rate_limit.failed_auth_per_min", self.failed_auth_per_min),
            ("rate_limit.failed_auth_burst", self.failed_auth_burst),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, value)| *value == 0) {
            return invalid(
                key,
                "must be greater than 0 (set enabled = false instead)".into(),
            );
        }
        match (&self.client_ip_header, self.trusted_proxies.is_empty()) {
            (Some(header), false) => {
                if header.parse::<HeaderName>().is_err() {
                    return invalid(
                        "rate_limit.client_ip_header",
                        format!("is not a header name: {header:?}"),
                    );
                }
            }
            (Some(_), true) => {
                return invalid(
                    "rate_limit.client_ip_header",
                    "needs rate_limit.trusted_proxies: a header anyone may send proves nothing"
                        .into(),
                )
            }
            (None, false) => {
                return invalid(
                    "rate_limit.trusted_proxies",
                    "needs rate_limit.client_ip_header, the header those proxies set".into(),
                )
            }
            (None, true) => {}
        }
        Ok(())
    }
}

impl AuthConfig {
    /// Every configured token must be strong; worker names must be valid and unique.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &'static str, reason: String| Err(ConfigError::Invalid { key, reason });
        let tokens = [
            ("auth.client_token", &self.client_token),
            ("auth.worker_token", &self.worker_token),
            ("auth.admin_token", &self.admin_token),
        ];
        for (key, token) in tokens {
            if let Some(reason) = token.as_ref().and_then(|t| weakness(t.expose_secret())) {
                return invalid(key, reason);
            }
        }
        if self.max_shared_worker_names == 0 {
            return invalid(
                "auth.max_shared_worker_names",
                "must be greater than 0 (to refuse the shared worker token, use per-worker \
                 tokens in [[auth.workers]] and leave auth.worker_token unset)"
                    .into(),
            );
        }
        for (i, worker) in self.workers.iter().enumerate() {
            if !is_valid_worker_name(&worker.name) {
                return invalid(
                    "auth.workers",
                    format!(
                        "name {:?} must be 1-64 characters of A-Z a-z 0-9 . _ -",
                        worker.name
                    ),
                );
            }
            if self.workers[..i].iter().any(|w| w.name == worker.name) {
                return invalid(
                    "auth.workers",
                    format!("name {:?} is listed twice", worker.name),
                );
            }
            if let Some(reason) = weakness(worker.token.expose_secret()) {
                return invalid(
                    "auth.workers",
                    format!("token of worker {:?} {reason}", worker.name),
                );
            }
        }
        Ok(())
    }
}

/// [`WORKERS_ENV`] as a figment provider: parsed as JSON here, so a malformed value is an
/// error naming the variable (and never quoting it: it holds tokens).
pub(super) struct WorkersEnv(pub(super) String);

impl Provider for WorkersEnv {
    fn metadata(&self) -> Metadata {
        Metadata::named(format!("environment variable {WORKERS_ENV}"))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        #[derive(serde::Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Entry {
            name: String,
            token: String,
        }
        let workers: Vec<Entry> = serde_json::from_str(&self.0).map_err(|err| {
            figment::Error::from(format!(
                "{WORKERS_ENV} must be a JSON array of {{\"name\": ..., \"token\": ...}} \
                 objects: {err}"
            ))
        })?;
        Serialized::default("auth.workers", workers).data()
    }
}

#[cfg(test)]
mod tests {
    use figment::Figment;

    use super::*;
    use crate::config::Config;

    fn auth_error(auth: AuthConfig) -> String {
        let config = Config {
            auth,
            ..Config::default()
        };
        config.validate().unwrap_err().to_string()
    }

    fn named(name: &str, token: &str) -> WorkerTokenConfig {
        WorkerTokenConfig {
            name: name.into(),
            token: SecretString::from(token),
        }
    }

    const STRONG: &str = "oc_worker_9fK2mQ7xLp4vT8bN1cR6wZ3hJ5sD0gYe";

    #[test]
    fn a_weak_role_token_is_refused_naming_its_key_but_not_its_value() {
        let err = auth_error(AuthConfig {
            admin_token: Some(SecretString::from("hunter2-hunter2")),
            ..AuthConfig::default()
        });

        assert!(err.contains("`auth.admin_token`"), "{err}");
        assert!(err.contains("at least 32"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn per_worker_entries_need_valid_unique_names_and_strong_tokens() {
        let other = "oc_worker_Xa8Lq2Vn6Ct0Hy4Jm7Rd1Pw5Gk9Bs3Ue";
        let cases = [
            (vec![named("my mac", STRONG)], "\"my mac\" must be"),
            (
                vec![named("mac", STRONG), named("mac", other)],
                "listed twice",
            ),
            (vec![named("mac", "changeme")], "token of worker \"mac\""),
        ];

        for (workers, fragment) in cases {
            let err = auth_error(AuthConfig {
                workers,
                ..AuthConfig::default()
            });
            assert!(err.contains("`auth.workers`"), "{err}");
            assert!(err.contains(fragment), "{err}");
        }
    }

    #[test]
    fn the_shared_tokens_name_cap_and_the_worker_expiry_must_be_positive() {
        let cap = auth_error(AuthConfig {
            max_shared_worker_names: 0,
            ..AuthConfig::default()
        });
        let mut config = Config::default();
        config.queue.worker_expiry_secs = 0;
        let expiry = config.validate().unwrap_err().to_string();

        assert!(cap.contains("`auth.max_shared_worker_names`"), "{cap}");
        assert!(expiry.contains("`queue.worker_expiry_secs`"), "{expiry}");
    }

    #[test]
    fn per_worker_tokens_are_redacted_in_debug_output() {
        let config = Config {
            auth: AuthConfig {
                workers: vec![named("mac", STRONG)],
                ..AuthConfig::default()
            },
            ..Config::default()
        };

        let debug = format!("{config:?}");

        assert!(debug.contains("\"mac\""), "{debug}");
        assert!(!debug.contains(STRONG), "{debug}");
    }

    #[test]
    fn the_workers_env_var_is_read_as_json_and_a_bad_one_is_named() {
        let good = WorkersEnv(format!(r#"[{{"name": "mac", "token": "{STRONG}"}}]"#));
        let bad = WorkersEnv(format!(r#"[{{"name": "mac", "token": "{STRONG}"]"#));

        let config: Config = Figment::new().merge(good).extract().unwrap();
        let err = Figment::new()
            .merge(bad)
            .extract::<Config>()
            .unwrap_err()
            .to_string();

        assert_eq!(config.auth.workers.len(), 1);
        assert_eq!(config.auth.workers[0].name, "mac");
        assert_eq!(config.auth.workers[0].token.expose_secret(), STRONG);
        assert!(err.contains(WORKERS_ENV), "{err}");
        assert!(!err.contains(STRONG), "{err}");
    }

    #[test]
    fn rate_limits_must_be_positive_and_proxy_settings_come_together() {
        let cases = [
            (
                RateLimitConfig {
                    per_ip_burst: 0,
                    ..RateLimitConfig::default()
                },
                "rate_limit.per_ip_burst",
            ),
            (
                RateLimitConfig {
                    client_ip_header: Some("x-forwarded-for".into()),
                    ..RateLimitConfig::default()
                },
                "rate_limit.client_ip_header",
            ),
            (
                RateLimitConfig {
                    trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
                    ..RateLimitConfig::default()
                },
                "rate_limit.trusted_proxies",
            ),
            (
                RateLimitConfig {
                    trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
                    client_ip_header: Some("bad header".into()),
                    ..RateLimitConfig::default()
                },
                "rate_limit.client_ip_header",
            ),
        ];

        for (rate_limit, key) in cases {
            let err = rate_limit.validate().unwrap_err().to_string();
            assert!(err.contains(key), "{err}");
        }
    }
}
