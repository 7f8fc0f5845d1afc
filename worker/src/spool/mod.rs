//! The spool: one private directory per task the worker started, under the state directory
//! (`<state_dir>/spool/<task id>/`), which outlives the worker process. It is what lets a
//! worker that crashed, or was replaced by a new binary, find its tasks again: which lease
//! each was claimed under, what the policy decided, whether its process still runs (under
//! its supervisor, see [`crate::exec::supervisor`]) and how it ended, and which results
//! still wait for the server's acknowledgement.
//!
//! A task's directory holds, in the order they are written:
//! - `task.json` ([`TaskRecord`]): the claimed task and the decision, written just before
//!   anything runs. Without it, nothing ran.
//! - `job.json`: the process to run, written before its supervisor starts.
//! - `lock`: created (empty) by the worker with the job; the supervisor that takes the task
//!   locks it (`flock`) for its whole life and writes its pid in it. Locked means alive,
//!   whoever looks, with no pid to be reused; a pid in an unlocked file means a supervisor
//!   started the task and is gone; no pid, that none ever did.
//! - `result`: how the process ended, and its (capped) output, written by the supervisor.
//! - `outcome.json`: the outcome as reported (redacted, audited), until the server
//!   acknowledges it; then the directory goes.
//!
//! Nothing in it is flushed to disk: it survives the worker's crash (the page cache does),
//! not a power cut, which the task itself would not survive either. Each file is written
//! once by one process, and read only once its writer is known to be done (the worker
//! waits for the supervisor; an adopting worker looks at the lock first), so a file cut
//! short by a crash fails to parse and counts as absent. The directory is hidden from every
//! task's sandbox with the rest of the state directory, so no task can forge its result.
//!
//! Bounded: one directory per task running or awaiting acknowledgement (at most
//! `max_concurrent`), each holding at most one process's output (twice
//! `max_output_bytes` plus the redaction margin) and one outcome.

use std::fs::File;
use std::io::{self, ErrorKind, Read as _, Write as _};
use std::path::{Path, PathBuf};

use openclaw_shared::worker::ClaimedTask;
use openclaw_shared::{TaskId, TaskOutcome};
use serde::{Deserialize, Serialize};

use crate::approval::ApprovalEvidence;
use crate::files::{create_private_dirs, private_file, PRIVATE_DIR_MODE};
use crate::policy::Verdict;

/// The spool's directory name in the state directory.
const SPOOL_DIR: &str = "spool";
/// The files in a task's directory (see the module docs).
const TASK_FILE: &str = "task.json";
const JOB_FILE: &str = "job.json";
const LOCK_FILE: &str = "lock";
const RESULT_FILE: &str = "result";
/// The live output files' names, stdout's and stderr's.
const LIVE_FILES: [&str; 2] = ["live.stdout", "live.stderr"];
const OUTCOME_FILE: &str = "outcome.json";

/// The spool of one state directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    /// The spool in `state_dir`, created private (0700) if missing.
    pub fn open(state_dir: &Path) -> io::Result<Self> {
        let dir = state_dir.join(SPOOL_DIR);
        create_private_dirs(&dir)?;
        Ok(Self { dir })
    }

    /// The directory of task `id` (which may not exist).
    pub fn task(&self, id: TaskId) -> TaskSpool {
        TaskSpool {
            id,
            dir: self.dir.join(id.to_string()),
        }
    }

    /// The tasks with a directory in the spool. Entries that are not a task id are left
    /// alone (and reported once by the caller, if it cares).
    pub fn tasks(&self) -> io::Result<Vec<TaskSpool>> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(|n| n.parse::<uuid::Uuid>().ok()) else {
                continue;
            };
            if entry.file_type()?.is_dir() {
                found.push(self.task(TaskId(id)));
            }
        }
        Ok(found)
    }

    /// Removes task `id`'s directory, if there is one.
    pub fn remove(&self, id: TaskId) {
        self.task(id).remove();
    }
}

/// What the pipeline decided about a task, kept so that a worker which adopts the task
/// can finish it (redact, audit, report) as the one that started it would have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// The task as claimed: its lease is what the result is reported under.
    pub task: ClaimedTask,
    /// The policy's verdict.
    pub verdict: Verdict,
    /// The rule that decided.
    pub rule: String,
    /// Why, in words.
    pub reason: String,
    /// The owner's approval, when the task needed one.
    pub approval: Option<ApprovalEvidence>,
}

/// Where a spooled task stands, as a worker that starts finds it.
#[derive(Debug)]
pub enum SpoolState {
    /// The outcome is ready and waits for the server's acknowledgement.
    Reported(TaskOutcome),
    /// The process ended and its supervisor recorded how: the outcome is still to be made.
    Ended,
    /// Its supervisor is alive (the lock is held): the process may still run.
    Running,
    /// The supervisor started the process and died before recording its end: what the
    /// process did is unknown.
    SupervisorLost,
    /// It was executing when the worker stopped, but never got as far as a supervisor: a
    /// process task never started; a file task's effect is unknown.
    Interrupted,
}

/// One task's directory in the spool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskSpool {
    id: TaskId,
    dir: PathBuf,
}

