//! Rate limits (`[rate_limit]`): per client IP before authentication, per token after it,
//! and a lockout for client IPs that fail authentication too often, so that guessing tokens
//! is slow even for a token that is valid. Token buckets are governor's GCRA.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::error::ApiError;
use crate::config::RateLimitConfig;
use crate::tokens::TokenHolder;

/// Stale keys are dropped from the per-IP maps every this many requests, so a scan from
/// many addresses cannot grow them without bound.
const HOUSEKEEPING_EVERY: u64 = 1024;

/// The unit limits are kept per: an IPv4 address, or an IPv6 /64 (one host usually owns a
/// whole /64, so per-address keys would let it rotate through 2^64 of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(IpAddr);

impl ClientKey {
    /// The key of `ip` (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn of(ip: IpAddr) -> ClientKey {
        match ip.to_canonical() {
            IpAddr::V4(v4) => ClientKey(IpAddr::V4(v4)),
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !u128::from(u64::MAX);
                ClientKey(IpAddr::V6(Ipv6Addr::from(prefix)))
            }
        }
    }
}

/// Where a request's client address comes from: the TCP peer, or, when the peer is a
/// trusted reverse proxy, the header it sets.
#[derive(Debug, Clone)]
struct ClientIpSource {
    trusted_proxies: Vec<IpAddr>,
    header: Option<HeaderName>,
}

impl ClientIpSource {
    /// The client address of a request from `peer` (none when the server was not started
    /// with connect info). A header from an untrusted peer is ignored: anyone can send one.
    /// From a trusted proxy, the header's last entry is used, the one that proxy wrote;
    /// earlier entries came from the client and may be forged. Unparsable: the peer.
    fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> IpAddr {
        let peer_ip = peer.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let Some(header) = &self.header else {
            return peer_ip;
        };
        if !peer.is_some_and(|p| self.trusted_proxies.contains(&p.to_canonical())) {
            return peer_ip;
        }
        headers
            .get_all(header)
            .iter()
            .next_back()
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(|last| parse_addr(last.trim()))
            .unwrap_or(peer_ip)
    }
}

/// An address as proxies write it: `1.2.3.4`, `2001:db8::1`, or with a port.
fn parse_addr(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
}

/// The limiters of a running API. Shared by the IP middleware and, through the request's
/// extensions, by the auth extractor.
#[derive(Debug)]
pub struct RateLimits {
    per_ip: DefaultKeyedRateLimiter<ClientKey>,
    per_token: DefaultKeyedRateLimiter<TokenHolder>,
    failed_auth: DefaultKeyedRateLimiter<ClientKey>,
    /// Client keys over their failed-auth budget, refused until the instant. A std mutex:
    /// held for a map lookup or insert, never across an `.await`.
    lockouts: Mutex<HashMap<ClientKey, Instant>>,
    client_ip: ClientIpSource,
    clock: DefaultClock,
    /// Requests seen, to schedule housekeeping.
    requests: AtomicU64,
}

impl RateLimits {
    /// The limiters `config` asks for, or `None` when rate limiting is disabled.
    pub fn from_config(config: &RateLimitConfig) -> Option<RateLimits> {
        if !config.enabled {
            return None;
        }
        // `Config::validate` refuses zeros; the fallback only keeps this total.
        let n = |value: u32| NonZeroU32::new(value).unwrap_or(NonZeroU32::MIN);
        let per_second = |rate: u32, burst: u32| Quota::per_second(n(rate)).allow_burst(n(burst));
        Some(RateLimits {
            per_ip: DefaultKeyedRateLimiter::hashmap(per_second(
                config.per_ip_per_sec,
                config.per_ip_burst,
            )),
            per_token: DefaultKeyedRateLimiter::hashmap(per_second(
                config.per_token_per_sec,
                config.per_token_burst,
            )),
            failed_auth: DefaultKeyedRateLimiter::hashmap(
                Quota::per_minute(n(config.failed_auth_per_min))
                    .allow_burst(n(config.failed_auth_burst)),
            ),
            lockouts: Mutex::new(HashMap::new()),
            client_ip: ClientIpSource {
                trusted_proxies: config
                    .trusted_proxies
                    .iter()
                    .map(IpAddr::to_canonical)
                    .collect(),
                header: config
                    .client_ip_header
                    .as_deref()
                    .and_then(|name| name.parse().ok()),
            },
            clock: DefaultClock::default(),
            requests: AtomicU64::new(0),
        })
    }

