//! API tokens: one per role, plus optional per-worker tokens. Taken from the config, or
//! generated on first start and kept in `<data_dir>/tokens.toml` (mode 0600). A presented
//! token is compared with every known one in constant time.
//!
//! # Layout
//! - `store`: the generated-tokens file.

mod store;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

pub use crate::config::{weakness, MIN_TOKEN_LEN};

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
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose token a request carried: its role and, for a per-worker token, the one worker name
/// it may act as. Names are not secret, so this may be logged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TokenHolder {
    /// `auth.client_token`.
    Client,
    /// `auth.admin_token`.
    Admin,
    /// The shared `auth.worker_token`: may act as any worker name. Simple for one Mac, but a
    /// leak of it lets the thief claim every worker's tasks.
    AnyWorker,
    /// A `[[auth.workers]]` token: may act only as the worker of this name.
    Worker(Arc<str>),
}

impl TokenHolder {
    /// The role the token has.
    pub fn role(&self) -> Role {
        match self {
            TokenHolder::Client => Role::Client,
            TokenHolder::Admin => Role::Admin,
            TokenHolder::AnyWorker | TokenHolder::Worker(_) => Role::Worker,
        }
    }

    /// The worker name this token is bound to, if it is a per-worker token.
    pub fn worker_name(&self) -> Option<&str> {
        match self {
            TokenHolder::Worker(name) => Some(name),
            _ => None,
        }
    }

    /// Where the token is configured (`auth.worker_token`, `auth.workers (name = "mac")`):
    /// a label that names a token in errors and in `/admin/health` without showing it.
    pub fn config_key(&self) -> String {
        match self {
            TokenHolder::Client => "auth.client_token".into(),
            TokenHolder::Admin => "auth.admin_token".into(),
            TokenHolder::AnyWorker => "auth.worker_token".into(),
            TokenHolder::Worker(name) => format!("auth.workers (name = {name:?})"),
        }
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
    /// A token in the tokens file is too weak (it was edited by hand).
    #[error("`{key}` in {path} {reason}")]
    Weak {
        /// The key in the file.
        key: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong with it (never the token itself).
        reason: String,
    },
    /// Two holders ended up with the same token, which would erase the difference between
    /// them.
    #[error("`{0}` and `{1}` must be different tokens")]
    NotDistinct(String, String),
    /// The same holder (e.g. a worker name) is configured twice.
    #[error("`{0}` is configured twice")]
    Duplicate(String),
    /// The operating system's random source failed.
    #[error("generating a random token: {0}")]
    Random(getrandom::Error),
}

/// One known token.
struct Entry {
    holder: TokenHolder,
    secret: SecretString,
    /// SHA-256 of the token: what presented tokens are compared against, so every comparison
    /// is over 32 bytes whatever the lengths (a plain `ct_eq` returns early on a length
    /// mismatch and would leak each token's length).
    digest: [u8; 32],
}

/// Every token the API accepts, each with its holder. Cheap to clone.
#[derive(Clone)]
pub struct Tokens {
    entries: Arc<[Entry]>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let holders: Vec<&TokenHolder> = self.entries.iter().map(|e| &e.holder).collect();
        f.debug_struct("Tokens")
            .field("holders", &holders)
            .field("secrets", &"[REDACTED]")
            .finish()
    }
}

impl Tokens {
    /// Builds the set from `(holder, token)` pairs. Refuses two equal tokens and a holder
    /// (e.g. a worker name) listed twice.
    pub fn new(
        entries: impl IntoIterator<Item = (TokenHolder, SecretString)>,
    ) -> Result<Tokens, TokenError> {
        let entries: Vec<Entry> = entries
            .into_iter()
            .map(|(holder, secret)| Entry {
                digest: Sha256::digest(secret.expose_secret().as_bytes()).into(),
                holder,
                secret,
            })
            .collect();
        for (i, a) in entries.iter().enumerate() {
            for b in &entries[i + 1..] {
                if a.holder == b.holder {
                    return Err(TokenError::Duplicate(a.holder.config_key()));
                }
                // Startup only, over digests: no plaintext comparison anywhere.
                if a.digest == b.digest {
                    return Err(TokenError::NotDistinct(
                        a.holder.config_key(),
                        b.holder.config_key(),
                    ));
                }
            }
        }
        Ok(Tokens {
            entries: entries.into(),
        })
    }

    /// The token of `holder`, if it has one.
    pub fn get(&self, holder: &TokenHolder) -> Option<&SecretString> {
        self.entries
            .iter()
            .find(|e| e.holder == *holder)
            .map(|e| &e.secret)
    }

