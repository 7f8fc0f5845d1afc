//! Validation of a loaded config: every value checked once at startup, failing with the
//! first key at fault.

use openclaw_shared::worker::{is_valid_worker_name, MAX_CLAIM_SLOTS, MAX_CLAIM_WAIT_MS};
use secrecy::ExposeSecret;

use super::{expand_tilde, home_dir, invalid, Config, ConfigError};

/// Largest output cap per stream: two full streams must fit in the bot's default 32 MiB body.
const MAX_OUTPUT_CAP: usize = 12 * 1024 * 1024;
/// Largest file read: base64 grows content by 4/3, and the result must fit in 32 MiB.
const MAX_READ_CAP: u64 = 20 * 1024 * 1024;

impl Config {
    /// Checks every value and normalizes the paths (`~` expanded). Returns the config
    /// ready to run, or the first invalid key.
    pub fn validate(self) -> Result<Self, ConfigError> {
        let mut this = self.normalize_paths()?;
        this.validate_server_and_limits()?;
        Ok(this)
    }

    fn validate_server_and_limits(&mut self) -> Result<(), ConfigError> {
        let url = reqwest::Url::parse(&self.server_url)
            .map_err(|err| invalid("server_url", format!("not a URL ({err})")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(invalid("server_url", "must be an http:// or https:// URL"));
        }
        let token = self.token.expose_secret();
        if token.is_empty() {
            return Err(invalid(
                "token",
                "missing: set WORKER_TOKEN (or `token` in the config file) to the worker \
                 token the bot printed on its first start",
            ));
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid(
                "token",
                "must be printable ASCII without spaces (check for a stray newline or quote)",
            ));
        }
        if !is_valid_worker_name(&self.name) {
            return Err(invalid(
                "name",
                "must be 1-64 characters of A-Z a-z 0-9 . _ -",
            ));
        }
        if !(1..=MAX_CLAIM_SLOTS).contains(&self.max_concurrent) {
            return Err(invalid(
                "max_concurrent",
                format!("must be between 1 and {MAX_CLAIM_SLOTS}"),
            ));
        }
        let max_wait_secs = MAX_CLAIM_WAIT_MS / 1000;
        if !(1..=max_wait_secs).contains(&self.poll_wait_secs) {
            return Err(invalid(
                "poll_wait_secs",
                format!("must be between 1 and {max_wait_secs} (the server's cap)"),
            ));
        }
        // A lease lasts about a minute without a heartbeat; beating less often than every
        // 30 s risks losing running tasks on one slow request.
        if !(1..=30).contains(&self.heartbeat_interval_secs) {
            return Err(invalid(
                "heartbeat_interval_secs",
                "must be between 1 and 30",
            ));
        }
        if self.shell.first().is_none_or(|program| program.is_empty()) {
            return Err(invalid(
                "shell",
                "must name a program, e.g. [\"/bin/sh\", \"-c\"]",
            ));
        }
        if self.kill_grace_secs > 300 {
            return Err(invalid("kill_grace_secs", "must be at most 300"));
        }
        if self.shutdown_grace_secs > 3600 {
            return Err(invalid("shutdown_grace_secs", "must be at most 3600"));
        }
        if !(1..=MAX_OUTPUT_CAP).contains(&self.max_output_bytes) {
            return Err(invalid(
                "max_output_bytes",
                format!("must be between 1 and {MAX_OUTPUT_CAP}"),
            ));
        }
        if (1..200).contains(&self.live_output_interval_ms) {
            return Err(invalid(
                "live_output_interval_ms",
                "must be 0 (off) or at least 200",
            ));
        }
        if !(1..=MAX_READ_CAP).contains(&self.max_read_bytes) {
            return Err(invalid(
                "max_read_bytes",
                format!("must be between 1 and {MAX_READ_CAP}"),
            ));
        }
        self.default_cwd = expand_tilde(&self.default_cwd.to_string_lossy(), home_dir());
        if !self.default_cwd.is_absolute() {
            return Err(invalid("default_cwd", "must be an absolute path"));
        }
        if !self.default_cwd.is_dir() {
            return Err(invalid(
                "default_cwd",
                format!("{} is not a directory", self.default_cwd.display()),
            ));
        }
        if self.claude_bin.is_empty() {
            return Err(invalid("claude_bin", "must not be empty"));
        }
        for (name, agent) in &self.agents {
            agent
                .validate(name)
                .map_err(|reason| invalid("agents", reason))?;
        }
        if let Some(url) = &self.notify_webhook_url {
            validate_webhook(url.expose_secret())?;
        }
        Ok(())
    }
}

/// A webhook URL must be https (a plain-http URL would show the approval request, and the
/// webhook's own secret, to the network), except to this machine (tests, local relays).
fn validate_webhook(raw: &str) -> Result<(), ConfigError> {
    let url = reqwest::Url::parse(raw).map_err(|_| {
        // The URL holds the webhook's secret: never echo it back.
        invalid("notify_webhook_url", "not a URL")
    })?;
    let loopback = crate::is_loopback_url(raw);
    match url.scheme() {
        "https" if url.host_str().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(invalid(
            "notify_webhook_url",
            "must be an https:// URL (a Discord webhook URL)",
        )),
    }
}
