//! Wall-clock time as the queue stores it: milliseconds since the Unix epoch.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use openclaw_shared::EpochMillis;

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> EpochMillis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, duration_millis)
}

/// `duration` in whole milliseconds, saturating at `u64::MAX` (some 584 million years).
pub(super) fn duration_millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
