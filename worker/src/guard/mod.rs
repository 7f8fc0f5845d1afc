//! The worker's security state, opened once at start: the local policy, the approval book,
//! the audit log, the output redactor, the canary lock and the owner's own webhook. Opening
//! refuses to start on anything that would weaken them: a missing or insecure policy, an
//! insecure TOTP secret, a broken audit chain.
//!
//! # Layout
//! - this file: [`Guard`] and what the pipeline asks of it (decide, redact, record).
//! - `open.rs`: [`Guard::open`], everything opened and checked at start.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use openclaw_shared::{ContentEncoding, TaskId, TaskOutcome, TaskSpec};
use tokio::sync::Semaphore;

use crate::approval::totp::TotpError;
use crate::approval::{Approvals, ReplayError};
use crate::audit::{AuditError, AuditLog, AuditRecord, Head};
use crate::notify::Notifier;
use crate::policy::check::{check_compiled, Compiled};
use crate::policy::lock::WorkerLock;
use crate::policy::{CheckEnv, Decision, Plan, Policy, PolicyError, Verdict};
use crate::redact::{redact, redact_bytes, Redactions, Redactor, RedactorError};
use crate::sandbox::spec::fail_closed;
use crate::sandbox::{self, SandboxEnv, SandboxStatus};

mod open;

/// How long a compiled policy is reused. Compiling costs about a millisecond of `lstat`s,
/// more than the rest of a task's path; reusing it for a second means a guarded path that
/// appears (or a second name of one that is created) is known by identity a second later,
/// while every check still matches it by spelling at once. Nothing a task can do creates
/// a second name of a guarded path: that is the owner's doing, or root's.
pub const COMPILED_POLICY_TTL: Duration = Duration::from_secs(1);

