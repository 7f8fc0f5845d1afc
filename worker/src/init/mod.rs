//! `openclaw-worker init`: writes a starter config and policy into a private directory,
//! generates the TOTP secret (into the login Keychain on macOS, else a 0600 file; see
//! [`crate::approval::secret_store`]), and returns the otpauth:// URI and a terminal QR
//! code for the owner's authenticator app. Never overwrites anything: a second `init` must
//! not silently replace a secret an authenticator already holds.

use std::path::{Path, PathBuf};

use qrcode::render::unicode::Dense1x2;
use qrcode::QrCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::approval::secret_store::{
    platform_keychain, Keychain, SecretLocation, SecretStore, Stored,
};
use crate::approval::totp::{TotpError, TotpSecret};
use crate::files::{make_private_dir, write_new_private, WorkerFiles};

/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "OpenClaw";

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
    let store = SecretStore::for_state(&files.state(), keychain);
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
    make_private_dir(dir).map_err(|source| InitError::Io {
        path: dir.to_owned(),
        source,
    })
}

/// Writes a new 0600 file; an existing one is an error.
fn write_new(path: &Path, text: &str) -> Result<(), InitError> {
    write_new_private(path, text.as_bytes()).map_err(|err| match err.kind() {
        std::io::ErrorKind::AlreadyExists => InitError::Exists(path.to_owned()),
        _ => InitError::Io {
            path: path.to_owned(),
            source: err,
        },
    })
}

#[cfg(test)]
mod tests;
