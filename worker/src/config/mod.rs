//! The worker's configuration: embedded defaults, then a TOML file, then the environment.
//! Validated once at startup; an invalid value stops the worker with a message naming the key.
//!
//! # Layout
//! - this file: [`Config`], its defaults, loading, and the home directory.
//! - `env.rs`: the environment overrides ([`ENV_PREFIX`], [`ORIGINAL_ENV_NAMES`]).
//! - `validate.rs`: [`Config::validate`], every value checked once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::Deserialize;

use crate::agents::AgentConfig;

mod env;
mod validate;

use env::env_overrides;
pub use env::{CONFIG_PATH_ENV, ENV_PREFIX, ORIGINAL_ENV_NAMES};

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
    /// Cap on captured stdout, and separately on stderr, per task: a longer stream keeps
    /// its first 64 KiB (a quarter of a smaller cap) and its last rest of the cap.
    pub max_output_bytes: usize,
    /// How often a running task's new output is sent to the server as live output, in
    /// milliseconds; 0 turns live output off (the result is sent as before either way).
    pub live_output_interval_ms: u64,
    /// Largest file a read task returns.
    pub max_read_bytes: u64,
    /// Working directory for tasks that name none; relative file paths resolve against it.
    pub default_cwd: PathBuf,
    /// The Claude Code CLI: a name looked up in PATH, or a path.
    pub claude_bin: String,
    /// Extra arguments passed to every `claude` run, before the prompt.
    pub claude_args: Vec<String>,
    /// Agent CLIs besides Claude, by name (`[agents.<name>]`): program, argv template,
    /// session flags, tier. See [`crate::agents`].
    pub agents: BTreeMap<String, AgentConfig>,
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
            live_output_interval_ms: 1000,
            max_read_bytes: 10 * 1024 * 1024,
            default_cwd: home_dir().unwrap_or_else(|| PathBuf::from("/")),
            claude_bin: "claude".into(),
            claude_args: Vec::new(),
            agents: BTreeMap::new(),
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
    crate::files::WorkerFiles::default_dir(&home_dir().unwrap_or_else(|| PathBuf::from("/")))
}

/// The config file to read: `explicit` when given, else `config.toml` in the default
/// directory if `openclaw-worker init` wrote one there, else none (defaults + environment).
pub fn locate(explicit: Option<PathBuf>) -> Option<PathBuf> {
    explicit.or_else(|| {
        let file = crate::files::WorkerFiles::new(default_dir()).config();
        file.is_file().then_some(file)
    })
}

/// Why the configuration cannot be used. Each message names the file or key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file named cannot be read.
    #[error("cannot read config file {path}: {source}")]
    ReadFile {
        /// The config file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file or the environment is not valid TOML, or not the config's shape.
    #[error("invalid configuration: {0}")]
    Parse(Box<figment::Error>),
    /// A value is out of range or malformed.
    #[error("invalid value for `{key}`: {reason}")]
    Invalid {
        /// The key at fault, e.g. `max_concurrent`.
        key: &'static str,
        /// Why.
        reason: String,
    },
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
mod tests;
