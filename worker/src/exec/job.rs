//! A task's process as data ([`ProcessJob`]): what runs, where, with which environment, in
//! which sandbox, under which limits. The executors build one per process; it then runs in
//! the worker or, with a spool, under a supervisor that reads it from its job file. Either
//! way the command is made by [`ProcessJob::command`], so both paths start the same thing.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::process::ProcessLimits;
use crate::sandbox::{Invocation, SandboxSpec};

/// The job file's format version; a supervisor refuses another.
pub const JOB_VERSION: u32 = 1;

/// One task process, everything needed to start it and to turn its end into an outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessJob {
    /// [`JOB_VERSION`].
    pub version: u32,
    /// The program and its arguments, wrapper included (`sandbox-exec` on macOS).
    pub invocation: Invocation,
    /// The whole environment (the child starts from an empty one).
    pub env: Vec<(OsString, OsString)>,
    /// The working directory.
    pub cwd: PathBuf,
    /// The kernel sandbox to confine it to (`None`: unconfined, as approved).
    pub sandbox: Option<SandboxSpec>,
    /// Cap on each captured stream, bytes (the capture keeps the redaction margin more).
    pub max_output_bytes: usize,
    /// Time between SIGTERM and SIGKILL when it is stopped, milliseconds.
    pub kill_grace_ms: u64,
    /// How long it may run, milliseconds.
    pub timeout_ms: u64,
    /// The program in words, for error messages (`/usr/bin/git`, `shell /bin/sh`).
    pub what: String,
    /// Most bytes per stream a supervisor writes to the task's live output files as the
    /// process writes them ([`crate::live`]); 0 (and absent, from older workers): none.
    #[serde(default)]
    pub live_output_bytes: u64,
}

impl ProcessJob {
    /// The command: the invocation, from an empty environment plus [`ProcessJob::env`], in
    /// [`ProcessJob::cwd`]. Stdio and the process group are set where it is spawned.
    pub fn command(&self) -> tokio::process::Command {
        let mut cmd = self.invocation.command();
        cmd.env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.cwd);
        cmd
    }

    /// The limits it runs under.
    pub fn limits(&self) -> ProcessLimits {
        ProcessLimits {
            max_output_bytes: self.max_output_bytes,
            kill_grace: Duration::from_millis(self.kill_grace_ms),
        }
    }

    /// How long it may run.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}
