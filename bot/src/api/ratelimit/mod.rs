//! Rate limits (`[rate_limit]`): per client IP before authentication, per token after it,
//! task creations per token, and a lockout for client IPs that fail authentication too
//! often, so that guessing tokens is slow even for a token that is valid. Token buckets
//! are governor's GCRA.

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
    /// Task creations per token: a create costs a write and storage, so it has its own
    /// budget below the request rate.
    creates: DefaultKeyedRateLimiter<TokenHolder>,
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
            creates: DefaultKeyedRateLimiter::hashmap(per_second(
                config.creates_per_sec,
                config.creates_burst,
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

    /// Lets `holder` create a task, unless that token is over its creation rate.
    pub fn admit_create(&self, holder: &TokenHolder) -> Result<(), ApiError> {
        self.creates
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
        if !self
            .requests
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(HOUSEKEEPING_EVERY)
        {
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
mod tests;
