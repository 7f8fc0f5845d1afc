//! The worker's configuration: embedded defaults, then a TOML file, then the environment.
//! Validated once at startup; an invalid value stops the worker with a message naming the key.

use std::path::{Path, PathBuf};

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Value};
use figment::Figment;
use openclaw_shared::worker::{is_valid_worker_name, MAX_CLAIM_SLOTS, MAX_CLAIM_WAIT_MS};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

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

/// Largest output cap per stream: two full streams must fit in the bot's default 32 MiB body.
const MAX_OUTPUT_CAP: usize = 12 * 1024 * 1024;
/// Largest file read: base64 grows content by 4/3, and the result must fit in 32 MiB.
const MAX_READ_CAP: u64 = 20 * 1024 * 1024;

/// Everything the worker can be configured with. Every key is documented, with its default,
/// in the `# ---- openclaw-worker ----` section of `config.example.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Base URL of the bot's HTTP API (a path prefix is kept, for reverse proxies).
    pub server_url: String,
    /// Extra CA certificates (PEM) trusted for `server_url`, besides the built-in public
    /// roots: for a bot behind a proxy with a private CA (e.g. Caddy's `tls internal`).
    pub server_ca_file: Option<PathBuf>,
    /// The worker token the bot printed on its first start. Required.
    pub token: SecretString,
    /// This worker's name; tasks may target it. Defaults to the host name.
    pub name: String,
    /// How many tasks run at once; the worker only claims what it has free slots for.
    pub max_concurrent: u32,
    /// How long one claim waits on the server for a task (the long poll).
    pub poll_wait_secs: u64,
    /// How often held leases are extended while tasks run or results wait for delivery.
    pub heartbeat_interval_secs: u64,
    /// The shell argv prefix; the command string is appended as ONE more argument.
    pub shell: Vec<String>,
    /// How long a killed task's process group gets between SIGTERM and SIGKILL.
    pub kill_grace_secs: u64,
    /// On SIGINT/SIGTERM, how long running tasks may finish before they are killed (and
    /// then how long undelivered results are retried before the worker exits anyway).
    pub shutdown_grace_secs: u64,
    /// Cap on captured stdout, and separately on stderr, per task.
    pub max_output_bytes: usize,
    /// Largest file a read task returns.
    pub max_read_bytes: u64,
    /// Working directory for tasks that name none; relative file paths resolve against it.
    pub default_cwd: PathBuf,
    /// The Claude Code CLI: a name looked up in PATH, or a path.
    pub claude_bin: String,
    /// Extra arguments passed to every `claude` run, before the prompt.
    pub claude_args: Vec<String>,
    /// The local policy file. The worker refuses to start without it, or when it (or its
    /// directory) can be changed by anyone but this user.
    pub policy_path: PathBuf,
    /// Where the worker keeps its state: TOTP secret, replay store, audit log, canary lock.
    pub state_dir: PathBuf,
    /// A Discord webhook URL only this Mac knows: approval requests are posted there by the
    /// worker itself, so the owner reads what will run from the Mac, not from the bot.
    pub notify_webhook_url: Option<SecretString>,
    /// The file this config was read from (not a key): the policy protects it.
    #[serde(skip)]
    pub file: Option<PathBuf>,
}

impl Default for Config {
    /// The embedded defaults. `token` is empty here, which [`Config::validate`] refuses.
    fn default() -> Self {
        Self {
            server_url: "http://127.0.0.1:3456".into(),
            server_ca_file: None,
            token: SecretString::default(),
            name: default_name(),
            max_concurrent: 3,
            poll_wait_secs: 25,
            heartbeat_interval_secs: 5,
            shell: default_shell(),
            kill_grace_secs: 5,
            shutdown_grace_secs: 30,
            max_output_bytes: 1024 * 1024,
            max_read_bytes: 10 * 1024 * 1024,
            default_cwd: home_dir().unwrap_or_else(|| PathBuf::from("/")),
            claude_bin: "claude".into(),
            claude_args: Vec::new(),
            policy_path: default_dir().join("policy.toml"),
            state_dir: default_dir().join("state"),
            notify_webhook_url: None,
            file: None,
        }
    }
}

/// The worker's own directory by default (`~/.config/openclaw-worker`), where
/// `openclaw-worker init` writes the config, the policy and the state directory.
pub fn default_dir() -> PathBuf {
    crate::init::WorkerFiles::default_dir(&home_dir().unwrap_or_else(|| PathBuf::from("/")))
}

