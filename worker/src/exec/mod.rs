//! Runs claimed tasks exactly as the local policy resolved them. [`execute`] takes the
//! task and its [`Plan`]: a simple command runs its resolved program directly, files are
//! touched at their resolved paths through [`crate::policy::safe_fs`], and every child gets
//! the allowlisted environment. The policy, approvals, redaction and audit wrap this seam
//! in [`crate::pipeline`]; nothing else calls it for real tasks.
//!
//! # Layout
//! - [`process`]: child processes in their own group, capped output, group kill.
//! - [`command`]: `command` tasks, direct or (approved shell syntax) through the shell.
//! - [`files`]: binary-safe reads, atomic writes, exact-match edits.
//! - [`claude`]: the Claude Code CLI, prompt as one argv element.

pub mod claude;
pub mod command;
pub mod files;
pub mod process;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use openclaw_shared::worker::ClaimedTask;
use openclaw_shared::{TaskOutcome, TaskSpec};
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::policy::env::child_env;
use crate::policy::{CheckEnv, Plan, Policy};
use crate::sandbox::{self, TaskTempDir};
use process::ProcessLimits;

/// Longest a task may run, whatever timeout the server sends (7 days).
pub const MAX_TIMEOUT_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// What the executors need from the configuration and the policy.
#[derive(Debug, Clone)]
pub struct ExecContext {
    /// Shell argv prefix for approved shell-syntax commands; the command is one argument.
    pub shell: Vec<String>,
    /// Working directory when the plan names none.
    pub default_cwd: PathBuf,
    /// Output cap and kill grace for child processes.
    pub limits: ProcessLimits,
    /// Largest file a read (or edit) loads.
    pub max_read_bytes: u64,
    /// The Claude Code CLI program.
    pub claude_bin: String,
    /// Arguments for every `claude` run, before the session and the prompt: the
    /// configured extras, then what the policy's `[claude]` section adds.
    pub claude_args: Vec<String>,
    /// The whole environment of every child: the allowlisted part of the worker's own,
    /// never the worker token. Children start from an empty environment plus this.
    pub child_env: Vec<(OsString, OsString)>,
}

impl ExecContext {
    /// The executors' view of a validated config, before the policy is applied: children
    /// get the base allowlist and the worker's own `PATH`.
    pub fn from_config(config: &Config) -> Self {
        Self {
            shell: config.shell.clone(),
            default_cwd: config.default_cwd.clone(),
            limits: ProcessLimits {
                max_output_bytes: config.max_output_bytes,
                kill_grace: Duration::from_secs(config.kill_grace_secs),
            },
            max_read_bytes: config.max_read_bytes,
            claude_bin: config.claude_bin.clone(),
            claude_args: config.claude_args.clone(),
            child_env: child_env(std::env::vars_os(), &[], None),
        }
    }

    /// Applies the policy: the child environment gets its `env.extra` names and, as
    /// `PATH`, the search path programs were checked against; `claude` gets the
    /// `[claude]` flags; a bare `claude_bin` is resolved now through the worker's own
    /// `PATH` (children no longer see it).
    pub fn apply_policy(&mut self, policy: &Policy, env: &CheckEnv) {
        let search = std::env::join_paths(policy.search_path(env)).ok();
        self.child_env = child_env(std::env::vars_os(), &policy.env.extra, search.as_deref());
        let claude = &policy.claude;
        if !claude.allowed_tools.is_empty() {
            self.claude_args.push("--allowedTools".to_owned());
            self.claude_args
                .extend(claude.allowed_tools.iter().cloned());
        }
        if claude.dangerously_skip_permissions {
            self.claude_args
                .push("--dangerously-skip-permissions".to_owned());
        }
        if !self.claude_bin.contains('/') {
            if let Some(found) = find_in_path(&self.claude_bin, &env.path) {
                self.claude_bin = found.to_string_lossy().into_owned();
            }
        }
    }

    /// The working directory for a process: the plan's or the default. A directory that
    /// does not exist is an error in words, rather than the spawn's ENOENT, which would
    /// blame the program.
    fn working_dir(&self, cwd: Option<&Path>) -> Result<PathBuf, String> {
        let dir = cwd.unwrap_or(&self.default_cwd);
        if dir.is_dir() {
            Ok(dir.to_owned())
        } else {
            Err(format!(
                "working directory {} does not exist or is not a directory",
                dir.display()
            ))
        }
    }

