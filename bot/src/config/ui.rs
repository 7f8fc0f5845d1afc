//! `[ui]`: the web task monitor at `/ui`.

use serde::Deserialize;

/// `[ui]`: whether `/ui` is served, and how long a login lasts.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UiConfig {
    /// Serve the monitor at `/ui` (log in with the admin token).
    pub enabled: bool,
    /// A login lasts this long, in seconds, however active; then log in again.
    pub session_ttl_secs: u64,
}

impl Default for UiConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            session_ttl_secs: 12 * 3600,
        }
    }
}