impl TaskSpool {
    /// The task directory `dir` (named by its task's id), as a supervisor is given it.
    pub fn from_dir(dir: &Path) -> Option<Self> {
        let id = dir.file_name()?.to_str()?.parse::<uuid::Uuid>().ok()?;
        dir.is_absolute().then(|| Self {
            id: TaskId(id),
            dir: dir.to_owned(),
        })
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The job file (written by the worker, read by the supervisor).
    pub fn job_file(&self) -> PathBuf {
        self.dir.join(JOB_FILE)
    }

    /// The lock file (held by the supervisor, holding its pid).
    pub fn lock_file(&self) -> PathBuf {
        self.dir.join(LOCK_FILE)
    }

    /// The result file (written by the supervisor).
    pub fn result_file(&self) -> PathBuf {
        self.dir.join(RESULT_FILE)
    }

    /// The live output files, stdout's and stderr's (written by the supervisor as the
    /// process prints, read by the worker's live output sender; see [`crate::live`]).
    pub fn live_files(&self) -> [PathBuf; 2] {
        LIVE_FILES.map(|name| self.dir.join(name))
    }

    /// Creates the directory (0700) with `record` in it, before anything runs. A
    /// directory already there (a task id seen twice) is refused, never reused.
    pub fn begin(&self, record: &TaskRecord) -> io::Result<()> {
        use std::os::unix::fs::DirBuilderExt as _;
        std::fs::DirBuilder::new()
            .mode(PRIVATE_DIR_MODE)
            .create(&self.dir)?;
        write_new(&self.dir.join(TASK_FILE), &serde_json::to_vec(record)?)
    }

    /// The task record, if it was written whole.
    pub fn record(&self) -> Option<TaskRecord> {
        let bytes = std::fs::read(self.dir.join(TASK_FILE)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Keeps `outcome` as reported, until the server acknowledges it. One already kept
    /// stays (it is what was sent first); one cut short by a crash is replaced.
    pub fn keep_outcome(&self, outcome: &TaskOutcome) -> io::Result<()> {
        let path = self.dir.join(OUTCOME_FILE);
        let bytes = serde_json::to_vec(outcome)?;
        match write_new(&path, &bytes) {
            Err(err) if err.kind() == ErrorKind::AlreadyExists => {
                if self.kept_outcome().is_some() {
                    return Ok(());
                }
                std::fs::remove_file(&path)?;
                write_new(&path, &bytes)
            }
            other => other,
        }
    }

    /// The outcome kept by [`TaskSpool::keep_outcome`], if it was written whole.
    fn kept_outcome(&self) -> Option<TaskOutcome> {
        let bytes = std::fs::read(self.dir.join(OUTCOME_FILE)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Where the task stands. Looks at the lock before the result, so that a result is
    /// only read once its writer is gone.
    pub fn state(&self) -> SpoolState {
        if let Some(outcome) = self.kept_outcome() {
            return SpoolState::Reported(outcome);
        }
        match self.supervisor() {
            Supervisor::Alive => SpoolState::Running,
            Supervisor::Gone if self.result_file().exists() => SpoolState::Ended,
            Supervisor::Gone => SpoolState::SupervisorLost,
            Supervisor::NeverStarted => SpoolState::Interrupted,
        }
    }

    /// Whether the supervisor holds the lock, and whether one ever started.
    pub fn supervisor(&self) -> Supervisor {
        let mut file = match File::options()
            .read(true)
            .write(true)
            .open(self.lock_file())
        {
            Ok(file) => file,
            Err(_) => return Supervisor::NeverStarted,
        };
        if let Err(err) =
            rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive)
        {
            // Any failure but "held" (none is expected) is taken as alive: waiting on a
            // task that ended is better than reporting one that still runs.
            if err != rustix::io::Errno::WOULDBLOCK {
                tracing::warn!(task_id = %self.id, error = %err, "cannot test a supervisor's lock");
            }
            return Supervisor::Alive;
        }
        // The lock is ours now; closing the file (below) releases it.
        let mut pid = String::new();
        let _ = file.read_to_string(&mut pid);
        if pid.trim().is_empty() {
            Supervisor::NeverStarted
        } else {
            Supervisor::Gone
        }
    }

    /// The supervisor's process id, as it wrote it in the lock file.
    pub fn supervisor_pid(&self) -> Option<i32> {
        std::fs::read_to_string(self.lock_file())
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Removes the directory and everything in it (never following a link planted in it).
    pub fn remove(&self) {
        if let Err(err) = std::fs::remove_dir_all(&self.dir) {
            if err.kind() != ErrorKind::NotFound {
                tracing::warn!(task_id = %self.id, dir = %self.dir.display(), error = %err, "cannot remove a task's spool directory");
            }
        }
    }
}

/// What the lock file says about a task's supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Supervisor {
    /// It holds the lock: alive.
    Alive,
    /// It started (its pid is in the file) and has ended.
    Gone,
    /// None ever started (no lock file, or no pid in it).
    NeverStarted,
}

/// Creates a new private file at `path` holding `bytes` (not flushed: see the module docs).
pub(crate) fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    private_file()
        .write(true)
        .create_new(true)
        .open(path)?
        .write_all(bytes)
}

#[cfg(test)]
mod tests;
