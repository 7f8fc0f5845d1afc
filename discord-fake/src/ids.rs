//! Snowflake ids and timestamps in Discord's formats, so every object the fake hands out parses in
//! serenity and sorts by creation time the way real ids do; ids the bot sends read back as text.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Discord's epoch (2015-01-01T00:00:00Z) in milliseconds since the Unix epoch.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// The last snowflake handed out, shared by every fake in the process so ids never repeat even
/// when two fakes run in parallel tests.
static LAST_SNOWFLAKE: AtomicU64 = AtomicU64::new(0);

/// Returns a fresh, strictly increasing snowflake whose timestamp part is the current time.
pub(crate) fn next_snowflake() -> u64 {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let time_based = now_ms.saturating_sub(DISCORD_EPOCH_MS) << 22;
    let mut last = LAST_SNOWFLAKE.load(Ordering::Relaxed);
    loop {
        let next = time_based.max(last + 1);
        match LAST_SNOWFLAKE.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => return next,
            Err(actual) => last = actual,
        }
    }
}

/// Formats a wall-clock time as the ISO 8601 string Discord puts in `timestamp` fields.
pub(crate) fn iso8601(at: SystemTime) -> String {
    OffsetDateTime::from(at)
        .format(&Rfc3339)
        .unwrap_or_else(|_| "2015-01-01T00:00:00Z".to_owned())
}

/// Returns an unguessable-looking interaction token; tokens only need to be unique per fake.
pub(crate) fn interaction_token(interaction_id: u64) -> String {
    format!("aW50ZXJhY3Rpb24.{interaction_id:x}.fake-token")
}

/// Renders an `id` that may be sent as a number or a string.
pub(crate) fn id_string(id: Option<&Value>) -> String {
    match id {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflakes_strictly_increase() {
        let a = next_snowflake();
        let b = next_snowflake();

        assert!(b > a);
    }

    #[test]
    fn snowflakes_carry_the_current_time() {
        let id = next_snowflake();

        let ms = (id >> 22) + DISCORD_EPOCH_MS;
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        assert!(now_ms.abs_diff(ms) < 60_000, "{ms} vs {now_ms}");
    }

    #[test]
    fn timestamps_are_rfc3339_in_utc() {
        let s = iso8601(UNIX_EPOCH);

        assert_eq!(s, "1970-01-01T00:00:00Z");
    }
}
