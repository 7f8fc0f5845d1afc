//! Runs claimed tasks exactly as the local policy resolved them. [`execute`] takes the
//! task and its [`Plan`]: a simple command runs its resolved program directly, files are
//! touched at their resolved paths through [`crate::policy::safe_fs`], and every child gets
//! the allowlisted environment. The policy, approvals, redaction and audit wrap this seam
//! in [`crate::pipeline`]; nothing else calls it for real tasks.
//!
//! A process runs under a supervisor that outlives the worker when the worker has a spool
//! ([`execute_spooled`]): a crash or an upgrade of the worker then loses no finished work.
//!
//! # Layout
//! - [`process`]: child processes in their own group, capped output, group kill.
//! - [`job`]: a task's process as data, run in the worker or under a supervisor.
//! - [`supervisor`]: the supervisor, both sides.
//! - [`command`]: `command` tasks, direct or (approved shell syntax) through the shell.
//! - [`files`]: binary-safe reads, atomic writes, exact-match edits.
//! - [`claude`]: the Claude Code CLI, prompt as one argv element.
//! - [`agent`]: the agent CLIs of the worker config, prompt as one argv element.

pub mod agent;
pub mod capture;
pub mod claude;
pub mod command;
pub mod files;
pub mod job;
pub mod process;
pub mod supervisor;

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openclaw_shared::worker::ClaimedTask;
use openclaw_shared::{TaskOutcome, TaskSpec};
use tokio_util::sync::CancellationToken;