    /// Lets a request from `client` in, unless the client is locked out for failed
    /// authentications or over its request rate.
    fn admit_client(&self, client: ClientKey) -> Result<(), ApiError> {
        let now = self.clock.now();
        if let Some(until) = self.lockout(client) {
            if until > now {
                return Err(retry_in(until - now));
            }
        }
        self.per_ip
            .check_key(&client)
            .map_err(|not_until| retry_in(not_until.wait_time_from(now)))
    }

    /// Lets a request with `holder`'s token through, unless that token is over its rate.
    pub fn admit_token(&self, holder: &TokenHolder) -> Result<(), ApiError> {
        self.per_token
            .check_key(holder)
            .map_err(|not_until| retry_in(not_until.wait_time_from(self.clock.now())))
    }

    /// Counts a failed authentication from `client`; past the budget, the client is locked
    /// out until the budget allows one more attempt.
    fn record_failed_auth(&self, client: ClientKey) {
        let now = self.clock.now();
        if let Err(not_until) = self.failed_auth.check_key(&client) {
            let wait = not_until.wait_time_from(now);
            tracing::warn!(
                client = %client.0,
                locked_secs = wait.as_secs_f32(),
                "too many failed authentications; refusing this client for a while"
            );
            self.lockouts
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(client, now + wait);
        }
    }

    fn lockout(&self, client: ClientKey) -> Option<Instant> {
        self.lockouts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&client)
            .copied()
    }

    /// Every [`HOUSEKEEPING_EVERY`] requests, forgets clients whose state is back to fresh.
    fn tidy(&self) {
        if self.requests.fetch_add(1, Ordering::Relaxed) % HOUSEKEEPING_EVERY != 0 {
            return;
        }
        for limiter in [&self.per_ip, &self.failed_auth] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        let now = self.clock.now();
        let mut lockouts = self.lockouts.lock().unwrap_or_else(PoisonError::into_inner);
        lockouts.retain(|_, until| *until > now);
        lockouts.shrink_to_fit();
    }
}

/// A 429 telling the client to come back after `wait`, in whole seconds rounded up (a
/// `Retry-After` of 0 would invite an immediate retry that fails again).
fn retry_in(wait: Duration) -> ApiError {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::RateLimited {
        retry_after_secs: secs.max(1),
    }
}