/// Why the worker cannot start safely.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// No home directory to resolve `~` against.
    #[error("cannot find the home directory; set HOME")]
    NoHome,
    /// The policy file does not exist.
    #[error(
        "no policy file at {0}: run `openclaw-worker init` to write a starter policy \
         (or set `policy_path`)"
    )]
    NoPolicy(PathBuf),
    /// The policy cannot be loaded.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The state directory cannot be created.
    #[error("cannot create the state directory {path}: {source}")]
    StateDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The TOTP secret exists but cannot be used.
    #[error(transparent)]
    Totp(#[from] TotpError),
    /// The replay store cannot be used.
    #[error(transparent)]
    Replay(#[from] ReplayError),
    /// The audit log cannot be opened or is broken.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// The redactor cannot be built.
    #[error(transparent)]
    Redactor(#[from] RedactorError),
    /// The webhook client cannot be built.
    #[error("notify_webhook_url: {0}")]
    Notifier(String),
}

/// Everything the per-task pipeline consults or records. Shared by all tasks.
pub struct Guard {
    policy: Policy,
    check_env: CheckEnv,
    /// The kernel sandbox this machine offers (probed at start); without one, tasks that
    /// run a process are never auto-allowed.
    sandbox: SandboxStatus,
    /// What sandbox specs are derived against.
    sandbox_env: SandboxEnv,
    /// The policy compiled against the disk, and when: checks reuse it for
    /// [`COMPILED_POLICY_TTL`]. std mutex: held only to swap the `Arc`, never during a check.
    compiled: Mutex<Option<(Instant, Arc<Compiled>)>>,
    /// `None` when no TOTP secret is set up: tasks that need approval are then denied.
    /// std mutex: never held across an `.await`; an approval fsyncs the replay store while
    /// holding it, which is rare and short.
    approvals: Option<Mutex<Approvals>>,
    /// One permit: only one approval may be pending at a time (see [`crate::approval`]);
    /// tokio's semaphore is fair, so held tasks are requested in the order they arrived.
    turn: Semaphore,
    /// std mutex: appends are short (one fsynced line) and never span an `.await`.
    audit: Mutex<AuditLog>,
    /// Shared with the executors, which redact a long output's cuts with it.
    redactor: Arc<Redactor>,
    lock: WorkerLock,
    notifier: Option<Notifier>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("approvals", &self.approvals.is_some())
            .field("lock", &self.lock)
            .finish_non_exhaustive()
    }
}

fn relock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these leaves consistent data (each write is whole).
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Guard {
    /// The loaded policy (with the worker's own files protected).
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The facts checks resolve against (home, default directory, search path).
    pub fn check_env(&self) -> &CheckEnv {
        &self.check_env
    }

    /// The kernel sandbox tasks run in (or why there is none).
    pub fn sandbox(&self) -> &SandboxStatus {
        &self.sandbox
    }

    /// What sandbox specs are derived against (home, search path, temp base).
    pub fn sandbox_env(&self) -> &SandboxEnv {
        &self.sandbox_env
    }

    /// Whether approvals are set up (a TOTP secret exists).
    pub fn approvals_enabled(&self) -> bool {
        self.approvals.is_some()
    }

    /// Runs `f` on the approval book; `None` when approvals are not set up.
    pub fn with_approvals<T>(&self, f: impl FnOnce(&mut Approvals) -> T) -> Option<T> {
        self.approvals.as_ref().map(|book| f(&mut relock(book)))
    }

    /// The one-approval-at-a-time turn.
    pub fn turn(&self) -> &Semaphore {
        &self.turn
    }

    /// The owner's webhook, when configured.
    pub fn notifier(&self) -> Option<&Notifier> {
        self.notifier.as_ref()
    }

    /// Whether the worker is locked (a canary was touched); fails closed.
    pub fn is_locked(&self) -> bool {
        self.lock.is_locked()
    }

    /// Why the worker is locked, for logs and denials.
    pub fn lock_reason(&self) -> String {
        self.lock
            .info()
            .map_or_else(|| "a canary was touched".to_owned(), |info| info.reason)
    }

    /// The policy's decision on a task, with the kernel sandbox it will run in. A locked
    /// worker denies everything; a task that touches a canary is denied and locks the worker
    /// before this returns. Without a sandbox, nothing that runs a process is auto-allowed.
    pub fn decide(&self, task_id: TaskId, spec: &TaskSpec) -> Decision {
        if self.is_locked() {
            return locked_decision(&self.lock_reason());
        }
        let compiled = self.compiled_policy();
        let mut decision = check_compiled(&self.policy, &compiled, spec, &self.check_env);
        match self.sandbox.missing() {
            Some(why) => fail_closed(&mut decision, spec, &why),
            None => {
                decision.plan.sandbox =
                    sandbox::derive(&self.policy, spec, &decision, task_id, &self.sandbox_env);
            }
        }
        if let Some(path) = &decision.canary {
            let reason = format!("task {task_id} touched canary path {}", path.display());
            tracing::error!(
                task_id = %task_id,
                canary = %path.display(),
                "CANARY TOUCHED: locking the worker; run `openclaw-worker unlock` on this Mac \
                 after you have looked into it"
            );
            if let Err(err) = self.lock.lock(&reason) {
                // The task is denied anyway; a lock that cannot be written is loud.
                tracing::error!(error = %err, "cannot write the lock file");
            }
        }
        decision
    }

    /// The compiled policy, compiled anew when the last one is older than
    /// [`COMPILED_POLICY_TTL`].
    fn compiled_policy(&self) -> Arc<Compiled> {
        let mut cached = relock(&self.compiled);
        match &*cached {
            Some((at, compiled)) if at.elapsed() < COMPILED_POLICY_TTL => Arc::clone(compiled),
            _ => {
                let compiled = Arc::new(Compiled::new(&self.policy, &self.check_env));
                *cached = Some((Instant::now(), Arc::clone(&compiled)));
                compiled
            }
        }
    }

    /// Replaces secrets in the outcome's output and error text; returns the counts.
    /// Program output is also stripped of terminal control sequences (so colour codes
    /// cannot split a secret); a file's content (`file_content`) keeps every byte that is
    /// not a secret, escape codes included: `/read` returns the file as it is.
    pub fn redact(&self, outcome: &mut TaskOutcome, file_content: bool) -> Redactions {
        let mut counts = Redactions::default();
        match outcome.stdout_encoding {
            ContentEncoding::Utf8 if file_content => {
                let (bytes, found) = redact_bytes(outcome.stdout.as_bytes(), &self.redactor);
                if found.total() > 0 {
                    outcome.stdout = String::from_utf8_lossy(&bytes).into_owned();
                }
                counts.merge(&found);
            }
            ContentEncoding::Utf8 => {
                let (text, found) = redact(&outcome.stdout, &self.redactor);
                outcome.stdout = text;
                counts.merge(&found);
            }
            ContentEncoding::Base64 => {
                if let Ok(bytes) = BASE64.decode(&outcome.stdout) {
                    let (clean, found) = redact_bytes(&bytes, &self.redactor);
                    if found.total() > 0 {
                        outcome.stdout = BASE64.encode(clean);
                    }
                    counts.merge(&found);
                }
            }
        }
        let (stderr, found) = redact(&outcome.stderr, &self.redactor);
        outcome.stderr = stderr;
        counts.merge(&found);
        if let Some(error) = &outcome.error {
            let (error, found) = redact(error, &self.redactor);
            outcome.error = Some(error);
            counts.merge(&found);
        }
        counts
    }

    /// The output redactor, for the executors (a long output's cuts, live output).
    pub fn redactor(&self) -> Arc<Redactor> {
        Arc::clone(&self.redactor)
    }

    /// Appends one entry to the audit log (fsynced); returns the new head.
    pub fn record(&self, record: &AuditRecord) -> Result<Head, AuditError> {
        relock(&self.audit).append(record)
    }
}

/// The decision for every task while the worker is locked.
fn locked_decision(why: &str) -> Decision {
    Decision {
        verdict: Verdict::Deny,
        rule: "lock".to_owned(),
        reason: format!(
            "the worker is locked ({why}); run `openclaw-worker unlock` on the Mac to resume"
        ),
        canary: None,
        allow_rule: None,
        plan: Plan::default(),
    }
}

#[cfg(test)]
mod tests;
