//! Runs claimed tasks. Every task goes through [`execute`], the one seam where the local
//! policy, approvals, redaction and audit wrap execution.
//!
//! # Layout
//! - [`process`]: child processes in their own group, capped output, group kill.
//! - [`shell`]: `command` tasks through the configured shell.
//! - [`files`]: binary-safe reads, atomic writes, exact-match edits.
//! - [`claude`]: the Claude Code CLI, prompt as one argv element.

pub mod claude;
pub mod files;
pub mod process;
pub mod shell;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use openclaw_shared::worker::ClaimedTask;
use openclaw_shared::{TaskOutcome, TaskSpec};
use tokio_util::sync::CancellationToken;

use crate::config::{expand_tilde, home_dir, Config};
use process::ProcessLimits;

/// Longest a task may run, whatever timeout the server sends (7 days).
pub const MAX_TIMEOUT_MS: u64 = 7 * 24 * 60 * 60 * 1000;

/// What the executors need from the configuration.
#[derive(Debug, Clone)]
pub struct ExecContext {
    /// Shell argv prefix; the command string is appended as one argument.
    pub shell: Vec<String>,
    /// Working directory when a task names none; relative paths resolve against it.
    pub default_cwd: PathBuf,
    /// Home directory for `~` expansion.
    pub home: Option<PathBuf>,
    /// Output cap and kill grace for child processes.
    pub limits: ProcessLimits,
    /// Largest file a read (or edit) loads.
    pub max_read_bytes: u64,
    /// The Claude Code CLI program.
    pub claude_bin: String,
    /// Extra arguments for every `claude` run.
    pub claude_args: Vec<String>,
}

impl ExecContext {
    /// The executors' view of a validated config.
    pub fn from_config(config: &Config) -> Self {
        Self {
            shell: config.shell.clone(),
            default_cwd: config.default_cwd.clone(),
            home: home_dir(),
            limits: ProcessLimits {
                max_output_bytes: config.max_output_bytes,
                kill_grace: Duration::from_secs(config.kill_grace_secs),
            },
            max_read_bytes: config.max_read_bytes,
            claude_bin: config.claude_bin.clone(),
            claude_args: config.claude_args.clone(),
        }
    }

    /// A path from a task: `~` expanded, relative paths taken from `default_cwd`.
    pub fn resolve(&self, path: &str) -> PathBuf {
        let expanded = expand_tilde(path, self.home.clone());
        if expanded.is_absolute() {
            expanded
        } else {
            self.default_cwd.join(expanded)
        }
    }

    /// The working directory for a process: the task's (resolved) or the default. A
    /// directory that does not exist is an error in words, rather than the spawn's ENOENT,
    /// which would blame the program.
    fn working_dir(&self, cwd: Option<&str>) -> Result<PathBuf, String> {
        let dir = cwd.map_or_else(|| self.default_cwd.clone(), |cwd| self.resolve(cwd));
        if Path::new(&dir).is_dir() {
            Ok(dir)
        } else {
            Err(format!(
                "working directory {} does not exist or is not a directory",
                dir.display()
            ))
        }
    }
}

/// Runs `task` to its end, its timeout or `cancel`, and reports what happened. Never
/// panics on task input; every failure is an outcome.
pub async fn execute(
    ctx: &ExecContext,
    task: &ClaimedTask,
    cancel: CancellationToken,
) -> TaskOutcome {
    let started = Instant::now();
    // Bounded so a deadline computed from it cannot overflow, whatever the server sends.
    let timeout = Duration::from_millis(task.timeout_ms.min(MAX_TIMEOUT_MS));
    let mut outcome = match &task.spec {
        TaskSpec::Command { command, cwd } => {
            shell::run(ctx, command, cwd.as_deref(), timeout, &cancel).await
        }
        TaskSpec::FileRead { path } => files::read(ctx, path, timeout, &cancel).await,
        TaskSpec::FileWrite {
            path,
            content,
            encoding,
        } => files::write(ctx, path, content, *encoding, timeout, &cancel).await,
        TaskSpec::FileEdit {
            path,
            old_string,
            new_string,
            replace_all,
        } => {
            let edit = files::Edit {
                old: old_string,
                new: new_string,
                replace_all: *replace_all,
            };
            files::edit(ctx, path, edit, timeout, &cancel).await
        }
        TaskSpec::Claude {
            prompt,
            session_id,
            cwd,
        } => {
            let run = claude::ClaudeRun {
                prompt,
                session_id: session_id.as_deref(),
                cwd: cwd.as_deref(),
            };
            claude::run(ctx, run, timeout, &cancel).await
        }
    };
    outcome.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    outcome
}