    /// The command that runs `program` (seen as `arg0`) with `args` as `plan` says: in its
    /// sandbox, from an empty environment plus the allowlist, the plan's own variables and,
    /// when sandboxed, the task's temp dir as `TMPDIR`.
    fn command(
        &self,
        plan: &Plan,
        program: &Path,
        arg0: Option<&str>,
        args: &[impl AsRef<OsStr>],
    ) -> Result<tokio::process::Command, String> {
        let mut cmd = sandbox::command(plan.sandbox.as_ref(), program, arg0, args)
            .map_err(|err| err.to_string())?;
        cmd.env_clear()
            .envs(self.child_env.iter().cloned())
            .envs(plan.env.iter().map(|(k, v)| (k, v)));
        if let Some(spec) = &plan.sandbox {
            cmd.env("TMPDIR", &spec.tmpdir);
        }
        Ok(cmd)
    }
}

/// The first executable `name` in `dirs`.
pub(crate) fn find_in_path(name: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    dirs.iter().map(|dir| dir.join(name)).find(|path| {
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// Runs `task` as `plan` says, to its end, its timeout or `cancel`, and reports what
/// happened. Never panics on task input; every failure is an outcome.
pub async fn execute(
    ctx: &ExecContext,
    task: &ClaimedTask,
    plan: &Plan,
    cancel: CancellationToken,
) -> TaskOutcome {
    let started = Instant::now();
    // Bounded so a deadline computed from it cannot overflow, whatever the server sends.
    let timeout = Duration::from_millis(task.timeout_ms.min(MAX_TIMEOUT_MS));
    let path = plan.paths.first().map(PathBuf::as_path);
    // The sandbox's temp dir lives as long as the task's processes may use it.
    let tmpdir = match plan.sandbox.as_ref().map(TaskTempDir::create).transpose() {
        Ok(dir) => dir,
        Err(err) => return TaskOutcome::failure(format!("{err}; nothing ran")),
    };
    let mut outcome = match (&task.spec, path) {
        (TaskSpec::Command { .. }, _) => command::run(ctx, plan, timeout, &cancel).await,
        (TaskSpec::FileRead { .. }, Some(path)) => files::read(ctx, path, timeout, &cancel).await,
        (
            TaskSpec::FileWrite {
                content, encoding, ..
            },
            Some(path),
        ) => {
            let write = files::Write {
                content,
                encoding: *encoding,
                checked_sha256: plan.content_sha256,
            };
            files::write(path, write, timeout, &cancel).await
        }
        (
            TaskSpec::FileEdit {
                old_string,
                new_string,
                replace_all,
                ..
            },
            Some(path),
        ) => {
            let edit = files::Edit {
                old: old_string,
                new: new_string,
                replace_all: *replace_all,
            };
            files::edit(ctx, path, edit, timeout, &cancel).await
        }
        (
            TaskSpec::Claude {
                prompt, session_id, ..
            },
            _,
        ) => {
            let run = claude::ClaudeRun {
                prompt,
                session_id: session_id.as_deref(),
            };
            claude::run(ctx, plan, run, timeout, &cancel).await
        }
        (_, None) => TaskOutcome::failure("the policy planned no path for this file task"),
    };
    outcome.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    // Removed off the task's path: the result need not wait for a directory walk.
    if let Some(dir) = tmpdir {
        tokio::task::spawn_blocking(move || drop(dir));
    }
    if matches!(
        task.spec,
        TaskSpec::Command { .. } | TaskSpec::Claude { .. }
    ) {
        outcome
            .metadata
            .insert("sandbox".into(), sandbox_metadata(plan));
    }
    outcome
}

/// What the result says about the confinement: `{profile, network}`, or `"none"` for a
/// process the owner approved to run unconfined.
fn sandbox_metadata(plan: &Plan) -> serde_json::Value {
    match &plan.sandbox {
        Some(spec) => serde_json::json!({
            "profile": spec.profile.as_str(),
            "network": spec.network,
        }),
        None => serde_json::json!("none"),
    }
}
