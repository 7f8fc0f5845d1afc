//! An API client's `callbackUrl`: where the bot may be told to send a task's webhooks.
//!
//! The client is not trusted with the bot's network: a stolen client token must not turn
//! the bot into a probe of the VPS's internal network (SSRF). So a callback must be
//! `https://` and must not name an internal address — loopback, private, link-local (the
//! cloud metadata service at 169.254.169.254), shared, multicast or reserved. Intake checks
//! what it can without the network (the scheme, an address written as such, `localhost`);
//! the webhook sender checks every address a name resolves to before each attempt, and
//! connects only to those (a name that resolves inside is refused then, not here).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::IntakeError;

/// The JSON field a callback arrives in.
pub const FIELD: &str = "callbackUrl";
/// Longest callback URL, in bytes.
pub const MAX_URL_BYTES: usize = 2048;

/// What a callback may be, from `[webhook_delivery]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallbackRule {
    /// A `callback_secret` is configured: without one, callbacks are refused.
    pub enabled: bool,
    /// `allow_loopback_callbacks`: `http://` and loopback addresses are allowed.
    pub allow_loopback: bool,
}

/// Checks a requested callback: absent or empty is none; otherwise an absolute `https://`
/// URL (or `http://` with loopback allowed) with a host, no user or password, at most
/// [`MAX_URL_BYTES`], whose host is not an address [`address_allowed`] refuses.
pub fn check(raw: Option<String>, rule: CallbackRule) -> Result<Option<String>, IntakeError> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(None);
    };
    if !rule.enabled {
        return Err(IntakeError::invalid(
            FIELD,
            "is not accepted by this bot (no webhook_delivery.callback_secret is configured)",
        ));
    }
    if raw.len() > MAX_URL_BYTES {
        return Err(IntakeError::new(
            FIELD,
            super::Problem::TooLong {
                limit: MAX_URL_BYTES,
            },
        ));
    }
    let url = url::Url::parse(&raw)
        .map_err(|_| IntakeError::invalid(FIELD, "must be an absolute https:// URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if rule.allow_loopback => {}
        _ => return Err(IntakeError::invalid(FIELD, "must be an https:// URL")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(IntakeError::invalid(
            FIELD,
            "must not carry a user name or password",
        ));
    }
    let refused = || {
        IntakeError::invalid(
            FIELD,
            "must not point at a loopback, private, link-local or otherwise internal address",
        )
    };
    match url.host() {
        None => return Err(IntakeError::invalid(FIELD, "must name a host")),
        Some(url::Host::Ipv4(ip)) if !address_allowed(IpAddr::V4(ip), rule.allow_loopback) => {
            return Err(refused())
        }
        Some(url::Host::Ipv6(ip)) if !address_allowed(IpAddr::V6(ip), rule.allow_loopback) => {
            return Err(refused())
        }
        Some(url::Host::Domain(name)) if is_local_name(name) && !rule.allow_loopback => {
            return Err(refused())
        }
        Some(_) => {}
    }
    Ok(Some(url.into()))
}

/// Whether the bot may connect to `ip` for a client's callback: only public unicast
/// addresses, and loopback when `allow_loopback`.
pub fn address_allowed(ip: IpAddr, allow_loopback: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => v4_allowed(v4, allow_loopback),
        IpAddr::V6(v6) => {
            // An IPv4 address dressed as IPv6 (mapped, compatible, NAT64) reaches that IPv4
            // address: judge it as one.
            if let Some(v4) = embedded_v4(v6) {
                return v4_allowed(v4, allow_loopback);
            }
            if v6.is_loopback() {
                return allow_loopback;
            }
            let first = v6.segments()[0];
            !(v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
                || (first == 0x2001 && v6.segments()[1] == 0x0db8) // documentation
                || first == 0x0100) // discard-only 100::/64
        }
    }
}

fn v4_allowed(ip: Ipv4Addr, allow_loopback: bool) -> bool {
    if ip.is_loopback() {
        return allow_loopback;
    }
    let [a, b, c, _] = ip.octets();
    !(a == 0 // "this network"
        || ip.is_private() // 10/8, 172.16/12, 192.168/16
        || ip.is_link_local() // 169.254/16: cloud metadata services
        || (a == 100 && (64..128).contains(&b)) // shared (carrier-grade NAT) 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments 192.0.0/24
        || ip.is_documentation()
        || (a == 198 && (b == 18 || b == 19)) // benchmarking 198.18/15
        || ip.is_multicast()
        || a >= 240) // reserved 240/4 and broadcast
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`)
/// or NAT64 (`64:ff9b::a.b.c.d`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new(
        (s[6] >> 8) as u8,
        (s[6] & 0xff) as u8,
        (s[7] >> 8) as u8,
        (s[7] & 0xff) as u8,
    );
    let mapped = s[..5] == [0; 5] && s[5] == 0xffff;
    let compatible = s[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified();
    let nat64 = s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4];
    (mapped || compatible || nat64).then_some(tail)
}

/// Names that mean this host whatever DNS says.
fn is_local_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ON: CallbackRule = CallbackRule {
        enabled: true,
        allow_loopback: false,
    };

    fn refused(url: &str, rule: CallbackRule) -> bool {
        check(Some(url.into()), rule).is_err()
    }

    #[test]
    fn internal_addresses_are_refused_in_every_spelling() {
        for url in [
            "https://127.0.0.1/hook",
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.5/",
            "https://192.168.1.1/",
            "https://172.16.0.1/",
            "https://100.64.0.1/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[::ffff:169.254.169.254]/",
            "https://[::ffff:7f00:1]/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://localhost/",
            "https://a.localhost./",
            // Decimal and hex spellings of 127.0.0.1, which the URL parser normalises.
            "https://2130706433/",
            "https://0x7f.1/",
        ] {
            assert!(refused(url, ON), "{url} was accepted");
        }
    }

    #[test]
    fn public_https_urls_pass_and_other_schemes_do_not() {
        assert_eq!(
            check(Some("https://hooks.example.com/x?y=1".into()), ON).unwrap(),
            Some("https://hooks.example.com/x?y=1".into())
        );
        assert!(check(Some("https://93.184.215.14/".into()), ON).is_ok());
        assert!(refused("http://hooks.example.com/", ON));
        assert!(refused("file:///etc/passwd", ON));
        assert!(refused("https://user:pw@hooks.example.com/", ON));
        assert_eq!(check(Some("  ".into()), ON).unwrap(), None);
    }

    #[test]
    fn loopback_is_allowed_only_when_configured_and_never_the_rest() {
        let loopback = CallbackRule {
            enabled: true,
            allow_loopback: true,
        };

        assert!(check(Some("http://127.0.0.1:9/hook".into()), loopback).is_ok());
        assert!(check(Some("http://[::1]:9/".into()), loopback).is_ok());
        assert!(refused("http://169.254.169.254/", loopback));
        assert!(refused("http://10.1.2.3/", loopback));
    }

    #[test]
    fn callbacks_are_refused_without_a_callback_secret() {
        assert!(refused(
            "https://hooks.example.com/",
            CallbackRule::default()
        ));
    }
}
