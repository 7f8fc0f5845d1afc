//! `openclaw-worker init`: writes a starter config and policy into a private directory,
//! generates the TOTP secret (into the login Keychain on macOS, else a 0600 file; see
//! [`crate::approval::secret_store`]), and returns the otpauth:// URI and a terminal QR
//! code for the owner's authenticator app. Never overwrites anything: a second `init` must
//! not silently replace a secret an authenticator already holds.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use qrcode::render::unicode::Dense1x2;
use qrcode::QrCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::approval::secret_store::{
    platform_keychain, Keychain, SecretLocation, SecretStore, Stored,
};
use crate::approval::totp::{TotpError, TotpSecret};
use crate::policy::lock::WorkerLock;

/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "OpenClaw";

/// Where the worker keeps its files: one private directory, by default
/// `~/.config/openclaw-worker`. Every path in it is protected by the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerFiles {
    /// The directory (0700).
    pub dir: PathBuf,
}

impl WorkerFiles {
    /// The layout under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The default directory for a user whose home is `home`.
    pub fn default_dir(home: &Path) -> PathBuf {
        home.join(".config/openclaw-worker")
    }

    /// The worker config (holds the worker token).
    pub fn config(&self) -> PathBuf {
        self.dir.join("config.toml")
    }

    /// The policy file.
    pub fn policy(&self) -> PathBuf {
        self.dir.join("policy.toml")
    }

    /// State written while running (0700).
    pub fn state_dir(&self) -> PathBuf {
        self.dir.join("state")
    }

    /// The files in the state directory.
    pub fn state(&self) -> StateFiles {
        StateFiles::new(self.state_dir())
    }

    /// The TOTP secret (0600).
    pub fn totp_secret(&self) -> PathBuf {
        self.state().totp_secret()
    }

    /// The canary lock.
    pub fn lock(&self) -> WorkerLock {
        self.state().lock()
    }

    /// Everything a task must never touch: the whole directory.
    pub fn protected(&self) -> Vec<PathBuf> {
        vec![self.dir.clone()]
    }
}

/// The files in a state directory (the config's `state_dir`, by default `state/` in
/// [`WorkerFiles`]). Created 0700 by `init` or at the worker's first start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateFiles {
    /// The directory.
    pub dir: PathBuf,
}

impl StateFiles {
    /// The layout under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The TOTP secret file (0600), where the secret is kept without a Keychain.
    pub fn totp_secret(&self) -> PathBuf {
        self.dir.join("totp.secret")
    }

    /// Where this state directory's TOTP secret is kept: the `keychain` item named after
    /// the directory, or the secret file.
    pub fn totp_store<'k>(&self, keychain: Option<&'k dyn Keychain>) -> SecretStore<'k> {
        SecretStore::new(
            self.totp_secret(),
            self.dir.to_string_lossy().into_owned(),
            keychain,
        )
    }

    /// The highest TOTP step used.
    pub fn replay_store(&self) -> PathBuf {
        self.dir.join("totp.last_step")
    }

    /// The audit log.
    pub fn audit_log(&self) -> PathBuf {
        self.dir.join("audit.jsonl")
    }

    /// The audit log's head file.
    pub fn audit_head(&self) -> PathBuf {
        self.dir.join("audit.head")
    }

    /// The canary lock.
    pub fn lock(&self) -> WorkerLock {
        WorkerLock::new(&self.dir)
    }
}

/// What `init` needs to know.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Where to write (see [`WorkerFiles`]).
    pub dir: PathBuf,
    /// The bot's URL.
    pub server_url: String,
    /// This worker's name (also the account label in the authenticator).
    pub worker_name: String,
    /// The worker token, when known; the config gets a placeholder comment otherwise.
    pub token: Option<SecretString>,
    /// Whether to keep the secret in the login Keychain where there is one (macOS);
    /// the file otherwise, or when the Keychain refuses it.
    pub keychain: bool,
}

/// What `init` did, for `main` to print.
#[derive(Debug)]
pub struct InitReport {
    /// The files written.
    pub files: WorkerFiles,
    /// Where the TOTP secret went (and why not the Keychain, if it failed).
    pub secret: Stored,
    /// The `otpauth://` URI (contains the secret: show it once, never log it).
    pub otpauth_uri: String,
    /// The URI as a QR code in Unicode half blocks, for a dark-background terminal.
    pub qr: String,
}