use crate::agents::AgentConfig;
use crate::config::Config;
use crate::policy::env::child_env;
use crate::policy::{CheckEnv, Plan, Policy};
use crate::redact::Redactor;
use crate::sandbox::{self, SandboxSpec, TaskTempDir};
use crate::spool::TaskSpool;
use job::{ProcessJob, JOB_VERSION};
use process::{run_process, ProcessLimits, ProcessOutput, Tees};
use supervisor::Supervisor;

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
    /// The agent CLIs of the config, by name; a bare `bin` is resolved like `claude_bin`.
    pub agents: BTreeMap<String, AgentConfig>,
    /// The whole environment of every child: the allowlisted part of the worker's own,
    /// never the worker token. Children start from an empty environment plus this.
    pub child_env: Vec<(OsString, OsString)>,
    /// How processes of spooled tasks are supervised ([`execute_spooled`]); `None` runs
    /// every process in the worker.
    pub supervisor: Option<Supervisor>,
    /// Redacts a long output next to its cuts (head and tail); `None` leaves that to the
    /// pipeline's redaction of the whole text.
    pub redactor: Option<Arc<Redactor>>,
    /// Most bytes per stream written to a supervised task's live output files (0: no live
    /// output).
    pub live_output_bytes: u64,
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
            agents: config.agents.clone(),
            child_env: child_env(std::env::vars_os(), &[], None),
            supervisor: None,
            redactor: None,
            live_output_bytes: if config.live_output_interval_ms > 0 {
                supervisor::LIVE_FILE_LIMIT_BYTES
            } else {
                0
            },
        }
    }

    /// Applies the policy: the child environment gets its `env.extra` names and, as
    /// `PATH`, the search path programs were checked against; `claude` gets the
    /// `[claude]` flags; a bare `claude_bin` (or agent `bin`) is resolved now through the worker's own
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
        let bins = std::iter::once(&mut self.claude_bin)
            .chain(self.agents.values_mut().map(|agent| &mut agent.bin));
        for bin in bins {
            if !bin.contains('/') {
                if let Some(found) = find_in_path(bin, &env.path) {
                    *bin = found.to_string_lossy().into_owned();
                }
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

    /// The process that runs `program` (seen as `arg0`) with `args` as `plan` says: in its
    /// sandbox, in `dir`, from an empty environment plus the allowlist, the plan's own
    /// variables and, when sandboxed, the task's temp dir as `TMPDIR`. `what` names it in
    /// error messages.
    #[allow(clippy::too_many_arguments, reason = "each is one fact of the process")]
    fn job(
        &self,
        plan: &Plan,
        program: &Path,
        arg0: Option<&str>,
        args: &[impl AsRef<OsStr>],
        dir: PathBuf,
        what: String,
        timeout: Duration,
    ) -> Result<ProcessJob, String> {
        let invocation = sandbox::invocation(plan.sandbox.as_ref(), program, arg0, args)
            .map_err(|err| err.to_string())?;
        let mut env = self.child_env.clone();
        env.extend(
            plan.env
                .iter()
                .map(|(k, v)| (OsString::from(k), OsString::from(v))),
        );
        if let Some(spec) = &plan.sandbox {
            env.push(("TMPDIR".into(), spec.tmpdir.clone().into_os_string()));
        }
        Ok(ProcessJob {
            version: JOB_VERSION,
            invocation,
            env,
            cwd: dir,
            sandbox: plan.sandbox.clone(),
            max_output_bytes: self.limits.max_output_bytes,
            kill_grace_ms: u64::try_from(self.limits.kill_grace.as_millis()).unwrap_or(u64::MAX),
            timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            what,
            live_output_bytes: self.live_output_bytes,
        })
    }

    /// Runs `job` to its end, its timeout or `cancel`: under a supervisor when the task is
    /// spooled and supervisors are set up, in the worker otherwise.
    async fn run_job(
        &self,
        job: &ProcessJob,
        spool: Option<&TaskSpool>,
        cancel: &CancellationToken,
    ) -> ProcessOutput {
        match (&self.supervisor, spool) {
            (Some(supervisor), Some(spool)) => supervisor.run(spool, job, cancel).await,
            _ => {
                run_process(
                    job.command(),
                    job.sandbox.as_ref(),
                    job.limits(),
                    job.timeout(),
                    cancel,
                    Tees::default(),
                )
                .await
            }
        }
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
/// happened. Never panics on task input; every failure is an outcome. Processes run in the
/// worker.
pub async fn execute(
    ctx: &ExecContext,
    task: &ClaimedTask,
    plan: &Plan,
    cancel: CancellationToken,
) -> TaskOutcome {
    execute_spooled(ctx, task, plan, cancel, None).await
}

/// [`execute`], with the task's process (if any) under a supervisor that outlives the
/// worker, its files in `spool` (which holds the task's record), when the context has
/// supervisors set up.
pub async fn execute_spooled(
    ctx: &ExecContext,
    task: &ClaimedTask,
    plan: &Plan,
    cancel: CancellationToken,
    spool: Option<&TaskSpool>,
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
        (TaskSpec::Command { .. }, _) => command::run(ctx, plan, timeout, &cancel, spool).await,
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
                prompt, session, ..
            },
            _,
        ) => {
            let run = claude::ClaudeRun {
                prompt,
                session: session.as_ref(),
            };
            claude::run(ctx, plan, run, timeout, &cancel, spool).await
        }
        (
            TaskSpec::Agent {
                agent,
                prompt,
                session,
                ..
            },
            _,
        ) => {
            let run = agent::AgentRun {
                agent,
                prompt,
                session: session.as_ref(),
            };
            agent::run(ctx, plan, run, timeout, &cancel, spool).await
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
        TaskSpec::Command { .. } | TaskSpec::Claude { .. } | TaskSpec::Agent { .. }
    ) {
        outcome
            .metadata
            .insert("sandbox".into(), sandbox_metadata(plan.sandbox.as_ref()));
    }
    outcome
}

/// The outcome of a process a supervisor ran for a worker that has stopped since: made
/// from its spooled `job` and `output` as [`execute_spooled`] would have made it, with the
/// time the process ran (a long output's cuts redacted with `redactor`).
pub fn adopted_outcome(
    task: &ClaimedTask,
    job: &ProcessJob,
    output: ProcessOutput,
    ran: Duration,
    redactor: Option<&Redactor>,
) -> TaskOutcome {
    let mut outcome = output.into_outcome(&job.what, job.timeout(), redactor);
    match &task.spec {
        TaskSpec::Claude { session, .. } => claude::annotate(&mut outcome, session.as_ref()),
        TaskSpec::Agent { agent, session, .. } => {
            agent::annotate(&mut outcome, agent, session.as_ref());
        }
        _ => {}
    }
    outcome.duration_ms = u64::try_from(ran.as_millis()).unwrap_or(u64::MAX);
    outcome
        .metadata
        .insert("sandbox".into(), sandbox_metadata(job.sandbox.as_ref()));
    outcome
}

/// What the result says about the confinement: `{profile, network}`, or `"none"` for a
/// process the owner approved to run unconfined.
fn sandbox_metadata(spec: Option<&SandboxSpec>) -> serde_json::Value {
    match spec {
        Some(spec) => serde_json::json!({
            "profile": spec.profile.as_str(),
            "network": spec.network,
        }),
        None => serde_json::json!("none"),
    }
}
