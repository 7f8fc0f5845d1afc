//! Opening the guard at start: the policy (with the worker's own files protected), the
//! state directory, the kernel sandbox probe, the approval book, the audit log, the
//! redactor and the owner's webhook. Anything that would weaken them stops the worker.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use super::{Guard, GuardError};
use crate::approval::secret_store::{platform_keychain, SecretStore};
use crate::approval::totp::{TotpError, TotpVerifier};
use crate::approval::{Approvals, ReplayGuard};
use crate::audit::AuditLog;
use crate::config::{home_dir, Config};
use crate::files::{create_private_dirs, StateFiles, WorkerFiles};
use crate::notify::Notifier;
use crate::policy::file::SandboxMode;
use crate::policy::lock::WorkerLock;
use crate::policy::{CheckEnv, Policy};
use crate::redact::Redactor;
use crate::sandbox::spec::Platform;
use crate::sandbox::{SandboxEnv, SandboxStatus};

impl Guard {
    /// Opens everything for `config`: loads the policy (protecting the worker's own files
    /// in it), creates the state directory (0700), loads the TOTP secret and the replay
    /// store, opens and verifies the audit log, builds the redactor.
    pub fn open(config: &Config) -> Result<Self, GuardError> {
        let home = home_dir().ok_or(GuardError::NoHome)?;
        if !config.policy_path.exists() {
            return Err(GuardError::NoPolicy(config.policy_path.clone()));
        }
        let mut policy = Policy::load(&config.policy_path)?;
        let default_files = WorkerFiles::new(WorkerFiles::default_dir(&home));
        let mut own = default_files.protected();
        own.extend([config.policy_path.clone(), config.state_dir.clone()]);
        own.extend(config.file.clone());
        // Whoever can change the trusted CAs can read the worker token on the wire.
        own.extend(config.server_ca_file.clone());
        for path in own {
            policy.protect(path);
        }
        policy.agents = config
            .agents
            .iter()
            .map(|(name, agent)| (name.clone(), agent.policy()))
            .collect();
        // Created first, so that a root that would hold it is refused even on the first start.
        let state = StateFiles::new(&config.state_dir);
        create_private_dirs(&state.dir).map_err(|source| GuardError::StateDir {
            path: state.dir.clone(),
            source,
        })?;
        // A root holding the worker's own files would make them a task's to read.
        policy.check_roots(&home)?;
        let check_env = CheckEnv::from_process(home, config.default_cwd.clone());
        let sandbox = SandboxStatus::probe(policy.sandbox.mode == SandboxMode::Off);
        match sandbox.missing() {
            None => {
                tracing::info!(sandbox = %sandbox, "every command and Claude run is confined by the kernel")
            }
            Some(why) => tracing::warn!(
                sandbox = %sandbox,
                "NO KERNEL SANDBOX ({why}): every command and Claude task needs approval"
            ),
        }
        if nix::unistd::geteuid().is_root() {
            tracing::warn!(
                "the worker runs as root: its tasks drop every capability, but still own what \
                 root owns (/etc/shadow, /root); run the worker as the Mac's user"
            );
        }
        let sandbox_env = SandboxEnv {
            home: check_env.home.clone(),
            search: policy.search_path(&check_env),
            tmp_base: std::env::temp_dir(),
            claude_dir: claude_dir(&config.claude_bin, &check_env.path),
            agent_dirs: config
                .agents
                .iter()
                .filter_map(|(name, agent)| {
                    Some((name.clone(), claude_dir(&agent.bin, &check_env.path)?))
                })
                .collect(),
            platform: Platform::CURRENT,
        };

        let opened = open_approvals(&state, Duration::from_secs(policy.approvals.ttl_secs))?;
        let (approvals, totp_secret) =
            opened.map_or((None, None), |(book, secret)| (Some(book), Some(secret)));
        let audit = AuditLog::open(&state.audit_log(), &state.audit_head())?;

        // The TOTP secret too: nothing should ever bring it near an output, but if
        // something did, it is the one secret that approves anything.
        let mut hidden = vec![config.token.expose_secret().to_owned()];
        hidden.extend(totp_secret.map(|secret| secret.expose_secret().to_owned()));
        hidden.extend(
            config
                .notify_webhook_url
                .as_ref()
                .map(|url| url.expose_secret().to_owned()),
        );
        let redactor =
            Redactor::from_env(&policy.env.redact, |name| std::env::var(name).ok(), &hidden)?;
        let notifier = config
            .notify_webhook_url
            .clone()
            .map(|url| Notifier::new(url, &config.name))
            .transpose()
            .map_err(|err| GuardError::Notifier(err.to_string()))?;
        Ok(Self {
            policy,
            check_env,
            sandbox,
            sandbox_env,
            compiled: Mutex::new(None),
            approvals: approvals.map(Mutex::new),
            turn: Semaphore::new(1),
            audit: Mutex::new(audit),
            redactor: std::sync::Arc::new(redactor),
            lock: WorkerLock::new(&state.dir),
            notifier,
        })
    }
}

/// The directory an agent CLI is installed in: `claude_bin` (or an agent's `bin`; a path, or
/// a name looked up in the worker's own `PATH`) with links resolved, its parent. Its
/// sandbox may run programs from there (the CLI's own runtime and modules).
fn claude_dir(claude_bin: &str, path: &[PathBuf]) -> Option<PathBuf> {
    let bin = if claude_bin.contains('/') {
        PathBuf::from(claude_bin)
    } else {
        crate::exec::find_in_path(claude_bin, path)?
    };
    std::fs::canonicalize(bin).ok()?.parent().map(PathBuf::from)
}

/// The approval book and the secret's text (for the redactor), or `None` (with a warning)
/// when no TOTP secret exists yet. The secret is looked for in the login Keychain first
/// (macOS, unless `OPENCLAW_TOTP_KEYCHAIN=0`), then in the state directory's file. A
/// secret that exists but is readable by others, invalid, or in a Keychain that refuses it,
/// stops the worker.
fn open_approvals(state: &StateFiles, ttl: Duration) -> Result<Option<OpenedBook>, GuardError> {
    let keychain = platform_keychain(|name| std::env::var(name).ok());
    open_approvals_from(&SecretStore::for_state(state, keychain), state, ttl)
}

/// An opened approval book, with its secret as base32 text.
type OpenedBook = (Approvals, SecretString);

pub(super) fn open_approvals_from(
    store: &SecretStore<'_>,
    state: &StateFiles,
    ttl: Duration,
) -> Result<Option<OpenedBook>, GuardError> {
    let Some((secret, location)) = store.load()? else {
        tracing::warn!(
            secret = %state.totp_secret().display(),
            "approvals are disabled: no TOTP secret; tasks that need approval will be \
             denied. Run `openclaw-worker init` to set one up"
        );
        return Ok(None);
    };
    tracing::info!(secret = %location, "TOTP secret loaded");
    let verifier =
        TotpVerifier::new(&secret).ok_or_else(|| TotpError::Invalid(state.totp_secret()))?;
    let replay = ReplayGuard::open(&state.replay_store())?;
    let mut approvals = Approvals::new(verifier, replay, ttl);
    if approvals.recover(crate::approval::now_secs())? {
        tracing::warn!(
            "the worker stopped while a task waited for approval: the codes valid now are \
             spent (one typed for that task must not approve another); the next code works"
        );
    }
    Ok(Some((approvals, SecretString::from(secret.to_base32()))))
}
