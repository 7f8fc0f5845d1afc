//! The kernel sandbox: every command and Claude run is confined to what the policy lets it
//! touch, by the kernel, where the program cannot argue with it. Parsing a request decides
//! *whether* a task runs; the sandbox decides what the running program can reach — its own
//! config files, its arguments and the file system notwithstanding.
//!
//! Decide in pure code, enforce in the OS: [`spec::derive`] turns (policy, task, verdict)
//! into a [`SandboxSpec`] — trees readable, writable, runnable, paths hidden, network yes
//! or no — and a small applier per platform makes it real: Landlock and seccomp on Linux
//! ([`linux`]), a Seatbelt profile run through `sandbox-exec` on macOS ([`seatbelt`]).
//!
//! # Layout
//! - [`spec`]: the pure derivation, and the system trees a program needs to run.
//! - [`status`]: what this machine offers, probed once at start (fail closed without it).
//! - [`linux`]: Landlock + seccomp, applied on a fresh thread the child inherits them from.
//! - [`seatbelt`]: the macOS profile, rendered on every platform (golden tests).

pub mod seatbelt;
pub mod spec;
pub mod status;

#[cfg(target_os = "linux")]
pub mod linux;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::policy::confinement::{Access, Profile, SandboxSpec, Tree};
pub use spec::{derive, SandboxEnv};
pub use status::SandboxStatus;

/// Why a confined process could not be started. The task fails; nothing ran.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The sandbox is required but this platform or kernel cannot apply it.
    #[error("the kernel sandbox is not available here: {0}")]
    Unavailable(String),
    /// The kernel refused the rules (or a tree could not be opened).
    #[error("cannot apply the sandbox: {0}")]
    Apply(String),
    /// The task's temporary directory could not be created.
    #[error("cannot create the task's temp dir {path}: {source}")]
    TempDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// The command that runs `program` (seen as `arg0`) with `args`, confined by `spec`. On
/// macOS that is `sandbox-exec -p <profile> -- program args…` (so `argv[0]` becomes the
/// program's path); on Linux it is the plain command, confined at [`spawn`].
pub fn command(
    spec: Option<&SandboxSpec>,
    program: &Path,
    arg0: Option<&str>,
    args: &[impl AsRef<OsStr>],
) -> Result<tokio::process::Command, SandboxError> {
    #[cfg(target_os = "macos")]
    if let Some(spec) = spec {
        return seatbelt::command(spec, program, args);
    }
    let _ = spec;
    let mut cmd = tokio::process::Command::new(program);
    if let Some(arg0) = arg0 {
        cmd.arg0(arg0);
    }
    cmd.args(args);
    Ok(cmd)
}

/// What [`command`] runs, as data: the program, `argv[0]` when the program runs itself
/// (not under a wrapper such as `sandbox-exec`), and the arguments. A task's supervisor
/// gets it in its job file and rebuilds exactly that command ([`Invocation::command`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invocation {
    /// The program started.
    pub program: OsString,
    /// What it sees as `argv[0]`, when not its path.
    pub arg0: Option<OsString>,
    /// The arguments after `argv[0]`.
    pub args: Vec<OsString>,
}

/// The [`command`] for `program` as data: built by [`command`] itself, then read back.
pub fn invocation(
    spec: Option<&SandboxSpec>,
    program: &Path,
    arg0: Option<&str>,
    args: &[impl AsRef<OsStr>],
) -> Result<Invocation, SandboxError> {
    let built = command(spec, program, arg0, args)?;
    let std = built.as_std();
    // `argv[0]` goes to the program only when the command runs the program itself.
    let wrapped = std.get_program() != program.as_os_str();
    Ok(Invocation {
        program: std.get_program().to_owned(),
        arg0: if wrapped {
            None
        } else {
            arg0.map(OsString::from)
        },
        args: std.get_args().map(OsStr::to_owned).collect(),
    })
}

impl Invocation {
    /// The command this describes (no environment, directory or stdio set yet).
    pub fn command(&self) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(&self.program);
        if let Some(arg0) = &self.arg0 {
            cmd.arg0(arg0);
        }
        cmd.args(&self.args);
        cmd
    }
}

/// Spawns `cmd`, confined by `spec`. On Linux the Landlock and seccomp rules are applied
/// to a fresh thread that spawns the child, which inherits them before its first
/// instruction (see [`linux`]). On macOS [`command`] already wrapped it in `sandbox-exec`.
/// A spec this platform cannot apply is an error: nothing runs unconfined by accident.
pub fn spawn(
    cmd: &mut tokio::process::Command,
    spec: Option<&SandboxSpec>,
) -> Result<tokio::process::Child, SpawnError> {
    let Some(spec) = spec else {
        return cmd.spawn().map_err(SpawnError::Spawn);
    };
    #[cfg(target_os = "linux")]
    {
        linux::spawn(cmd, spec)
    }
    #[cfg(target_os = "macos")]
    {
        let _ = spec;
        cmd.spawn().map_err(SpawnError::Spawn)
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        let _ = spec;
        Err(SpawnError::Sandbox(SandboxError::Unavailable(
            "no sandbox for this operating system".to_owned(),
        )))
    }
}

/// Gets the next confined spawn ready ahead of time: on Linux a thread waiting to start it,
/// its seccomp filter for a task without the network already in (a task's supervisor does
/// this while it waits for its task); nothing elsewhere.
pub fn prepare_spawn() {
    #[cfg(target_os = "linux")]
    linux::prepare();
}

/// Why [`spawn`] failed.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    /// The sandbox could not be set up: nothing was started.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The program could not be started.
    #[error(transparent)]
    Spawn(std::io::Error),
}

/// The task's temp dir, created empty (0700) and removed with everything in it on drop.
#[derive(Debug)]
pub struct TaskTempDir {
    path: PathBuf,
}

impl TaskTempDir {
    /// Creates `spec.tmpdir`. It must not exist yet: a directory (or link) planted there
    /// beforehand is refused, never reused.
    pub fn create(spec: &SandboxSpec) -> Result<Self, SandboxError> {
        use std::os::unix::fs::DirBuilderExt as _;
        let path = spec.tmpdir.clone();
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(|source| SandboxError::TempDir {
                path: path.clone(),
                source,
            })?;
        Ok(Self { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TaskTempDir {
    fn drop(&mut self) {
        // remove_dir_all never follows a symlink the task left inside.
        if let Err(err) = std::fs::remove_dir_all(&self.path) {
            if err.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(dir = %self.path.display(), error = %err, "cannot remove a task's temp dir");
            }
        }
    }
}