    /// Whose token `presented` is, if anyone's. Its digest is compared with every known
    /// token's, always all of them and without branching on a result, so the timing shows
    /// neither the token's content nor which holder (if any) matched.
    pub fn identify(&self, presented: &[u8]) -> Option<&TokenHolder> {
        let presented: [u8; 32] = Sha256::digest(presented).into();
        let mut found = u64::MAX;
        for (index, entry) in (0u64..).zip(self.entries.iter()) {
            found.conditional_assign(&index, entry.digest.ct_eq(&presented));
        }
        usize::try_from(found)
            .ok()
            .and_then(|index| self.entries.get(index))
            .map(|e| &e.holder)
    }
}

/// The tokens to use, and which of them were generated on this start (to be shown once).
#[derive(Debug)]
pub struct ResolvedTokens {
    /// Every accepted token.
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
        let secret = |holder: &TokenHolder| {
            self.tokens
                .get(holder)
                .map_or("", |token| token.expose_secret())
        };
        let mut text = format!(
            "openclaw-bot generated API tokens (kept in {}, mode 0600; shown only this once):\n",
            self.path.display()
        );
        for role in &self.generated {
            let token = secret(&generated_holder(*role));
            text.push_str(&format!("  {:<7} {token}\n", role.as_str()));
        }
        let url = format!("http://{addr}");
        if self.generated.contains(&Role::Worker) {
            let worker = secret(&TokenHolder::AnyWorker);
            text.push_str(&format!(
                "Start the worker on your Mac:\n  WORKER_URL={url} WORKER_TOKEN={worker} openclaw-worker\n"
            ));
        }
        if self.generated.contains(&Role::Client) {
            let client = secret(&TokenHolder::Client);
            text.push_str(&format!(
                "Submit a task:\n  curl -s -H 'Authorization: Bearer {client}' -d '{{\"command\":\"uptime\"}}' {url}/tasks\n"
            ));
        }
        Some(text)
    }
}

/// The holder of a role's single (generated or `auth.<role>_token`) token.
fn generated_holder(role: Role) -> TokenHolder {
    match role {
        Role::Client => TokenHolder::Client,
        Role::Worker => TokenHolder::AnyWorker,
        Role::Admin => TokenHolder::Admin,
    }
}

/// Resolves the tokens: per role the configured one, else the one stored in
/// `<data_dir>/tokens.toml`, else a fresh one (then saved there); plus `[[auth.workers]]`.
/// When per-worker tokens are configured and `auth.worker_token` is not, there is no shared
/// worker token at all (a stored one is ignored): every worker must use its own.
/// `data_dir` must exist; configured tokens are assumed validated by `Config::validate`.
pub fn resolve(auth: &AuthConfig, data_dir: &Path) -> Result<ResolvedTokens, TokenError> {
    let path = data_dir.join(TOKENS_FILE);
    let mut stored = store::read_stored(&path)?;
    let mut generated = Vec::new();
    let mut pick =
        |role: Role, configured: &Option<SecretString>| -> Result<SecretString, TokenError> {
            if let Some(token) = configured {
                return Ok(token.clone());
            }
            let slot = stored.slot(role);
            if let Some(token) = slot {
                if let Some(reason) = weakness(token) {
                    return Err(TokenError::Weak {
                        key: store::key_of(role),
                        path: path.clone(),
                        reason,
                    });
                }
                return Ok(SecretString::from(token.clone()));
            }
            let token = generate(role)?;
            *slot = Some(token.clone());
            generated.push(role);
            Ok(SecretString::from(token))
        };
    let mut entries = vec![(TokenHolder::Client, pick(Role::Client, &auth.client_token)?)];
    let per_worker_only = auth.worker_token.is_none() && !auth.workers.is_empty();
    if !per_worker_only {
        entries.push((
            TokenHolder::AnyWorker,
            pick(Role::Worker, &auth.worker_token)?,
        ));
    }
    entries.push((TokenHolder::Admin, pick(Role::Admin, &auth.admin_token)?));
    if auth.worker_token.is_some() && !auth.workers.is_empty() {
        tracing::warn!(
            "auth.worker_token and [[auth.workers]] are both set: the shared worker token may \
             act as any worker, so whoever holds it can claim every worker's tasks; remove it \
             to make each worker use its own token"
        );
    }
    for worker in &auth.workers {
        entries.push((
            TokenHolder::Worker(Arc::from(worker.name.as_str())),
            worker.token.clone(),
        ));
    }
    let tokens = Tokens::new(entries)?;
    if !generated.is_empty() {
        store::write_stored(&path, &stored)?;
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

#[cfg(test)]
mod tests;