/// Middleware: the per-client check before anything else runs (the body is not read yet),
/// the limiters handed on to the auth extractor, and a 401 counted as a failed attempt.
pub async fn limit(
    State(limits): State<Arc<RateLimits>>,
    mut req: Request,
    next: Next,
) -> Response {
    limits.tidy();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let client = ClientKey::of(limits.client_ip.client_ip(peer, req.headers()));
    if let Err(refused) = limits.admit_client(client) {
        return refused.into_response();
    }
    req.extensions_mut().insert(Arc::clone(&limits));
    let response = next.run(req).await;
    if response.status() == StatusCode::UNAUTHORIZED {
        limits.record_failed_auth(client);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(name: &str, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn behind_proxy() -> ClientIpSource {
        ClientIpSource {
            trusted_proxies: vec![ip("127.0.0.1")],
            header: Some(HeaderName::from_static("x-forwarded-for")),
        }
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_slash_64_and_mapped_ipv4_as_ipv4() {
        let a = ClientKey::of(ip("2001:db8:1:2:aaaa::1"));
        let b = ClientKey::of(ip("2001:db8:1:2:bbbb::2"));
        let other_net = ClientKey::of(ip("2001:db8:1:3::1"));

        assert_eq!(a, b);
        assert_ne!(a, other_net);
        assert_eq!(
            ClientKey::of(ip("::ffff:192.0.2.7")),
            ClientKey::of(ip("192.0.2.7"))
        );
    }

    #[test]
    fn a_trusted_proxy_header_names_the_client_by_its_last_entry() {
        let source = behind_proxy();
        let forwarded = headers("x-forwarded-for", &["198.51.100.9, 203.0.113.5"]);
        let two_lines = headers("x-forwarded-for", &["198.51.100.9", "203.0.113.5:4711"]);

        assert_eq!(
            source.client_ip(Some(ip("127.0.0.1")), &forwarded),
            ip("203.0.113.5")
        );
        assert_eq!(
            source.client_ip(Some(ip("127.0.0.1")), &two_lines),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn the_header_is_ignored_from_untrusted_peers_and_when_unparsable() {
        let source = behind_proxy();
        let forged = headers("x-forwarded-for", &["203.0.113.5"]);
        let garbage = headers("x-forwarded-for", &["not an address"]);
        let no_header = ClientIpSource {
            trusted_proxies: Vec::new(),
            header: None,
        };

        assert_eq!(
            source.client_ip(Some(ip("192.0.2.1")), &forged),
            ip("192.0.2.1")
        );
        assert_eq!(
            source.client_ip(Some(ip("127.0.0.1")), &garbage),
            ip("127.0.0.1")
        );
        assert_eq!(
            no_header.client_ip(Some(ip("127.0.0.1")), &forged),
            ip("127.0.0.1")
        );
        assert_eq!(source.client_ip(None, &forged), ip("0.0.0.0"));
    }

    #[test]
    fn failing_authentication_past_the_burst_locks_the_client_out() {
        let config = RateLimitConfig {
            failed_auth_per_min: 1,
            failed_auth_burst: 2,
            ..RateLimitConfig::default()
        };
        let limits = RateLimits::from_config(&config).unwrap();
        let attacker = ClientKey::of(ip("203.0.113.5"));
        let bystander = ClientKey::of(ip("198.51.100.9"));

        for _ in 0..2 {
            limits.record_failed_auth(attacker);
            assert!(
                limits.admit_client(attacker).is_ok(),
                "locked out too early"
            );
        }
        limits.record_failed_auth(attacker);

        let refused = limits.admit_client(attacker).unwrap_err();
        assert!(
            matches!(refused, ApiError::RateLimited { retry_after_secs } if retry_after_secs >= 1),
            "{refused:?}"
        );
        assert!(limits.admit_client(bystander).is_ok());
    }

    #[test]
    fn each_token_has_its_own_budget() {
        let config = RateLimitConfig {
            per_token_per_sec: 1,
            per_token_burst: 2,
            ..RateLimitConfig::default()
        };
        let limits = RateLimits::from_config(&config).unwrap();
        let mac = TokenHolder::Worker(Arc::from("mac"));

        assert!(limits.admit_token(&mac).is_ok());
        // The burst is 2 and one more is allowed per second: a few attempts in a row must
        // meet a refusal, however slowly this machine runs them.
        let refused = (0..10).any(|_| limits.admit_token(&mac).is_err());

        assert!(refused, "the token was never limited");
        assert!(limits.admit_token(&TokenHolder::Client).is_ok());
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_never_zero() {
        let secs = |wait| match retry_in(wait) {
            ApiError::RateLimited { retry_after_secs } => retry_after_secs,
            other => panic!("{other:?}"),
        };

        assert_eq!(secs(Duration::ZERO), 1);
        assert_eq!(secs(Duration::from_millis(1)), 1);
        assert_eq!(secs(Duration::from_millis(2001)), 3);
        assert_eq!(secs(Duration::from_secs(2)), 2);
    }

    #[test]
    fn disabled_means_no_limiters() {
        let config = RateLimitConfig {
            enabled: false,
            ..RateLimitConfig::default()
        };

        assert!(RateLimits::from_config(&config).is_none());
    }
}
