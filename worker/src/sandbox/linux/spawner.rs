//! The threads children are started from. Each is restricted once (capabilities dropped,
//! Landlock, then seccomp), starts one child, which inherits it all, and ends: a
//! restricted thread is never reused, and the worker's own threads are never restricted.
//!
//! One such thread is kept waiting ahead of time, so starting a thread (about 30 µs on
//! the 2-core test machine, more when the scheduler queues it behind busy ones) is off
//! the path to the child: the next one is started while the child just spawned runs.
//! Measured against a fresh thread per spawn on that machine under load, the gain at p50
//! was small (0–95 µs); a fresh scoped thread would do, at that cost.
//!
//! The waiting thread also installs the seccomp filter for a task without the network
//! (almost every auto-allowed task) before it waits: loading a filter costs about 30 µs,
//! which then falls between tasks instead of on one. A task with the network gets a
//! fresh thread instead, and the filtered one keeps waiting for the next.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use seccompiler::BpfProgram;
use tokio::process::{Child, Command};

use super::carve::Grant;
use super::{landlock, privileges, seccomp};
use crate::sandbox::{SandboxError, SpawnError};

/// One confined spawn: the command and what to confine it to.
pub struct Job {
    /// The command, handed back with the result.
    pub cmd: Command,
    /// The Landlock rules.
    pub grants: Vec<Grant>,
    /// Whether TCP is allowed (Landlock's part of the network switch).
    pub network: bool,
    /// The seccomp filter.
    pub filter: &'static BpfProgram,
    /// The runtime the child is registered with.
    pub runtime: tokio::runtime::Handle,
}

/// How long a spawn waits for its thread. Restricting a thread and starting a process
/// take milliseconds; this only turns a thread that can never answer (one lost to a
/// `fork` of the worker, say) into an error instead of a hang.
const THREAD_ANSWER_LIMIT: Duration = Duration::from_secs(30);

/// What a spawning thread hands back: the command, and the child or why there is none.
type Done = (Command, Result<Child, SpawnError>);

/// A thread waiting for its one job.
struct Standby {
    jobs: SyncSender<Job>,
    done: Receiver<Done>,
    /// It installs the filter for tasks without the network before it waits: a job with
    /// the network must not go to it.
    offline: bool,
}

/// The thread kept waiting for the next spawn, if one is. A std mutex: it is held only to
/// take or put the handle.
static STANDBY: Mutex<Option<Standby>> = Mutex::new(None);

/// Runs `job` on a thread of its own (the waiting one, or a new one if another spawn has
/// taken it) and waits for the result.
pub fn run(job: Job) -> Result<Done, SandboxError> {
    let standby = {
        let mut slot = STANDBY.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.take() {
            Some(waiting) if waiting.offline && job.network => {
                *slot = Some(waiting);
                None
            }
            waiting => waiting,
        }
    };
    let standby = match standby {
        Some(standby) => standby,
        None => start(false)?,
    };
    let lost = || SandboxError::Apply("the sandbox thread did not answer".to_owned());
    standby.jobs.send(job).map_err(|_| lost())?;
    let done = standby
        .done
        .recv_timeout(THREAD_ANSWER_LIMIT)
        .map_err(|_| lost())?;
    prepare();
    Ok(done)
}

/// Starts the next waiting thread unless one is waiting already. Failing to start one is
/// not an error: the next spawn starts its own.
pub fn prepare() {
    let mut slot = STANDBY.lock().unwrap_or_else(PoisonError::into_inner);
    if slot.is_none() {
        match start(true) {
            Ok(standby) => *slot = Some(standby),
            Err(err) => tracing::warn!(error = %err, "cannot start a waiting sandbox thread"),
        }
    }
}

/// Starts a thread that waits for one job; with `offline`, it installs the filter for a
/// task without the network first.
fn start(offline: bool) -> Result<Standby, SandboxError> {
    let (jobs, next_job) = mpsc::sync_channel::<Job>(1);
    let (finished, done) = mpsc::sync_channel::<Done>(1);
    std::thread::Builder::new()
        .name("sandbox-spawn".to_owned())
        .spawn(move || {
            let filtered = offline
                && seccomp::filter(false)
                    .and_then(seccomp::apply_to_current_thread)
                    .is_ok();
            // Dropping the sender (the worker exiting) ends the wait with nothing to do.
            let Ok(mut job) = next_job.recv() else {
                return;
            };
            let result = confine_and_spawn(&mut job, filtered);
            // The caller may have given up waiting; the child is then dropped here.
            let _ = finished.send((job.cmd, result));
        })
        .map_err(|err| SandboxError::Apply(format!("cannot start a sandbox thread: {err}")))?;
    // Whether or not the filter went in, a thread meant to be offline is never given a
    // task with the network; one whose filter failed installs the job's own instead.
    Ok(Standby {
        jobs,
        done,
        offline,
    })
}

/// Drops this thread's capabilities, restricts it as `job` says and spawns its command,
/// which inherits it all. `filtered`: the offline filter is installed already (the job is
/// offline then; the filter refuses none of the calls the drop and Landlock make).
fn confine_and_spawn(job: &mut Job, filtered: bool) -> Result<Child, SpawnError> {
    privileges::drop_all()?;
    landlock::restrict_current_thread(&job.grants, job.network)?;
    if !filtered {
        seccomp::apply_to_current_thread(job.filter)?;
    }
    let _runtime = job.runtime.enter();
    job.cmd.spawn().map_err(SpawnError::Spawn)
}
