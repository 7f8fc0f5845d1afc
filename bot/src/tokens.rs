//! API tokens per role: taken from the config, or generated on first start and kept in
//! `<data_dir>/tokens.toml` (mode 0600), and compared in constant time.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::net::SocketAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::config::AuthConfig;

/// Name of the generated-tokens file inside the data directory.
pub const TOKENS_FILE: &str = "tokens.toml";
/// Random bytes per generated token (256 bits).
const TOKEN_BYTES: usize = 32;

/// Who a token belongs to. Each role has its own token; none implies another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Creates, reads and cancels tasks (API clients, the original's `mac_remote`).
    Client,
    /// Claims tasks, heartbeats and reports results (the Mac worker).
    Worker,
    /// Reads `/admin/*`. Deliberately not a client: a monitoring token that leaks must not
    /// be able to run commands on the Mac.
    Admin,
}

impl Role {
    /// All roles.
    pub const ALL: [Role; 3] = [Role::Client, Role::Worker, Role::Admin];

    /// The role's name, as used in config keys and token prefixes.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Worker => "worker",
            Role::Admin => "admin",
        }
    }

    fn config_key(self) -> &'static str {
        match self {
            Role::Client => "auth.client_token",
            Role::Worker => "auth.worker_token",
            Role::Admin => "auth.admin_token",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the tokens could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The tokens file could not be read, parsed or written.
    #[error("{action} {path}")]
    Io {
        /// What we were doing.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The tokens file is not valid TOML of the expected shape.
    #[error("parsing {path}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: toml::de::Error,
    },
    /// The tokens file may be read by other users, so its tokens may have leaked.
    #[error("{path} is readable by other users (mode {mode:o}); rotate the tokens or run `chmod 600 {path}`")]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Two roles ended up with the same token, which would erase the difference between them.
    #[error("`{0}` and `{1}` must be different tokens")]
    NotDistinct(&'static str, &'static str),
    /// The operating system's random source failed.
    #[error("generating a random token: {0}")]
    Random(getrandom::Error),
}

/// The token of each role.
#[derive(Clone)]
pub struct Tokens {
    client: SecretString,
    worker: SecretString,
    admin: SecretString,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tokens([REDACTED])")
    }
}

impl Tokens {
    /// Builds the set from one token per role; refuses two equal tokens.
    pub fn new(
        client: SecretString,
        worker: SecretString,
        admin: SecretString,
    ) -> Result<Tokens, TokenError> {
        let tokens = Tokens {
            client,
            worker,
            admin,
        };
        for (i, a) in Role::ALL.into_iter().enumerate() {
            for b in Role::ALL.into_iter().skip(i + 1) {
                if tokens.get(a).expose_secret() == tokens.get(b).expose_secret() {
                    return Err(TokenError::NotDistinct(a.config_key(), b.config_key()));
                }
            }
        }
        Ok(tokens)
    }

    /// The token of `role`.
    pub fn get(&self, role: Role) -> &SecretString {
        match role {
            Role::Client => &self.client,
            Role::Worker => &self.worker,
            Role::Admin => &self.admin,
        }
    }

    /// The role whose token `presented` is, if any. Compares against every role in constant
    /// time, so neither the token's content nor which role matched shows in the timing.
    pub fn role_of(&self, presented: &[u8]) -> Option<Role> {
        let mut found = None;
        for role in Role::ALL {
            let matches: bool = self
                .get(role)
                .expose_secret()
                .as_bytes()
                .ct_eq(presented)
                .into();
            if matches {
                found = Some(role);
            }
        }
        found
    }
}

/// The tokens to use, and which of them were generated on this start (to be shown once).
#[derive(Debug)]
pub struct ResolvedTokens {
    /// One token per role.
    pub tokens: Tokens,
    /// Roles whose token was generated just now, in [`Role::ALL`] order.
    pub generated: Vec<Role>,
    /// Where generated tokens are kept.
    pub path: PathBuf,
}

