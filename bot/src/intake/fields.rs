//! Field checks shared by every adapter: pure functions that name the field in their error.

use std::num::NonZeroU64;

use base64::alphabet::STANDARD as STANDARD_ALPHABET;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use openclaw_shared::task::{
    is_valid_agent_name, is_valid_session_id, AgentSession, AGENT_NAME_RULE, SESSION_ID_RULE,
};
use openclaw_shared::worker::is_valid_worker_name;

use super::{IntakeError, Problem};

/// Decodes base64 with or without padding; the result is re-encoded canonically, so the
/// worker always receives padded standard base64.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD_ALPHABET,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// `value` must hold something other than whitespace, fit in `limit` bytes, and carry no
/// NUL (it becomes an argv element or a path).
pub fn non_blank(field: &'static str, value: &str, limit: usize) -> Result<(), IntakeError> {
    if value.trim().is_empty() {
        return Err(IntakeError::new(field, Problem::Required));
    }
    no_nul(field, value)?;
    within(field, value, limit)
}

/// `value` must not be empty and must fit in `limit` bytes (whitespace is meaningful here,
/// e.g. in an edit's `old_string`).
pub fn non_empty(field: &'static str, value: &str, limit: usize) -> Result<(), IntakeError> {
    if value.is_empty() {
        return Err(IntakeError::new(field, Problem::Empty));
    }
    within(field, value, limit)
}

/// `value` must fit in `limit` bytes.
pub fn within(field: &'static str, value: &str, limit: usize) -> Result<(), IntakeError> {
    if value.len() > limit {
        return Err(IntakeError::new(field, Problem::TooLong { limit }));
    }
    Ok(())
}

fn no_nul(field: &'static str, value: &str) -> Result<(), IntakeError> {
    if value.contains('\0') {
        return Err(IntakeError::new(field, Problem::ContainsNul));
    }
    Ok(())
}

/// An optional path-like field (`cwd`): empty means absent.
pub fn optional_path(
    field: &'static str,
    value: Option<String>,
    limit: usize,
) -> Result<Option<String>, IntakeError> {
    match value {
        Some(value) if !value.is_empty() => {
            non_blank(field, &value, limit)?;
            Ok(Some(value))
        }
        _ => Ok(None),
    }
}

/// A worker name, as `shared` defines it; empty means "any worker".
pub fn worker_name(
    field: &'static str,
    value: Option<String>,
) -> Result<Option<String>, IntakeError> {
    match value {
        Some(name) if name.is_empty() => Ok(None),
        Some(name) if is_valid_worker_name(&name) => Ok(Some(name)),
        Some(_) => Err(invalid_worker_name(field)),
        None => Ok(None),
    }
}

/// A worker naming itself (claims, heartbeats, results): required.
pub fn own_worker_name(name: &str) -> Result<(), IntakeError> {
    if is_valid_worker_name(name) {
        Ok(())
    } else {
        Err(invalid_worker_name("worker"))
    }
}

fn invalid_worker_name(field: &'static str) -> IntakeError {
    IntakeError::invalid(field, "must be 1-64 characters of A-Z a-z 0-9 . _ -")
}

/// Longest Discord snowflake: a u64 has at most 20 decimal digits.
const MAX_SNOWFLAKE_DIGITS: usize = 20;

/// Longest channel key from another platform (`telegram:…`, a chat id), in bytes.
const MAX_CHANNEL_KEY_LEN: usize = 128;

/// Where an API client asked the result to go (`discordChannelId`, or the original's
/// `callbackChannel`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyChannel {
    /// A Discord channel id: posted there if the allow-list has it.
    Discord(NonZeroU64),
    /// Another platform's channel key (agents send their chat's key on every platform):
    /// stored with the task, never sent to Discord.
    Key(String),
}

/// Reads a channel field. All digits: a Discord id, a plausible snowflake — 1-20 decimal
/// digits of a non-zero u64 (Discord never issues 0 and serenity cannot represent it),
/// returned as a number so `0042` and `42` name one channel. Anything else: a channel key of
/// at most 128 bytes without control characters. Empty means absent.
pub fn reply_channel(value: Option<String>) -> Result<Option<ReplyChannel>, IntakeError> {
    const FIELD: &str = "discordChannelId (callbackChannel)";
    let Some(raw) = value.filter(|raw| !raw.is_empty()) else {
        return Ok(None);
    };
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        within(FIELD, &raw, MAX_CHANNEL_KEY_LEN)?;
        if raw.chars().any(|c| c.is_control()) || raw.trim().is_empty() {
            return Err(IntakeError::invalid(
                FIELD,
                "must be a Discord channel id or a channel key without control characters",
            ));
        }
        return Ok(Some(ReplyChannel::Key(raw)));
    }
    let snowflake = (raw.len() <= MAX_SNOWFLAKE_DIGITS)
        .then(|| raw.parse::<u64>().ok().and_then(NonZeroU64::new))
        .flatten();
    match snowflake {
        Some(id) => Ok(Some(ReplyChannel::Discord(id))),
        None => Err(IntakeError::invalid(
            FIELD,
            "must be a Discord channel id: 1-20 digits, not 0",
        )),
    }
}

/// A TOTP code as the owner typed it: authenticator apps show `123 456`, so whitespace is
/// dropped; what is left must be exactly 6 digits. The server cannot check more: only the
/// Mac holds the secret.
pub fn approval_code(raw: &str) -> Result<String, IntakeError> {
    let code: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code)
    } else {
        Err(IntakeError::invalid(
            "code",
            "must be the 6-digit code from your authenticator app",
        ))
    }
}