/// The config file to read: `explicit` when given, else `config.toml` in the default
/// directory if `openclaw-worker init` wrote one there, else none (defaults + environment).
pub fn locate(explicit: Option<PathBuf>) -> Option<PathBuf> {
    explicit.or_else(|| {
        let file = crate::init::WorkerFiles::new(default_dir()).config();
        file.is_file().then_some(file)
    })
}

/// Why the configuration cannot be used. Each message names the file or key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Parse(Box<figment::Error>),
    #[error("invalid value for `{key}`: {reason}")]
    Invalid { key: &'static str, reason: String },
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        reason: reason.into(),
    }
}

impl Config {
    /// Loads defaults, then `file` (if any), then overrides from `env` (pass
    /// `std::env::vars()`), and validates the result.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        Self::load_local(file, env)?.validate()
    }

    /// Loads like [`Config::load`] but checks only the local paths, not the server
    /// settings: `unlock` and `audit` must work without a token.
    pub fn load_local(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = file {
            // Read it ourselves: figment silently treats a missing file as empty, and a
            // typo in `--config` must not start a worker on defaults.
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
                path: path.to_owned(),
                source,
            })?;
            figment = figment.merge(Toml::string(&text));
        }
        figment = figment.merge(Serialized::globals(env_overrides(env)));
        let mut config: Config = figment
            .extract()
            .map_err(|err| ConfigError::Parse(Box::new(err)))?;
        config.file = file.map(Path::to_owned);
        config.normalize_paths()
    }

    /// Expands `~` in the local paths and requires them to be absolute.
    fn normalize_paths(mut self) -> Result<Self, ConfigError> {
        let home = home_dir();
        self.policy_path = expand_tilde(&self.policy_path.to_string_lossy(), home.clone());
        if !self.policy_path.is_absolute() {
            return Err(invalid("policy_path", "must be an absolute path"));
        }
        self.state_dir = expand_tilde(&self.state_dir.to_string_lossy(), home.clone());
        if !self.state_dir.is_absolute() {
            return Err(invalid("state_dir", "must be an absolute path"));
        }
        if let Some(file) = &self.server_ca_file {
            let file = expand_tilde(&file.to_string_lossy(), home);
            if !file.is_absolute() {
                return Err(invalid("server_ca_file", "must be an absolute path"));
            }
            self.server_ca_file = Some(file);
        }
        Ok(self)
    }

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

/// Turns environment variables into config keys: the original's names first, then
/// `OPENCLAW_WORKER_<KEY>`. Empty values are ignored, as `.env` templates leave them blank.
fn env_overrides(env: impl IntoIterator<Item = (String, String)>) -> Dict {
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

/// The default shell prefix: a login zsh on macOS (so the user's PATH from `~/.zprofile`
/// applies, as in Terminal), plain `sh` elsewhere.
fn default_shell() -> Vec<String> {
    let argv: &[&str] = if cfg!(target_os = "macos") {
        &["/bin/zsh", "-l", "-c"]
    } else {
        &["/bin/sh", "-c"]
    };
    argv.iter().map(|s| (*s).to_owned()).collect()
}

/// The host name, made into a valid worker name (other characters become `-`).
fn default_name() -> String {
    let host = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(openclaw_shared::worker::MAX_WORKER_NAME_LEN)
        .collect();
    if name.is_empty() {
        name = "worker".into();
    }
    name
}

/// The user's home directory: `$HOME`, else the password database.
pub fn home_dir() -> Option<PathBuf> {
    match std::env::var_os("HOME") {
        Some(home) if !home.is_empty() => Some(PathBuf::from(home)),
        _ => nix::unistd::User::from_uid(nix::unistd::getuid())
            .ok()
            .flatten()
            .map(|user| user.dir),
    }
}

/// Expands a leading `~` or `~/` to `home`. Other forms (`~user`) are left as they are.
pub fn expand_tilde(path: &str, home: Option<PathBuf>) -> PathBuf {
    match (path.strip_prefix('~'), home) {
        (Some(""), Some(home)) => home,
        (Some(rest), Some(home)) if rest.starts_with('/') => {
            home.join(rest.trim_start_matches('/'))
        }
        _ => PathBuf::from(path),
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
