//! Each task's process runs under a small supervisor that outlives the worker: the worker
//! binary itself, started again as `openclaw-worker supervise`. It leaves the worker's
//! session, starts the task's process exactly as the worker would (the kernel sandbox
//! applied by the very same code, on the thread that spawns it), enforces the timeout,
//! captures the output up to the cap, and writes how it ended to the task's spool
//! directory ([`crate::spool`]). The worker waits for it and reads that; a worker that
//! crashed, or was replaced by a new binary, finds the directory when it starts and waits
//! for the supervisor in its turn ([`TaskSpool::supervisor`]). Either way the result is the
//! process's own, and the process ran once.
//!
//! Starting a process of the worker binary costs a millisecond or two, so a supervisor,
//! once its task is done, waits for the next one (in its own session still): the worker
//! keeps the ones it started (at most one per task running at once) and hands the next
//! task's directory to one that is free, on its stdin. A supervisor whose worker is gone
//! takes no new task: it finishes the one it has and exits.
//!
//! The supervisor itself is not confined: it only reads its job, spawns, waits and writes
//! the result. What the task's process may reach is decided by the job's sandbox alone.
//! A task cannot reach its supervisor's files (the state directory is hidden from every
//! sandbox) nor, under Landlock's scoping, signal it.
//!
//! Stopping: the worker sends the supervisor SIGTERM (a cancel, the shutdown's grace over);
//! the supervisor kills the task's process group as the worker would (SIGTERM, the grace,
//! SIGKILL) and records the task `cancelled`.
//!
//! # Layout
//! - this file: [`Supervisor`], the worker's side.
//! - `child.rs`: [`supervise`], the supervisor process.
//! - `result.rs`: the result file.
//! - `live.rs`: the live output files it writes as the process prints ([`live_tees`]).

mod child;
mod live;
mod result;

use std::io;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio_util::sync::CancellationToken;

pub use child::{requested, supervise, DONE, REFUSED, SUPERVISE_COMMAND};
pub use live::{live_tees, LIVE_FILE_LIMIT_BYTES};
pub use result::read as read_result;

use super::job::ProcessJob;
use super::process::{Captured, ProcessEnd, ProcessOutput};
use crate::files::private_file;
use crate::spool::{write_new, Supervisor as Lock, TaskSpool};

/// How often a worker looks whether an adopted task's supervisor is still alive (a
/// non-blocking `flock`): the latency of its result after the process ends.
pub const ADOPTED_POLL_INTERVAL: Duration = Duration::from_millis(100);

/// How long a worker that finds a task handed to a supervisor, but not locked by it, waits
/// before it concludes that no supervisor took it.
pub const HANDOVER_GRACE: Duration = Duration::from_millis(500);

/// A supervisor process waiting for a task on its stdin.
struct Ready {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
}

