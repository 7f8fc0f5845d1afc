//! The supervisor process, `openclaw-worker supervise`: started by the worker, never by
//! hand, with no environment. It leaves the worker's session, gets ready (its runtime, its
//! SIGTERM handler, a sandbox thread waiting) and takes tasks one at a time: the worker
//! writes a task's spool directory on its stdin, a line; the supervisor locks the task (its
//! lock file, held while the task runs), runs the job, writes the result, lets go of the
//! lock and says `done` on its stdout. Then it waits for the next one. EOF on stdin (the
//! worker gone) ends it once its task is done; so does SIGTERM while it waits (SIGTERM
//! during a task stops the task).

use std::fs::File;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::result;
use crate::exec::job::{ProcessJob, JOB_VERSION};
use crate::exec::process::{run_process, Captured, ProcessEnd, ProcessOutput};
use crate::sandbox;
use crate::spool::TaskSpool;

/// The hidden subcommand that makes the worker binary a task's supervisor.
pub const SUPERVISE_COMMAND: &str = "supervise";
/// What a supervisor says on its stdout once a task's result is written.
pub const DONE: &str = "done";
/// What it says when it will not run a task (locked by another, or started before).
pub const REFUSED: &str = "refused";

/// Whether this process was started as a supervisor (`<binary> supervise`, nothing else).
pub fn requested() -> bool {
    let mut args = std::env::args_os().skip(1);
    args.next().is_some_and(|arg| arg == SUPERVISE_COMMAND) && args.next().is_none()
}

/// Runs as a supervisor until the worker is gone or SIGTERM comes between tasks. Exit code
/// 0 then; 1 when a result could not be written.
pub fn supervise() -> ExitCode {
    // A runtime first: the SIGTERM handler needs one, and must be in place before the
    // worker has a reason to stop us.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(run()),
        Err(_) => ExitCode::from(2),
    }
}

async fn run() -> ExitCode {
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return ExitCode::from(2);
    };
    // Out of the worker's session and process group: a terminal's hangup or Ctrl-C, and a
    // service manager cleaning up after the worker, no longer reach this process.
    let _ = nix::unistd::setsid();
    let Some(mut tasks) = handed_tasks() else {
        return ExitCode::from(2);
    };
    loop {
        // Ready before the task comes: the thread a confined child is started from.
        sandbox::prepare_spawn();
        let line = tokio::select! {
            line = tasks.recv() => match line {
                Some(line) => line,
                // EOF: the worker is gone, and no task will come.
                None => return ExitCode::SUCCESS,
            },
            _ = term.recv() => return ExitCode::SUCCESS,
        };
        let taken = TaskSpool::from_dir(&PathBuf::from(line.trim_end()))
            .and_then(|spool| Some((take(&spool)?, spool)));
        let Some((lock, spool)) = taken else {
            say(REFUSED);
            continue;
        };
        let (output, ran) = execute(&spool, &mut term).await;
        if result::write(&spool.result_file(), &output, ran).is_err() {
            // The worker reads no result, and reports that.
            return ExitCode::FAILURE;
        }
        drop(lock);
        say(DONE);
    }
}

/// The task directories the worker writes on stdin, a line each, read by a thread of its
/// own: a blocking read cannot be cancelled, and one on the runtime's blocking pool would
/// hold the runtime's shutdown (on SIGTERM) until the worker wrote. Closed at EOF.
fn handed_tasks() -> Option<mpsc::Receiver<String>> {
    let (hand, tasks) = mpsc::channel(1);
    std::thread::Builder::new()
        .name("supervisor-stdin".to_owned())
        .spawn(move || {
            let stdin = std::io::stdin();
            let mut line = String::new();
            while matches!(stdin.read_line(&mut line), Ok(n) if n > 0) {
                if hand.blocking_send(std::mem::take(&mut line)).is_err() {
                    break;
                }
            }
        })
        .ok()?;
    Some(tasks)
}

/// Tells the worker `word`, a line on stdout. The worker may be gone: nobody to tell then,
/// and what matters is on disk.
fn say(word: &str) {
    let mut stdout = std::io::stdout();
    let _ = stdout.write_all(format!("{word}\n").as_bytes());
    let _ = stdout.flush();
}

/// Locks the task and writes our pid in its lock file; the lock lasts until the file is
/// closed (dropped). `None` when the task is not one to run: locked by another, started
/// once already (a pid is in the file), or ended.
fn take(spool: &TaskSpool) -> Option<File> {
    let mut lock = File::options()
        .read(true)
        .write(true)
        .open(spool.lock_file())
        .ok()?;
    rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).ok()?;
    let started_before = lock.metadata().ok()?.len() > 0;
    if started_before || spool.result_file().exists() {
        // A job runs once: a supervisor died running it, or it has its result.
        return None;
    }
    lock.write_all(format!("{}\n", std::process::id()).as_bytes())
        .ok()?;
    Some(lock)
}

/// Runs the task's job until it ends, its timeout, or SIGTERM (which stops it): what it
/// did, and how long it ran.
async fn execute(spool: &TaskSpool, term: &mut Signal) -> (ProcessOutput, Duration) {
    let started = Instant::now();
    let job = match read_job(spool) {
        Ok(job) => job,
        Err(why) => {
            let output = ProcessOutput {
                stdout: Captured::default(),
                stderr: Captured::default(),
                end: ProcessEnd::SpawnFailed(std::io::Error::other(why)),
            };
            return (output, started.elapsed());
        }
    };
    let cancel = CancellationToken::new();
    let running = run_process(
        job.command(),
        job.sandbox.as_ref(),
        job.limits(),
        job.timeout(),
        &cancel,
        super::live_tees(spool, job.live_output_bytes),
    );
    tokio::pin!(running);
    let output = loop {
        tokio::select! {
            output = &mut running => break output,
            _ = term.recv(), if !cancel.is_cancelled() => cancel.cancel(),
        }
    };
    // Its temp dir goes with the process, whether or not a worker is there to care.
    if let Some(spec) = &job.sandbox {
        let _ = std::fs::remove_dir_all(&spec.tmpdir);
    }
    (output, started.elapsed())
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