/// An approval fingerprint: the short base32 code the worker showed. Owners type it on a
/// phone, so case, spaces and dashes are forgiven; the result is the canonical upper-case
/// form the worker reported (4-32 letters and digits).
pub fn fingerprint(raw: &str) -> Result<String, IntakeError> {
    let fingerprint: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if (4..=32).contains(&fingerprint.len())
        && fingerprint.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        Ok(fingerprint)
    } else {
        Err(IntakeError::invalid(
            "fingerprint",
            "must be the short code the worker showed (letters and digits)",
        ))
    }
}

/// An agent session as a request names it: the id by the ONE rule the worker checks too
/// ([`is_valid_session_id`]), so an id accepted here is never refused on the Mac. Empty
/// means absent. `new` says whether the task starts it.
pub fn session(id: Option<String>, new: bool) -> Result<Option<AgentSession>, IntakeError> {
    match id {
        None => Ok(None),
        Some(id) if id.is_empty() => Ok(None),
        Some(id) if is_valid_session_id(&id) => Ok(Some(AgentSession { id, new })),
        Some(_) => Err(IntakeError::invalid("sessionId", SESSION_ID_RULE)),
    }
}

/// An agent's name, as [`is_valid_agent_name`] allows.
pub fn agent_name(name: &str) -> Result<(), IntakeError> {
    if is_valid_agent_name(name) {
        Ok(())
    } else {
        Err(IntakeError::invalid("agent", AGENT_NAME_RULE))
    }
}

/// Checks base64 `content` and its DECODED size against `limit`, and returns it in canonical
/// form (padded, no whitespace: `base64` wraps lines at 76 by default).
pub fn base64_content(content: &str, limit: usize) -> Result<String, IntakeError> {
    let compact: String = content
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    // Refuse obviously oversized content before allocating its decoded form.
    if compact.len() > limit.div_ceil(3).saturating_mul(4) {
        return Err(IntakeError::new("content", Problem::TooLong { limit }));
    }
    let bytes = LENIENT_BASE64
        .decode(compact.as_bytes())
        .map_err(|err| IntakeError::invalid("content", format!("is not valid base64: {err}")))?;
    if bytes.len() > limit {
        return Err(IntakeError::new("content", Problem::TooLong { limit }));
    }
    Ok(STANDARD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_command_is_required_like_the_original() {
        let err = non_blank("command", "  ", 10).unwrap_err();

        assert_eq!(err.to_string(), "command is required");
    }

    #[test]
    fn too_long_names_field_and_limit() {
        let err = non_blank("path", "abcdef", 5).unwrap_err();

        assert_eq!(err.field, "path");
        assert_eq!(err.problem, Problem::TooLong { limit: 5 });
    }

    #[test]
    fn base64_is_checked_on_decoded_size_and_made_canonical() {
        assert_eq!(base64_content("aGk\n", 2).unwrap(), "aGk=");
        assert_eq!(
            base64_content("aGkh", 2).unwrap_err().problem,
            Problem::TooLong { limit: 2 }
        );
        assert!(matches!(
            base64_content("@@@@", 10).unwrap_err().problem,
            Problem::Invalid(_)
        ));
    }

    #[test]
    fn session_ids_cannot_pose_as_flags_and_follow_the_workers_rule() {
        assert!(session(Some("6f1c1a8e-7a51".into()), false)
            .unwrap()
            .is_some());
        assert!(session(Some("--dangerously-skip-permissions".into()), false).is_err());
        assert!(session(Some("a b".into()), false).is_err());
        // The worker refuses `.`; the bot once took it, and the task failed on the Mac.
        assert!(session(Some(".".into()), false).is_err());
        assert!(session(Some("a.b".into()), true).is_err());
        assert!(session(Some(String::new()), false).unwrap().is_none());
    }

    #[test]
    fn channel_ids_are_non_zero_snowflakes_in_canonical_form() {
        let discord = |raw: &str| match reply_channel(Some(raw.into())) {
            Ok(Some(ReplyChannel::Discord(id))) => Some(id.get()),
            _ => None,
        };
        assert_eq!(discord("123456789012345678"), Some(123_456_789_012_345_678));
        assert_eq!(discord("0042"), Some(42));
        assert_eq!(discord(&u64::MAX.to_string()), Some(u64::MAX));
        assert_eq!(reply_channel(Some(String::new())).unwrap(), None);
        for bad in [
            "0",
            "000",
            "18446744073709551616",
            "000000000000000000042",
            "99999999999999999999999",
        ] {
            assert!(reply_channel(Some(bad.into())).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn anything_else_is_a_channel_key_from_another_platform() {
        for key in ["#general", "telegram:-100123", "+42", "4 2"] {
            assert_eq!(
                reply_channel(Some(key.into())).unwrap(),
                Some(ReplyChannel::Key(key.into())),
                "{key:?}"
            );
        }
        for bad in ["a\nb", "   ", &"k".repeat(129)] {
            assert!(reply_channel(Some(bad.into())).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn codes_are_six_digits_with_spaces_forgiven() {
        assert_eq!(approval_code(" 123 456 ").unwrap(), "123456");
        for bad in ["12345", "1234567", "12345x", "١٢٣٤٥٦", ""] {
            assert!(approval_code(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn fingerprints_forgive_case_spaces_and_dashes() {
        assert_eq!(fingerprint("abcd 2345").unwrap(), "ABCD2345");
        assert_eq!(fingerprint("ABCD-2345").unwrap(), "ABCD2345");
        assert!(fingerprint("ab").is_err());
        assert!(fingerprint("ABCD$(id)").is_err());
        assert!(fingerprint(&"A".repeat(33)).is_err());
    }
}
