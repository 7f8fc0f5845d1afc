//! The threads children are started from. Each is restricted once (Landlock, then
//! seccomp), starts one child, which inherits both, and ends: a restricted thread is
//! never reused, and the worker's own threads are never restricted.
//!
//! One such thread is kept waiting ahead of time. A new thread has to wait for a CPU
//! before its first instruction (under load, a millisecond and more, as the scheduler
//! queues new threads behind busy ones), while a waiting thread that is woken runs at
//! once. The next one is started while the child just spawned is already running.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Mutex, PoisonError};

use seccompiler::BpfProgram;
use tokio::process::{Child, Command};

use super::carve::Grant;
use super::{landlock, seccomp};
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

/// What a spawning thread hands back: the command, and the child or why there is none.
type Done = (Command, Result<Child, SpawnError>);

/// A thread waiting for its one job.
struct Standby {
    jobs: SyncSender<Job>,
    done: Receiver<Done>,
}

/// The thread kept waiting for the next spawn, if one is. A std mutex: it is held only to
/// take or put the handle.
static STANDBY: Mutex<Option<Standby>> = Mutex::new(None);

/// Runs `job` on a thread of its own (the waiting one, or a new one if another spawn has
/// taken it) and waits for the result.
pub fn run(job: Job) -> Result<Done, SandboxError> {
    let waiting = STANDBY
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    let standby = match waiting {
        Some(standby) => standby,
        None => start()?,
    };
    let lost = || SandboxError::Apply("the sandbox thread ended before it spawned".to_owned());
    standby.jobs.send(job).map_err(|_| lost())?;
    let done = standby.done.recv().map_err(|_| lost())?;
    prepare();
    Ok(done)
}

/// Starts the next waiting thread unless one is waiting already. Failing to start one is
/// not an error: the next spawn starts its own.
pub fn prepare() {
    let mut slot = STANDBY.lock().unwrap_or_else(PoisonError::into_inner);
    if slot.is_none() {
        match start() {
            Ok(standby) => *slot = Some(standby),
            Err(err) => tracing::warn!(error = %err, "cannot start a waiting sandbox thread"),
        }
    }
}

fn start() -> Result<Standby, SandboxError> {
    let (jobs, next_job) = mpsc::sync_channel::<Job>(1);
    let (finished, done) = mpsc::sync_channel::<Done>(1);
    std::thread::Builder::new()
        .name("sandbox-spawn".to_owned())
        .spawn(move || {
            // Dropping the sender (the worker exiting) ends the wait with nothing to do.
            let Ok(mut job) = next_job.recv() else {
                return;
            };
            let result = confine_and_spawn(&mut job);
            // The caller may have given up waiting; the child is then dropped here.
            let _ = finished.send((job.cmd, result));
        })
        .map_err(|err| SandboxError::Apply(format!("cannot start a sandbox thread: {err}")))?;
    Ok(Standby { jobs, done })
}

/// Restricts this thread as `job` says and spawns its command, which inherits it all.
fn confine_and_spawn(job: &mut Job) -> Result<Child, SpawnError> {
    landlock::restrict_current_thread(&job.grants, job.network)?;
    seccomp::apply_to_current_thread(job.filter)?;
    let _runtime = job.runtime.enter();
    job.cmd.spawn().map_err(SpawnError::Spawn)
}
