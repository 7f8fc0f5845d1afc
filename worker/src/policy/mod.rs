//! The worker's local policy: one verdict per task — allow, approve or deny — decided on
//! the Mac from a file the cloud cannot change. Deny rules always win; a task no rule
//! matches gets the configured default (`approve` out of the box).
//!
//! # Layout
//! - [`file`](mod@file): the TOML policy file, its defaults and its loading (permission check).
//! - [`defaults`]: the built-in allow set and deny lists.
//! - [`check`](mod@check): [`check()`], from a task to a [`Decision`].
//! - [`command`]: shell-syntax analysis of command strings.
//! - [`confinement`]: the kernel sandbox a plan carries, as plain data.
//! - [`rules`]: program resolution and command rule matching.
//! - [`git`]: where `git` runs without approval, and how it is hardened.
//! - [`paths`]: path resolution (`~`, `..`, symlinks) and path patterns.
//! - [`identity`]: paths compared by file identity and folded spelling.
//! - [`guarded`]: canaries, the worker's own files and the deny lists, compiled per check.
//! - [`roots`]: the read and write roots, and [`Policy::check_roots`].
//! - [`quota`]: the disk quota of a write root.
//! - [`safe_fs`]: file reads and writes that never follow a planted symlink.
//! - [`env`](mod@env): the allowlisted child environment.
//! - [`lock`]: the canary lock (`openclaw-worker unlock`).

pub mod check;
pub mod command;
pub mod confinement;
pub mod defaults;
pub mod env;
pub mod file;
pub mod git;
pub mod guarded;
pub mod identity;
pub mod lock;
pub mod paths;
pub mod quota;
pub mod roots;
pub mod rules;
pub mod safe_fs;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use check::check;
use confinement::SandboxSpec;
pub use file::{Policy, PolicyError};

/// What the policy says about a task. Ordered by strictness: `Allow < Approve < Deny`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Run it.
    Allow,
    /// Run it only after the owner approves it with a TOTP code.
    #[default]
    Approve,
    /// Never run it.
    Deny,
}

impl Verdict {
    /// The verdict as written in the policy file and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Approve => "approve",
            Verdict::Deny => "deny",
        }
    }
}

/// The verdict on one task, with the rule that decided it and what the executor must run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The verdict.
    pub verdict: Verdict,
    /// The rule that decided, e.g. `paths.deny[2]`, `builtin.deny_paths[0]`,
    /// `commands.allow[3]`, `shell_syntax`, `inline_eval`, `default`.
    pub rule: String,
    /// Why, in words (safe to show the owner and to upload).
    pub reason: String,
    /// Set when the task touched a canary path: the caller must lock the worker
    /// ([`lock::WorkerLock::lock`]) before answering anything else.
    pub canary: Option<PathBuf>,
    /// The `commands.allow` rule that matched the program, if one did (even when a floor
    /// raised the verdict): its `network` and `sandbox` settings shape the sandbox.
    pub allow_rule: Option<usize>,
    /// What was checked, resolved. The executor runs exactly this, and the approval
    /// fingerprint covers it.
    pub plan: Plan,
}

/// The resolved form of a task: what actually runs or is touched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// How to run a command task.
    pub exec: Option<Exec>,
    /// The working directory (commands and Claude), resolved.
    pub cwd: Option<PathBuf>,
    /// The file a file task reads or writes, resolved (symlinks followed).
    pub paths: Vec<PathBuf>,
    /// SHA-256 of the bytes a write stores (after base64 decoding).
    pub content_sha256: Option<[u8; 32]>,
    /// Variables set in the child's environment on top of the allowlisted ones (e.g. the
    /// settings that harden an allowed `git`).
    pub env: Vec<(String, String)>,
    /// The kernel sandbox the process runs in; `None` only for a task that runs no
    /// process, or one approved to run unconfined.
    pub sandbox: Option<SandboxSpec>,
}

/// How a command runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exec {
    /// A simple command: spawn `program` directly with `argv` (`argv[0]` first), no shell.
    /// What was checked is what runs: no alias, function or startup file can intervene.
    Direct {
        /// The resolved program (the path found in the search path, symlinks kept).
        program: PathBuf,
        /// The full argument vector, `argv[0]` included.
        argv: Vec<String>,
    },
    /// Shell syntax (or a program not found): pass the string to the configured shell.
    /// Never `allow`ed: only after approval.
    Shell {
        /// The command string, unchanged.
        command: String,
    },
}

/// The worker-side facts a check needs besides the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckEnv {
    /// The worker user's home (`~`).
    pub home: PathBuf,
    /// Where commands run, and relative paths resolve, when a task names no cwd.
    pub default_cwd: PathBuf,
    /// The worker's own `PATH`, used only when the policy's `commands.path` is empty.
    pub path: Vec<PathBuf>,
}

impl CheckEnv {
    /// The environment of this process: `$HOME`, `$PATH`, with `default_cwd`.
    pub fn from_process(home: PathBuf, default_cwd: PathBuf) -> Self {
        let path = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        Self {
            home,
            default_cwd,
            path,
        }
    }
}

impl Policy {
    /// The directories programs are resolved through (and the children's `PATH`): the
    /// policy's `commands.path`, else the worker's own, absolute entries only.
    pub fn search_path(&self, env: &CheckEnv) -> Vec<PathBuf> {
        let configured: Vec<PathBuf> = self
            .commands
            .path
            .iter()
            .map(|dir| paths::absolute(dir, &env.home, &env.home).unwrap_or_default())
            .collect();
        let dirs = if configured.is_empty() {
            env.path.clone()
        } else {
            configured
        };
        dirs.into_iter().filter(|d| d.is_absolute()).collect()
    }

    /// Adds one of the worker's own files or directories to the always-denied set.
    pub fn protect(&mut self, path: impl Into<PathBuf>) {
        self.protected.push(path.into());
    }
}
