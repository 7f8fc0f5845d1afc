//! Where the TOTP secret is kept. On macOS, in the login Keychain when it can be used: a
//! task cannot reach it even in theory (the sandbox hides `~/Library/Keychains` and
//! denies the keychain daemon, and the item's access list names only the program that
//! created it). Elsewhere, and as the fallback, in a 0600 file in the state directory,
//! which the sandbox hides as well.
//!
//! The choice (Keychain first, then the file; never replace a secret) is plain code tested
//! everywhere. The Keychain itself (`keychain_macos.rs`) is UNTESTED ON A MAC: only
//! type-checked for `aarch64-apple-darwin`.

use std::fmt;
use std::path::PathBuf;

use super::totp::{TotpError, TotpSecret};
use crate::files::StateFiles;

#[cfg(target_os = "macos")]
mod keychain_macos;

/// The Keychain item's service; its account is the state directory, so two workers on
/// one Mac (or a test's temp state) keep separate secrets.
pub const KEYCHAIN_SERVICE: &str = "openclaw-worker TOTP secret";

/// Set to `0` to keep the secret in the file even on macOS (a worker started before
/// login, when the login Keychain is locked; tests that read the file).
pub const KEYCHAIN_ENV: &str = "OPENCLAW_TOTP_KEYCHAIN";

/// Where a secret is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretLocation {
    /// A generic-password item in the login Keychain.
    Keychain {
        /// The item's service ([`KEYCHAIN_SERVICE`]).
        service: String,
        /// The item's account (the state directory).
        account: String,
    },
    /// A 0600 file.
    File(PathBuf),
}

impl fmt::Display for SecretLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretLocation::Keychain { service, account } => write!(
                f,
                "the login Keychain (item \"{service}\", account \"{account}\")"
            ),
            SecretLocation::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Why the Keychain could not be used (its own message: locked, access denied, …).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct KeychainError(pub String);

/// A store of one secret per account, such as the macOS login Keychain.
pub trait Keychain {
    /// The secret stored for `account`; `Ok(None)` when there is no such item.
    fn get(&self, account: &str) -> Result<Option<Vec<u8>>, KeychainError>;
    /// Stores `secret` for `account`, which has none yet.
    fn add(&self, account: &str, secret: &[u8]) -> Result<(), KeychainError>;
}

/// Whether the owner lets the secret go to a Keychain: yes unless `env` sets
/// [`KEYCHAIN_ENV`] to `0`.
pub fn keychain_enabled(env: impl Fn(&str) -> Option<String>) -> bool {
    env(KEYCHAIN_ENV).is_none_or(|value| value.trim() != "0")
}

/// This platform's Keychain: the login Keychain on macOS when [`keychain_enabled`]; none
/// elsewhere.
pub fn platform_keychain(env: impl Fn(&str) -> Option<String>) -> Option<&'static dyn Keychain> {
    if !keychain_enabled(env) {
        return None;
    }
    #[cfg(target_os = "macos")]
    {
        Some(&keychain_macos::LoginKeychain)
    }
    #[cfg(not(target_os = "macos"))]
    {
        None
    }
}

/// What [`SecretStore::store_new`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Where the secret went.
    pub location: SecretLocation,
    /// Why it is in the file although a Keychain was there to try.
    pub keychain_failed: Option<KeychainError>,
}

/// The secret's home for one state directory: a Keychain item when there is a Keychain,
/// and the state directory's secret file.
pub struct SecretStore<'k> {
    file: PathBuf,
    account: String,
    keychain: Option<&'k dyn Keychain>,
}

impl fmt::Debug for SecretStore<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretStore")
            .field("file", &self.file)
            .field("account", &self.account)
            .field("keychain", &self.keychain.is_some())
            .finish()
    }
}