impl ResolvedTokens {
    /// The once-only message telling the operator the new tokens and how to use them, or
    /// `None` when nothing was generated. Contains secrets: print it, never log it.
    pub fn notice(&self, addr: SocketAddr) -> Option<String> {
        if self.generated.is_empty() {
            return None;
        }
        let mut text = format!(
            "openclaw-bot generated API tokens (kept in {}, mode 0600; shown only this once):\n",
            self.path.display()
        );
        for role in &self.generated {
            let token = self.tokens.get(*role).expose_secret();
            text.push_str(&format!("  {:<7} {token}\n", role.as_str()));
        }
        let url = format!("http://{addr}");
        if self.generated.contains(&Role::Worker) {
            let worker = self.tokens.worker.expose_secret();
            text.push_str(&format!(
                "Start the worker on your Mac:\n  WORKER_URL={url} WORKER_TOKEN={worker} openclaw-worker\n"
            ));
        }
        if self.generated.contains(&Role::Client) {
            let client = self.tokens.client.expose_secret();
            text.push_str(&format!(
                "Submit a task:\n  curl -s -H 'Authorization: Bearer {client}' -d '{{\"command\":\"uptime\"}}' {url}/tasks\n"
            ));
        }
        Some(text)
    }
}

/// The generated tokens as stored on disk.
#[derive(Default, Serialize, Deserialize)]
struct StoredTokens {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    worker_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    admin_token: Option<String>,
}

impl StoredTokens {
    fn slot(&mut self, role: Role) -> &mut Option<String> {
        match role {
            Role::Client => &mut self.client_token,
            Role::Worker => &mut self.worker_token,
            Role::Admin => &mut self.admin_token,
        }
    }
}

/// Resolves one token per role: the configured one, else the one stored in
/// `<data_dir>/tokens.toml`, else a fresh one (then saved there). `data_dir` must exist.
pub fn resolve(auth: &AuthConfig, data_dir: &Path) -> Result<ResolvedTokens, TokenError> {
    let path = data_dir.join(TOKENS_FILE);
    let mut stored = read_stored(&path)?;
    let mut generated = Vec::new();
    let mut pick =
        |role: Role, configured: &Option<SecretString>| -> Result<SecretString, TokenError> {
            if let Some(token) = configured {
                return Ok(token.clone());
            }
            let slot = stored.slot(role);
            if let Some(token) = slot {
                return Ok(SecretString::from(token.clone()));
            }
            let token = generate(role)?;
            *slot = Some(token.clone());
            generated.push(role);
            Ok(SecretString::from(token))
        };
    let client = pick(Role::Client, &auth.client_token)?;
    let worker = pick(Role::Worker, &auth.worker_token)?;
    let admin = pick(Role::Admin, &auth.admin_token)?;
    let tokens = Tokens::new(client, worker, admin)?;
    if !generated.is_empty() {
        write_stored(&path, &stored)?;
    }
    Ok(ResolvedTokens {
        tokens,
        generated,
        path,
    })
}

/// A fresh token for `role`: `oc_<role>_` and 32 random bytes in base64url.
fn generate(role: Role) -> Result<String, TokenError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(TokenError::Random)?;
    Ok(format!(
        "oc_{}_{}",
        role.as_str(),
        URL_SAFE_NO_PAD.encode(bytes)
    ))
}

fn read_stored(path: &Path) -> Result<StoredTokens, TokenError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(StoredTokens::default()),
        Err(source) => {
            return Err(TokenError::Io {
                action: "reading",
                path: path.to_owned(),
                source,
            })
        }
    };
    let mode = fs::metadata(path)
        .map_err(|source| TokenError::Io {
            action: "reading permissions of",
            path: path.to_owned(),
            source,
        })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(TokenError::Exposed {
            path: path.to_owned(),
            mode: mode & 0o777,
        });
    }
    toml::from_str(&text).map_err(|source| TokenError::Parse {
        path: path.to_owned(),
        source,
    })
}

