//! Unit tests of the rate limiters: client keys, the proxy header, lockouts, per-token and
//! per-creation budgets, `Retry-After`.

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
fn task_creations_have_their_own_budget_per_token() {
    let config = RateLimitConfig {
        creates_per_sec: 1,
        creates_burst: 2,
        ..RateLimitConfig::default()
    };
    let limits = RateLimits::from_config(&config).unwrap();
    let client = TokenHolder::Client;

    let refused = (0..10).any(|_| limits.admit_create(&client).is_err());

    assert!(refused, "creations were never limited");
    assert!(
        limits.admit_token(&client).is_ok(),
        "other requests keep their own budget"
    );
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
