//! Token strength: the bot refuses to start with a configured token that is short, a
//! well-known default or an obvious placeholder, so a copy-pasted example never guards a Mac.

/// Shortest token accepted from configuration, in characters. Generated tokens have 53.
pub const MIN_TOKEN_LEN: usize = 32;

/// Fewest distinct characters a token must use; `aaaa…` or `abab…` are long but guessable.
/// A random 32-character hex token uses about 14, base64 about 25.
const MIN_DISTINCT_CHARS: usize = 10;

/// Whole tokens that are defaults or placeholders somewhere (this project's docs, common
/// templates). Compared case-insensitively. Most are also short, but the message says why.
const KNOWN_DEFAULTS: [&str; 16] = [
    "changeme",
    "change-me",
    "secret",
    "token",
    "password",
    "admin",
    "test",
    "default",
    "your-token-here",
    "your_token_here",
    "yourtokenhere",
    "replace-me",
    "oc_client_",
    "oc_worker_",
    "oc_admin_",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

/// Pieces that only appear in a token someone forgot to replace. Compared
/// case-insensitively; a random token contains one of them with negligible probability.
const PLACEHOLDER_MARKERS: [&str; 12] = [
    "changeme",
    "change-me",
    "change_me",
    "replaceme",
    "replace-me",
    "replace_me",
    "your-token",
    "your_token",
    "yourtoken",
    "placeholder",
    "example",
    "...",
];

/// What is wrong with `token` as a configured API token, if anything. The answer never
/// contains the token. Tokens travel in an HTTP header, so only visible ASCII is allowed.
pub fn weakness(token: &str) -> Option<String> {
    if token.is_empty() {
        return Some("must not be empty (leave it unset to have one generated)".into());
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Some("must be visible ASCII without spaces".into());
    }
    let lower = token.to_ascii_lowercase();
    if KNOWN_DEFAULTS.contains(&lower.as_str()) {
        return Some(format!(
            "is a well-known default or placeholder; {}",
            advice()
        ));
    }
    if token.len() < MIN_TOKEN_LEN {
        return Some(format!(
            "is {} characters long; it must have at least {MIN_TOKEN_LEN}; {}",
            token.len(),
            advice()
        ));
    }
    if let Some(marker) = PLACEHOLDER_MARKERS.iter().find(|m| lower.contains(*m)) {
        return Some(format!(
            "looks like a placeholder (it contains {marker:?}); {}",
            advice()
        ));
    }
    if token.starts_with('<') && token.ends_with('>') {
        return Some(format!("looks like a placeholder (<...>); {}", advice()));
    }
    let mut seen = [false; 128];
    for b in token.bytes() {
        seen[usize::from(b & 0x7f)] = true;
    }
    let distinct = seen.iter().filter(|s| **s).count();
    if distinct < MIN_DISTINCT_CHARS {
        return Some(format!(
            "uses only {distinct} distinct characters; it must use at least \
             {MIN_DISTINCT_CHARS}; {}",
            advice()
        ));
    }
    None
}

fn advice() -> &'static str {
    "leave it unset to have a random one generated, or use e.g. `openssl rand -base64 32`"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_looking_tokens_of_32_or_more_characters_pass() {
        for token in [
            "oc_client_3q2-7wHk_Vb1XzR9tLmN0pQaS4dF6gJ8hK2lZxC5vB7nM",
            "0f8e1d2c3b4a59687766554433221100",
            "oc_worker_e2e_0123456789abcdefghijklmnop",
        ] {
            assert_eq!(weakness(token), None, "{token}");
        }
    }

    #[test]
    fn short_default_placeholder_and_repetitive_tokens_are_refused() {
        let long_x = "x".repeat(32);
        let cases = [
            ("", "must not be empty"),
            ("two words that are long enough together", "visible ASCII"),
            ("changeme", "well-known default"),
            ("Your-Token-Here", "well-known default"),
            ("oc_worker_", "well-known default"),
            (long_x.as_str(), "well-known default"),
            ("a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d", "at least 32"),
            ("changeme-changeme-changeme-changeme", "placeholder"),
            ("REPLACE_ME_WITH_A_REAL_TOKEN_PLEASE", "placeholder"),
            ("oc_worker_..............................", "placeholder"),
            ("<a-token-of-at-least-32-characters>", "placeholder"),
            (
                "abababababababababababababababababab",
                "distinct characters",
            ),
        ];

        for (token, why) in cases {
            let reason = weakness(token).unwrap_or_else(|| panic!("{token:?} passed"));
            assert!(reason.contains(why), "{token:?}: {reason}");
            if token.len() > 4 {
                assert!(!reason.contains(token), "the reason repeats the token");
            }
        }
    }
}