impl<'k> SecretStore<'k> {
    /// The store for the secret file `file`, whose Keychain item (if `keychain`) is named
    /// by `account`.
    pub fn new(file: PathBuf, account: String, keychain: Option<&'k dyn Keychain>) -> Self {
        Self {
            file,
            account,
            keychain,
        }
    }

    /// Where the TOTP secret of the state directory `state` is kept: the `keychain` item
    /// named after the directory, or the directory's secret file.
    pub fn for_state(state: &StateFiles, keychain: Option<&'k dyn Keychain>) -> Self {
        Self::new(
            state.totp_secret(),
            state.dir.to_string_lossy().into_owned(),
            keychain,
        )
    }

    fn keychain_location(&self) -> SecretLocation {
        SecretLocation::Keychain {
            service: KEYCHAIN_SERVICE.to_owned(),
            account: self.account.clone(),
        }
    }

    /// Where a secret already is, if anywhere. A Keychain that cannot be read counts as
    /// holding none (storing then falls back to the file).
    pub fn existing(&self) -> Option<SecretLocation> {
        if let Some(keychain) = self.keychain {
            if let Ok(Some(_)) = keychain.get(&self.account) {
                return Some(self.keychain_location());
            }
        }
        std::fs::symlink_metadata(&self.file)
            .is_ok()
            .then(|| SecretLocation::File(self.file.clone()))
    }

    /// The secret and where it was found: the Keychain item first, then the file;
    /// `Ok(None)` when neither exists. A Keychain that fails (locked, access refused) is
    /// an error unless the file holds a secret, so a worker never runs believing it has
    /// no secret when the owner stored one.
    pub fn load(&self) -> Result<Option<(TotpSecret, SecretLocation)>, TotpError> {
        let mut keychain_failed = None;
        if let Some(keychain) = self.keychain {
            match keychain.get(&self.account) {
                Ok(Some(bytes)) => {
                    let secret = std::str::from_utf8(&bytes)
                        .ok()
                        .and_then(TotpSecret::from_base32)
                        .ok_or_else(|| {
                            TotpError::Keychain(format!(
                                "{} does not hold a valid secret",
                                self.keychain_location()
                            ))
                        })?;
                    return Ok(Some((secret, self.keychain_location())));
                }
                Ok(None) => {}
                Err(err) => keychain_failed = Some(err),
            }
        }
        match TotpSecret::load(&self.file) {
            Ok(secret) => {
                if let Some(err) = keychain_failed {
                    tracing::warn!(error = %err, "cannot read the login Keychain; using the TOTP secret file");
                }
                Ok(Some((secret, SecretLocation::File(self.file.clone()))))
            }
            Err(TotpError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                match keychain_failed {
                    Some(err) => Err(TotpError::Keychain(format!(
                        "cannot read {}: {err}",
                        self.keychain_location()
                    ))),
                    None => Ok(None),
                }
            }
            Err(err) => Err(err),
        }
    }

    /// Stores a new secret: in the Keychain when there is one (and it takes the item),
    /// else in a new 0600 file. Never replaces a secret, wherever it is.
    pub fn store_new(&self, secret: &TotpSecret) -> Result<Stored, TotpError> {
        let mut keychain_failed = None;
        if let Some(keychain) = self.keychain {
            let added = match keychain.get(&self.account) {
                Ok(Some(_)) => {
                    return Err(TotpError::KeychainItemExists(
                        self.keychain_location().to_string(),
                    ))
                }
                Ok(None) => keychain.add(&self.account, secret.to_base32().as_bytes()),
                Err(err) => Err(err),
            };
            match added {
                Ok(()) => {
                    return Ok(Stored {
                        location: self.keychain_location(),
                        keychain_failed: None,
                    })
                }
                Err(err) => keychain_failed = Some(err),
            }
        }
        secret.write_new(&self.file)?;
        Ok(Stored {
            location: SecretLocation::File(self.file.clone()),
            keychain_failed,
        })
    }
}

#[cfg(test)]
mod tests;
