//! The supervisor process, `openclaw-worker supervise <task's spool dir>`: started by the
//! worker, never by hand. It runs with no environment, in its own session, its stdin the
//! task's lock file (locked: the lock lives as long as this process).

use std::os::fd::AsFd as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;

use super::result;
use crate::exec::job::{ProcessJob, JOB_VERSION};
use crate::exec::process::{run_process, Captured, ProcessEnd, ProcessOutput};
use crate::spool::TaskSpool;

/// The hidden subcommand that makes the worker binary a task's supervisor.
pub const SUPERVISE_COMMAND: &str = "supervise";

/// The task directory, when this process was started as a supervisor
/// (`<binary> supervise <dir>`, nothing else on the command line).
pub fn requested() -> Option<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != SUPERVISE_COMMAND {
        return None;
    }
    let dir = PathBuf::from(args.next()?);
    args.next().is_none().then_some(dir)
}

/// Runs as the supervisor of the task in `dir`: starts its job, waits for it (or SIGTERM,
/// which stops it), and writes the result. Exit code 0 when a result was written.
pub fn supervise(dir: &Path) -> ExitCode {
    // A runtime first: the SIGTERM handler needs one, and must be in place before the
    // worker has a reason to stop us.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(run(dir)),
        Err(_) => ExitCode::from(2),
    }
}

async fn run(dir: &Path) -> ExitCode {
    let cancel = CancellationToken::new();
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return ExitCode::from(2);
    };
    // Out of the worker's session and process group: a terminal's hangup or Ctrl-C, and a
    // service manager cleaning up after the worker, no longer reach this process.
    let _ = nix::unistd::setsid();
    let Some(spool) = TaskSpool::from_dir(dir) else {
        return ExitCode::from(2);
    };
    if !holds_the_lock(&spool) || spool.result_file().exists() {
        // Not started by a worker for this task (or its result is in): a job runs once.
        return ExitCode::from(2);
    }
    // The pid in the lock file says "a supervisor started" and whom to signal.
    let _ = rustix::io::write(
        std::io::stdin().as_fd(),
        format!("{}\n", std::process::id()).as_bytes(),
    );
    let started = Instant::now();
    let output = match read_job(&spool) {
        Ok(job) => {
            let stop = cancel.clone();
            tokio::spawn(async move {
                term.recv().await;
                stop.cancel();
            });
            let output = run_process(
                job.command(),
                job.sandbox.as_ref(),
                job.limits(),
                job.timeout(),
                &cancel,
            )
            .await;
            // Its temp dir goes with the process, whether or not a worker is there to care.
            if let Some(spec) = &job.sandbox {
                let _ = std::fs::remove_dir_all(&spec.tmpdir);
            }
            output
        }
        Err(why) => ProcessOutput {
            stdout: Captured::default(),
            stderr: Captured::default(),
            end: ProcessEnd::SpawnFailed(std::io::Error::other(why)),
        },
    };
    match result::write(&spool.result_file(), &output, started.elapsed()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

/// Whether our stdin is this task's lock file (the one the worker locked for us).
fn holds_the_lock(spool: &TaskSpool) -> bool {
    let (Ok(ours), Ok(theirs)) = (
        rustix::fs::fstat(std::io::stdin().as_fd()),
        rustix::fs::stat(spool.lock_file()),
    ) else {
        return false;
    };
    ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino
}

/// The task's job, checked for its version.
fn read_job(spool: &TaskSpool) -> Result<ProcessJob, String> {
    let bytes = std::fs::read(spool.job_file())
        .map_err(|err| format!("cannot read the task's job: {err}"))?;
    let job: ProcessJob = serde_json::from_slice(&bytes)
        .map_err(|err| format!("the task's job does not parse: {err}"))?;
    if job.version != JOB_VERSION {
        return Err(format!(
            "the task's job is of version {}; this supervisor runs version {JOB_VERSION}",
            job.version
        ));
    }
    Ok(job)
}
