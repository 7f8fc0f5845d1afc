//! Environment overrides: `OPENCLAW_WORKER_<KEY>` for any key, and the original OpenClaw
//! Worker's names (`WORKER_URL`, `WORKER_TOKEN`, …) for the keys it had.

use figment::value::{Dict, Value};

/// Prefix of the environment variables that override any key (`OPENCLAW_WORKER_MAX_CONCURRENT`).
pub const ENV_PREFIX: &str = "OPENCLAW_WORKER_";
/// Environment variable naming the config file when `--config` is not given.
pub const CONFIG_PATH_ENV: &str = "OPENCLAW_WORKER_CONFIG";
/// The original OpenClaw Worker's environment names, and the key each one sets. They apply
/// before the `OPENCLAW_WORKER_*` names, which win when both are set.
pub const ORIGINAL_ENV_NAMES: [(&str, &str); 4] = [
    ("WORKER_URL", "server_url"),
    ("WORKER_TOKEN", "token"),
    ("WORKER_NAME", "name"),
    ("MAX_CONCURRENT", "max_concurrent"),
];
/// Keys whose environment values are always strings, even when they look like a number or
/// a boolean (a numeric token or host name must not turn into an integer).
const STRING_KEYS: [&str; 9] = [
    "server_url",
    "server_ca_file",
    "token",
    "name",
    "default_cwd",
    "claude_bin",
    "policy_path",
    "state_dir",
    "notify_webhook_url",
];

/// Turns environment variables into config keys: the original's names first, then
/// `OPENCLAW_WORKER_<KEY>`. Empty values are ignored, as `.env` templates leave them blank.
pub(super) fn env_overrides(env: impl IntoIterator<Item = (String, String)>) -> Dict {
    let mut original = Dict::new();
    let mut prefixed = Dict::new();
    for (name, raw) in env {
        if raw.is_empty() || name == CONFIG_PATH_ENV {
            continue;
        }
        let (target, key) = if let Some(key) = name.strip_prefix(ENV_PREFIX) {
            (&mut prefixed, key.to_ascii_lowercase())
        } else if let Some((_, key)) = ORIGINAL_ENV_NAMES.iter().find(|(n, _)| *n == name) {
            (&mut original, (*key).to_owned())
        } else {
            continue;
        };
        let value = if STRING_KEYS.contains(&key.as_str()) {
            Value::from(raw)
        } else {
            raw.parse::<Value>().unwrap_or_else(|never| match never {})
        };
        target.insert(key, value);
    }
    original.extend(prefixed);
    original
}
