//! Each task's process runs under a small supervisor that outlives the worker: the worker
//! binary itself, started again as `openclaw-worker supervise <spool dir>`. It leaves the
//! worker's session, starts the task's process exactly as the worker would (the kernel
//! sandbox applied by the very same code, on the thread that spawns it), enforces the
//! timeout, captures the output up to the cap, and writes how it ended to the task's spool
//! directory ([`crate::spool`]). The worker waits for it and reads that; a worker that
//! crashed, or was replaced by a new binary, finds the directory when it starts and waits
//! for the supervisor in its turn ([`TaskSpool::supervisor`]). Either way the result is the
//! process's own, and the process ran once.
//!
//! The supervisor itself is not confined: it only reads its job, spawns, waits and writes
//! the result. What the task's process may reach is decided by the job's sandbox alone.
//! A task cannot reach its supervisor's files (the state directory is hidden from every
//! sandbox) nor, under Landlock's scoping, signal it.
//!
//! Stopping: the worker sends the supervisor SIGTERM (a cancel, a timeout on the worker's
//! side, the shutdown's grace over); the supervisor kills the task's process group as the
//! worker would (SIGTERM, the grace, SIGKILL) and records the task `cancelled`.
//!
//! # Layout
//! - this file: [`Supervisor`], the worker's side.
//! - `child.rs`: [`supervise`], the supervisor process.
//! - `result.rs`: the result file.

mod child;
mod result;

use std::io;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio_util::sync::CancellationToken;

pub use child::{requested, supervise, SUPERVISE_COMMAND};
pub use result::read as read_result;

use super::job::ProcessJob;
use super::process::{Captured, ProcessEnd, ProcessOutput};
use crate::files::private_file;
use crate::spool::{write_new, Supervisor as Lock, TaskSpool};

/// How often a worker looks whether an adopted task's supervisor is still alive (a
/// non-blocking `flock`): the latency of its result after the process ends.
pub const ADOPTED_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// How to start supervisors: the worker binary to run as one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supervisor {
    exe: PathBuf,
}

impl Supervisor {
    /// Supervisors run the binary running now. On Linux that is `/proc/self/exe`, which
    /// names the running file even after an upgrade replaced it on disk; elsewhere the
    /// path it was started from (a new binary there speaks the same versioned job file).
    pub fn current() -> io::Result<Self> {
        let exe = if cfg!(target_os = "linux") {
            PathBuf::from("/proc/self/exe")
        } else {
            std::env::current_exe()?
        };
        Ok(Self { exe })
    }

    /// Supervisors run `exe` (tests name the worker binary; their own is a test runner).
    pub fn at(exe: impl Into<PathBuf>) -> Self {
        Self { exe: exe.into() }
    }

    /// Runs `job` under a supervisor, with `spool` (which must exist, holding the task's
    /// record) as its directory: to its end, its timeout or `cancel`. What it returns is
    /// what [`run_process`](super::process::run_process) would have.
    pub async fn run(
        &self,
        spool: &TaskSpool,
        job: &ProcessJob,
        cancel: &CancellationToken,
    ) -> ProcessOutput {
        let mut child = match self.start(spool, job) {
            Ok(child) => child,
            Err(err) => return failed(ProcessEnd::SpawnFailed(err)),
        };
        let pid = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw);
        let mut stopped = false;
        let status = loop {
            tokio::select! {
                status = child.wait() => break status,
                () = cancel.cancelled(), if !stopped => {
                    stopped = true;
                    if let Some(pid) = pid {
                        let _ = kill(pid, Signal::SIGTERM);
                    }
                }
            }
        };
        match read_result(&spool.result_file()) {
            Ok((output, _ran)) => output,
            // Stopped before it could record anything (our SIGTERM came first): nothing
            // of the task ran, or it ran and was killed with its supervisor.
            Err(_) if stopped => failed(ProcessEnd::Cancelled(None)),
            Err(err) => {
                let how = match status {
                    Ok(status) => status.to_string(),
                    Err(wait) => format!("unknown: {wait}"),
                };
                failed(ProcessEnd::WaitFailed(io::Error::other(format!(
                    "the task's supervisor ended ({how}) without recording how the task \
                     ended ({err})"
                ))))
            }
        }
    }

    /// Writes the job, locks the lock file and starts the supervisor with the locked file
    /// as its stdin: the lock then lives exactly as long as the supervisor.
    fn start(&self, spool: &TaskSpool, job: &ProcessJob) -> io::Result<tokio::process::Child> {
        let cannot = |what: &str, err: io::Error| {
            io::Error::new(
                err.kind(),
                format!("cannot {what} the task's supervisor: {err}"),
            )
        };
        let json =
            serde_json::to_vec(job).map_err(|err| cannot("describe the job for", err.into()))?;
        write_new(&spool.job_file(), &json).map_err(|err| cannot("write the job of", err))?;
        let lock = private_file()
            .read(true)
            .write(true)
            .create_new(true)
            .open(spool.lock_file())
            .map_err(|err| cannot("create the lock of", err))?;
        rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive)
            .map_err(|err| cannot("lock the lock of", err.into()))?;
        tokio::process::Command::new(&self.exe)
            .arg(SUPERVISE_COMMAND)
            .arg(spool.dir())
            // Nothing of the worker's environment (the token least of all): the job
            // carries the task's whole environment.
            .env_clear()
            .current_dir("/")
            .stdin(Stdio::from(lock))
            // Its own output is nothing: what it has to say goes in the result file.
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| cannot("start", err))
    }
}

/// The output of a process that produced none.
fn failed(end: ProcessEnd) -> ProcessOutput {
    ProcessOutput {
        stdout: Captured::default(),
        stderr: Captured::default(),
        end,
    }
}

/// Waits until the supervisor in `spool` is gone (a task adopted from a worker that
/// stopped), sending it SIGTERM once `cancel` fires. The pid is read from the lock file
/// and signalled only while the lock is held, so a pid reused since is never hit.
pub async fn wait_adopted(spool: &TaskSpool, cancel: &CancellationToken) {
    let mut stopped = false;
    while spool.supervisor() == Lock::Alive {
        if cancel.is_cancelled() && !stopped {
            stopped = true;
            if let Some(pid) = spool.supervisor_pid().filter(|&pid| pid > 1) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            }
        }
        tokio::select! {
            () = tokio::time::sleep(ADOPTED_POLL_INTERVAL) => {}
            () = cancel.cancelled(), if !stopped => {}
        }
    }
}

/// The result the supervisor in `spool` left, as output, and how long the process ran.
pub fn adopted_output(spool: &TaskSpool) -> io::Result<(ProcessOutput, Duration)> {
    read_result(&spool.result_file())
}