/// Why `init` stopped. Nothing is overwritten in any case.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// A file `init` would write already exists.
    #[error("{0} already exists; remove it first if you really mean to start over")]
    Exists(PathBuf),
    /// The worker name is not valid (it is also the authenticator's account label).
    #[error("invalid worker name `{0}`: use 1-64 of A-Z a-z 0-9 . _ -")]
    Name(String),
    /// A file or directory could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// What was being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The secret could not be generated or stored.
    #[error(transparent)]
    Totp(#[from] TotpError),
    /// The QR code could not be built.
    #[error("cannot render the QR code: {0}")]
    Qr(String),
    /// The starter config could not be encoded.
    #[error("cannot encode the starter config: {0}")]
    Encode(#[from] toml::ser::Error),
}

/// The starter policy: the built-in defaults, written out with a comment on every key.
pub const STARTER_POLICY: &str = include_str!("policy.toml");

/// Writes the starter files and the secret; returns the otpauth URI and its QR code.
pub fn init(options: &InitOptions) -> Result<InitReport, InitError> {
    let keychain = if options.keychain {
        platform_keychain(|_| None)
    } else {
        None
    };
    init_with(options, keychain)
}

/// [`init`] with the Keychain to use (`None`: the file).
pub(crate) fn init_with(
    options: &InitOptions,
    keychain: Option<&dyn Keychain>,
) -> Result<InitReport, InitError> {
    if !openclaw_shared::worker::is_valid_worker_name(&options.worker_name) {
        return Err(InitError::Name(options.worker_name.clone()));
    }
    let files = WorkerFiles::new(&options.dir);
    for path in [files.config(), files.policy()] {
        if std::fs::symlink_metadata(&path).is_ok() {
            return Err(InitError::Exists(path));
        }
    }
    let store = files.state().totp_store(keychain);
    match store.existing() {
        Some(SecretLocation::File(path)) => return Err(InitError::Exists(path)),
        Some(item @ SecretLocation::Keychain { .. }) => {
            return Err(TotpError::KeychainItemExists(item.to_string()).into())
        }
        None => {}
    }
    private_dir(&files.dir)?;
    private_dir(&files.state_dir())?;

    let secret = TotpSecret::generate()?;
    let otpauth_uri = secret
        .otpauth_uri(ISSUER, &options.worker_name)
        .ok_or_else(|| InitError::Name(options.worker_name.clone()))?;
    let qr = render_qr(&otpauth_uri)?;

    write_new(&files.config(), &starter_config(options)?)?;
    write_new(&files.policy(), STARTER_POLICY)?;
    let secret_stored = store.store_new(&secret)?;
    Ok(InitReport {
        files,
        secret: secret_stored,
        otpauth_uri,
        qr,
    })
}

/// The URI as a QR code: light modules as blocks, so it scans on a dark terminal.
pub fn render_qr(text: &str) -> Result<String, InitError> {
    let code = QrCode::new(text.as_bytes()).map_err(|err| InitError::Qr(err.to_string()))?;
    Ok(code
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .build())
}

#[derive(Serialize)]
struct StarterConfig<'a> {
    server_url: &'a str,
    name: &'a str,
    // Written out, so a worker started with this config finds its files wherever `init`
    // put them (`--dir`).
    policy_path: String,
    state_dir: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
}

fn starter_config(options: &InitOptions) -> Result<String, InitError> {
    let files = WorkerFiles::new(&options.dir);
    let values = StarterConfig {
        server_url: &options.server_url,
        name: &options.worker_name,
        policy_path: files.policy().to_string_lossy().into_owned(),
        state_dir: files.state_dir().to_string_lossy().into_owned(),
        token: options.token.as_ref().map(|t| t.expose_secret()),
    };
    // Serialized, not formatted, so quotes or backslashes in a value stay valid TOML.
    let body = toml::to_string(&values)?;
    let token_hint = if options.token.is_none() {
        "# token = \"…\"   # the worker token the bot printed on its first start (or WORKER_TOKEN)\n"
    } else {
        ""
    };
    Ok(format!(
        "# openclaw-worker configuration, written by `openclaw-worker init`.\n\
         # Every key is described in config.example.toml. This file holds the worker token:\n\
         # keep it private (mode 0600). The policy is policy.toml next to this file.\n\
         {body}{token_hint}"
    ))
}

/// Creates `dir` (and parents) and makes it 0700.
fn private_dir(dir: &Path) -> Result<(), InitError> {
    let io_err = |source| InitError::Io {
        path: dir.to_owned(),
        source,
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_err)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io_err)
}

/// Writes a new 0600 file; an existing one is an error.
fn write_new(path: &Path, text: &str) -> Result<(), InitError> {
    let io_err = |source| InitError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::AlreadyExists => InitError::Exists(path.to_owned()),
            _ => io_err(err),
        })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_err)
}

#[cfg(test)]
mod tests;