/// Writes the file through a temporary created 0600 with `create_new`, then renames it into
/// place: there is never a moment where the tokens sit in a file others can read, and a
/// crash mid-write leaves the old file intact.
fn write_stored(path: &Path, stored: &StoredTokens) -> Result<(), TokenError> {
    let io_err = |action: &'static str, path: &Path| {
        let path = path.to_owned();
        move |source| TokenError::Io {
            action,
            path,
            source,
        }
    };
    let body = toml::to_string(stored).map_err(|err| TokenError::Io {
        action: "serializing",
        path: path.to_owned(),
        source: io::Error::other(err),
    })?;
    let text = format!(
        "# API tokens generated by openclaw-bot on first start. Keep this file secret.\n\
         # A token set in the config or environment takes precedence over the one here.\n{body}"
    );
    let tmp = path.with_extension("toml.tmp");
    match fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(source) => return Err(io_err("removing stale", &tmp)(source)),
    }
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io_err("creating", &tmp))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_err("writing", &tmp))?;
    fs::rename(&tmp, path).map_err(io_err("renaming into place", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s)
    }

    #[test]
    fn role_of_finds_each_role_and_nothing_else() {
        let tokens = Tokens::new(secret("c-token"), secret("w-token"), secret("a-token")).unwrap();

        assert_eq!(tokens.role_of(b"c-token"), Some(Role::Client));
        assert_eq!(tokens.role_of(b"w-token"), Some(Role::Worker));
        assert_eq!(tokens.role_of(b"a-token"), Some(Role::Admin));
        assert_eq!(tokens.role_of(b"c-toke"), None);
        assert_eq!(tokens.role_of(b""), None);
    }

    #[test]
    fn equal_tokens_for_two_roles_are_refused() {
        let err = Tokens::new(secret("same"), secret("other"), secret("same")).unwrap_err();

        assert_eq!(
            err.to_string(),
            "`auth.client_token` and `auth.admin_token` must be different tokens"
        );
    }

    #[test]
    fn generated_tokens_are_prefixed_long_and_unique() {
        let a = generate(Role::Worker).unwrap();
        let b = generate(Role::Worker).unwrap();

        assert!(a.starts_with("oc_worker_"));
        assert_eq!(a.len(), "oc_worker_".len() + 43);
        assert_ne!(a, b);
    }

    #[test]
    fn tokens_are_generated_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();

        let first = resolve(&AuthConfig::default(), dir.path()).unwrap();
        let second = resolve(&AuthConfig::default(), dir.path()).unwrap();

        assert_eq!(first.generated, Role::ALL);
        assert!(second.generated.is_empty());
        assert!(second.notice("127.0.0.1:1".parse().unwrap()).is_none());
        for role in Role::ALL {
            assert_eq!(
                first.tokens.get(role).expose_secret(),
                second.tokens.get(role).expose_secret()
            );
        }
    }

    #[test]
    fn a_configured_token_wins_and_is_not_written_to_disk() {
        let dir = tempfile::tempdir().unwrap();
        let auth = AuthConfig {
            client_token: Some(secret("configured-client-token")),
            ..AuthConfig::default()
        };

        let resolved = resolve(&auth, dir.path()).unwrap();

        assert_eq!(resolved.generated, [Role::Worker, Role::Admin]);
        let text = fs::read_to_string(dir.path().join(TOKENS_FILE)).unwrap();
        assert!(!text.contains("configured-client-token"));
        assert!(!text.contains("client_token"));
    }

    #[test]
    fn a_tokens_file_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        resolve(&AuthConfig::default(), dir.path()).unwrap();
        let path = dir.path().join(TOKENS_FILE);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();

        let err = resolve(&AuthConfig::default(), dir.path()).unwrap_err();

        assert!(
            matches!(err, TokenError::Exposed { mode: 0o644, .. }),
            "{err}"
        );
    }
}