/// How to start supervisors: the worker binary to run as one, and the ones free for a task.
#[derive(Clone)]
pub struct Supervisor {
    exe: PathBuf,
    /// Supervisors whose task is done, waiting for the next. A std mutex: held only to
    /// take or put one.
    ready: Arc<Mutex<Vec<Ready>>>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("exe", &self.exe)
            .finish_non_exhaustive()
    }
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
        Ok(Self::at(exe))
    }

    /// Supervisors run `exe` (tests name the worker binary; their own is a test runner).
    pub fn at(exe: impl Into<PathBuf>) -> Self {
        Self {
            exe: exe.into(),
            ready: Arc::default(),
        }
    }

    /// Runs `job` under a supervisor, with `spool` (which must exist, holding the task's
    /// record) as its directory: to its end, its timeout or `cancel`. What it returns is
    /// what [`run_process`](super::process::run_process) would have. Must be called within
    /// a tokio runtime.
    pub async fn run(
        &self,
        spool: &TaskSpool,
        job: &ProcessJob,
        cancel: &CancellationToken,
    ) -> ProcessOutput {
        if let Err(err) = write_job(spool, job) {
            return failed(ProcessEnd::SpawnFailed(err));
        }
        // A free supervisor may have died since (SIGTERM from elsewhere): if it never took
        // the task, a new one gets it, once.
        let mut fresh_only = false;
        loop {
            let mut ready = match self.hand_over(spool, fresh_only).await {
                Ok(ready) => ready,
                Err(err) => return failed(ProcessEnd::SpawnFailed(err)),
            };
            let pid = ready
                .child
                .id()
                .and_then(|id| i32::try_from(id).ok())
                .map(Pid::from_raw);
            let mut said = String::new();
            let mut stopped = false;
            let mut stdout = BufReader::new(&mut ready.stdout);
            loop {
                tokio::select! {
                    // A word, or EOF: either way the supervisor is done with this task.
                    _ = stdout.read_line(&mut said) => break,
                    () = cancel.cancelled(), if !stopped => {
                        stopped = true;
                        if let Some(pid) = pid {
                            let _ = kill(pid, Signal::SIGTERM);
                        }
                    }
                }
            }
            let done = said.trim_end() == DONE;
            match read_result(&spool.result_file()) {
                Ok((output, _ran)) => {
                    // One we signalled may take our SIGTERM for one between tasks.
                    if done && !stopped {
                        self.put_back(ready);
                    }
                    return output;
                }
                Err(_) if stopped => return failed(ProcessEnd::Cancelled(None)),
                Err(_) if !fresh_only && spool.supervisor() == Lock::NeverStarted => {
                    fresh_only = true;
                }
                Err(err) => {
                    return failed(ProcessEnd::WaitFailed(io::Error::other(format!(
                        "the task's supervisor ended without recording how the task ended \
                         ({err})"
                    ))))
                }
            }
        }
    }

    /// Hands the task's directory to a supervisor: a free one (unless `fresh_only`), or a
    /// new one.
    async fn hand_over(&self, spool: &TaskSpool, fresh_only: bool) -> io::Result<Ready> {
        let line = format!("{}\n", spool.dir().display());
        loop {
            let free = if fresh_only {
                None
            } else {
                self.ready
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .pop()
            };
            let (mut ready, new) = match free {
                Some(ready) => (ready, false),
                None => (self.start().map_err(|err| cannot("start", err))?, true),
            };
            match ready.stdin.write_all(line.as_bytes()).await {
                Ok(()) => return Ok(ready),
                Err(err) if new => return Err(cannot("reach", err)),
                // A free one that died meanwhile: try the next.
                Err(_) => {}
            }
        }
    }

    /// Keeps a supervisor whose task is done for the next task.
    fn put_back(&self, ready: Ready) {
        self.ready
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(ready);
    }

    /// A new supervisor process, waiting for its task on the pipe that is its stdin.
    fn start(&self) -> io::Result<Ready> {
        let mut child = tokio::process::Command::new(&self.exe)
            .arg(SUPERVISE_COMMAND)
            // Nothing of the worker's environment (the token least of all): the job
            // carries the task's whole environment.
            .env_clear()
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            // What it has to say goes in the result file.
            .stderr(Stdio::null())
            .spawn()?;
        match (child.stdin.take(), child.stdout.take()) {
            (Some(stdin), Some(stdout)) => Ok(Ready {
                child,
                stdin,
                stdout,
            }),
            _ => Err(io::Error::other("the supervisor has no pipes")),
        }
    }
}

/// Writes the job and the (empty) lock file into the task's directory.
fn write_job(spool: &TaskSpool, job: &ProcessJob) -> io::Result<()> {
    let json = serde_json::to_vec(job).map_err(|err| cannot("describe the job for", err.into()))?;
    write_new(&spool.job_file(), &json).map_err(|err| cannot("write the job of", err))?;
    private_file()
        .write(true)
        .create_new(true)
        .open(spool.lock_file())
        .map(drop)
        .map_err(|err| cannot("create the lock of", err))
}

/// An error about the task's supervisor, saying what could not be done.
fn cannot(what: &str, err: io::Error) -> io::Error {
    io::Error::new(
        err.kind(),
        format!("cannot {what} the task's supervisor: {err}"),
    )
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
