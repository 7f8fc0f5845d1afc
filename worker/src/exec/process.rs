//! Runs one child process for a task: its own process group, stdin from /dev/null, stdout
//! and stderr captured concurrently up to a cap, and on timeout or cancel the whole group
//! gets SIGTERM, a grace period, then SIGKILL, so no orphan outlives the task.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use openclaw_shared::{OutcomeStatus, TaskOutcome};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio::time::{sleep, sleep_until, Instant};
use tokio_util::sync::CancellationToken;

use super::capture::{Capture, Omission};
pub use super::capture::{Captured, Tee, REDACTION_MARGIN_BYTES};
use crate::redact::Redactor;
use crate::sandbox::{self, SandboxSpec, SpawnError};

/// Environment variables that hold the worker token; never passed to a child.
pub const SECRET_ENV_VARS: [&str; 2] = ["WORKER_TOKEN", "OPENCLAW_WORKER_TOKEN"];
/// How often a group being killed is checked for survivors.
const KILL_POLL_INTERVAL: Duration = Duration::from_millis(20);
/// After the group is killed, how long to keep reading output a process that escaped the
/// group (its own session) may still hold open, before giving up on it.
const PIPE_DRAIN_AFTER_KILL: Duration = Duration::from_secs(1);
/// Read size for captured output.
const CHUNK_BYTES: usize = 16 * 1024;

/// Limits that apply to every child process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessLimits {
    /// Cap on the output uploaded, per stream: a longer stream keeps its head and tail
    /// ([`super::capture`]), with [`REDACTION_MARGIN_BYTES`] more next to each cut.
    pub max_output_bytes: usize,
    /// Time between SIGTERM and SIGKILL.
    pub kill_grace: Duration,
}

/// How the process ended.
#[derive(Debug)]
pub enum ProcessEnd {
    /// It ran to the end (exit or signal not sent by us).
    Finished(ExitStatus),
    /// It ran past its timeout and was killed; the status is the leader's, if reaped.
    TimedOut(Option<ExitStatus>),
    /// It was cancelled and killed.
    Cancelled(Option<ExitStatus>),
    /// It could not be started.
    SpawnFailed(io::Error),
    /// Waiting for it failed (the OS lost track of it); it has been killed.
    WaitFailed(io::Error),
}

/// Everything a run produced.
#[derive(Debug)]
pub struct ProcessOutput {
    /// What the process wrote to stdout, up to the cap.
    pub stdout: Captured,
    /// What the process wrote to stderr, up to the cap.
    pub stderr: Captured,
    /// How the process ended.
    pub end: ProcessEnd,
}

impl ProcessOutput {
    /// The task outcome for this run. `what` names the program for error messages. A
    /// stream past the cap becomes its head, a marker line and its tail, redacted next to
    /// the cuts with `redactor` (the pipeline redacts the whole text again); `*_truncated`
    /// is set and `metadata.stdoutOmitted` / `stderrOmitted` say how it was cut, in the
    /// stream's own bytes (`{headBytes, omittedBytes, tailBytes}`).
    pub fn into_outcome(
        self,
        what: &str,
        timeout: Duration,
        redactor: Option<&Redactor>,
    ) -> TaskOutcome {
        let (status, exit, error) = match self.end {
            ProcessEnd::Finished(exit) => match (exit.code(), exit.signal()) {
                (Some(0), _) => (OutcomeStatus::Succeeded, Some(exit), None),
                (Some(code), _) => (
                    OutcomeStatus::Failed,
                    Some(exit),
                    Some(format!("exited with code {code}")),
                ),
                (None, sig) => (
                    OutcomeStatus::Failed,
                    Some(exit),
                    Some(format!(
                        "killed by signal {}",
                        signal_name(sig.unwrap_or(0))
                    )),
                ),
            },
            ProcessEnd::TimedOut(exit) => (
                OutcomeStatus::TimedOut,
                exit,
                Some(format!("timed out after {}", format_duration(timeout))),
            ),
            ProcessEnd::Cancelled(exit) => {
                (OutcomeStatus::Cancelled, exit, Some("cancelled".to_owned()))
            }
            ProcessEnd::SpawnFailed(err) => {
                // Shell conventions, so clients that read exit codes see the usual meaning.
                let code = match err.kind() {
                    io::ErrorKind::NotFound => 127,
                    io::ErrorKind::PermissionDenied => 126,
                    _ => 1,
                };
                let mut outcome = TaskOutcome::failure(format!("could not start {what}: {err}"));
                outcome.exit_code = Some(code);
                return outcome;
            }
            ProcessEnd::WaitFailed(err) => {
                return TaskOutcome::failure(format!("could not wait for {what}: {err}"));
            }
        };
        let mut outcome = TaskOutcome::new(status);
        let stdout = self.stdout.into_text(redactor);
        let stderr = self.stderr.into_text(redactor);
        note_omission(&mut outcome, OMITTED_KEYS[0], stdout.omission);
        note_omission(&mut outcome, OMITTED_KEYS[1], stderr.omission);
        let mut redactions = stdout.redactions;
        redactions.merge(&stderr.redactions);
        if redactions.total() > 0 {
            outcome
                .metadata
                .insert(CUT_REDACTIONS_KEY.into(), redactions.total().into());
        }
        outcome.stdout_truncated = stdout.omission.is_some();
        outcome.stderr_truncated = stderr.omission.is_some();
        outcome.stdout = stdout.text;
        outcome.stderr = stderr.text;
        outcome.error = error;
        if let Some(exit) = exit {
            outcome.signal = exit.signal();
            outcome.exit_code = exit.code().or(exit.signal().map(|sig| 128 + sig));
        }
        outcome
    }
}

/// The metadata keys that say how stdout and stderr were cut.
pub const OMITTED_KEYS: [&str; 2] = ["stdoutOmitted", "stderrOmitted"];
/// The metadata key for secrets replaced while cutting; the pipeline adds them to its
/// count and removes the key.
pub const CUT_REDACTIONS_KEY: &str = "redactionsAtCuts";

/// Records how a stream was cut in the outcome's metadata.
fn note_omission(outcome: &mut TaskOutcome, key: &str, omission: Option<Omission>) {
    if let Some(value) = omission.and_then(|o| serde_json::to_value(o).ok()) {
        outcome.metadata.insert(key.into(), value);
    }
}

/// `SIGKILL (9)`, or the bare number for a signal nix does not know.
fn signal_name(sig: i32) -> String {
    match Signal::try_from(sig) {
        Ok(signal) => format!("{} ({sig})", signal.as_str()),
        Err(_) => sig.to_string(),
    }
}

/// `30s`, or `1.5s` for timeouts that are not whole seconds.
pub(crate) fn format_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

/// Kills the group if the run is abandoned half way (its future dropped), so even then
/// nothing is left running.
struct GroupGuard {
    pgid: Option<Pid>,
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid {
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }
}

/// Where the two streams also go as they are read (live output); none by default.
#[derive(Default)]
pub struct Tees {
    /// Gets stdout's bytes.
    pub stdout: Option<Tee>,
    /// Gets stderr's bytes.
    pub stderr: Option<Tee>,
}

/// Runs `cmd` to its end, its timeout, or `cancel`, confined by `sandbox` when given, its
/// output also handed to `tees` as it is read. The caller sets program, arguments, working
/// directory and environment; this sets stdio and the process group.
pub async fn run_process(
    mut cmd: Command,
    sandbox: Option<&SandboxSpec>,
    limits: ProcessLimits,
    timeout: Duration,
    cancel: &CancellationToken,
    tees: Tees,
) -> ProcessOutput {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Own group: a kill reaches everything the task started, and a Ctrl-C in the
        // worker's terminal does not reach the task.
        .process_group(0)
        .kill_on_drop(true);
    for var in SECRET_ENV_VARS {
        cmd.env_remove(var);
    }
    let deadline = Instant::now() + timeout;
    let mut child = match sandbox::spawn(&mut cmd, sandbox) {
        Ok(child) => child,
        Err(err) => {
            let err = match err {
                SpawnError::Spawn(err) => err,
                SpawnError::Sandbox(err) => io::Error::other(err.to_string()),
            };
            return ProcessOutput {
                stdout: Captured::default(),
                stderr: Captured::default(),
                end: ProcessEnd::SpawnFailed(err),
            };
        }
    };
    let pgid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    let mut guard = GroupGuard { pgid };

    let stop_reading = CancellationToken::new();
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let cap = limits.max_output_bytes;
    let reading = stop_reading.clone();
    // A task of its own, so output keeps draining while we wait or kill: a child blocked
    // on a full pipe could neither finish nor handle SIGTERM.
    let mut io = tokio::spawn(async move {
        tokio::join!(
            capture(stdout, cap, tees.stdout, reading.clone()),
            capture(stderr, cap, tees.stderr, reading)
        )
    });

    // The task ends when the leader has exited AND its output is closed: a background job
    // still writing to our pipes is still part of the task.
    let mut outputs = None;
    let end = tokio::select! {
        waited = child.wait() => match waited {
            Ok(status) => tokio::select! {
                joined = &mut io => {
                    outputs = Some(joined);
                    ProcessEnd::Finished(status)
                }
                () = sleep_until(deadline) => ProcessEnd::TimedOut(Some(status)),
                () = cancel.cancelled() => ProcessEnd::Cancelled(Some(status)),
            },
            Err(err) => ProcessEnd::WaitFailed(err),
        },
        () = sleep_until(deadline) => ProcessEnd::TimedOut(None),
        () = cancel.cancelled() => ProcessEnd::Cancelled(None),
    };
    let grace = limits.kill_grace;
    let end = match end {
        ProcessEnd::TimedOut(status) => {
            ProcessEnd::TimedOut(kill_group(&mut child, pgid, status, grace).await)
        }
        ProcessEnd::Cancelled(status) => {
            ProcessEnd::Cancelled(kill_group(&mut child, pgid, status, grace).await)
        }
        ProcessEnd::WaitFailed(err) => {
            // Nothing to wait for any more: kill the group outright, no grace.
            kill_group(&mut child, pgid, None, Duration::ZERO).await;
            ProcessEnd::WaitFailed(err)
        }
        finished => finished,
    };
    guard.pgid = None;

    let (stdout, stderr) = match outputs {
        Some(joined) => joined.unwrap_or_default(),
        None => {
            // Everything in the group is dead; only a process that left the group can
            // still hold the pipes. Take what is buffered, then stop waiting for it.
            let drained = tokio::time::timeout(PIPE_DRAIN_AFTER_KILL, &mut io).await;
            match drained {
                Ok(joined) => joined.unwrap_or_default(),
                Err(_) => {
                    stop_reading.cancel();
                    io.await.unwrap_or_default()
                }
            }
        }
    };
    ProcessOutput {
        stdout,
        stderr,
        end,
    }
}

/// SIGTERM (and SIGCONT, so stopped members can act on it) to the group, then up to
/// `grace` for every member to exit, then SIGKILL. Returns the leader's exit status.
async fn kill_group(
    child: &mut Child,
    pgid: Option<Pid>,
    mut status: Option<ExitStatus>,
    grace: Duration,
) -> Option<ExitStatus> {
    let Some(pgid) = pgid else {
        let _ = child.kill().await;
        return child.wait().await.ok();
    };
    let _ = killpg(pgid, Signal::SIGTERM);
    let _ = killpg(pgid, Signal::SIGCONT);
    let deadline = Instant::now() + grace;
    loop {
        if status.is_none() {
            status = child.try_wait().ok().flatten();
        }
        // The leader stays a group member until reaped, so check the group only after.
        if status.is_some() && matches!(killpg(pgid, None), Err(Errno::ESRCH)) {
            return status;
        }
        if Instant::now() >= deadline {
            break;
        }
        sleep(KILL_POLL_INTERVAL).await;
    }
    let _ = killpg(pgid, Signal::SIGKILL);
    match status {
        Some(status) => Some(status),
        None => child.wait().await.ok(),
    }
}

/// Reads `reader` to its end (or until `stop`), handing each read to `tee` and keeping
/// what the cap allows ([`Capture`]), so the writer never blocks on a full pipe.
async fn capture(
    reader: Option<impl AsyncRead + Unpin>,
    cap: usize,
    mut tee: Option<Tee>,
    stop: CancellationToken,
) -> Captured {
    let mut captured = Capture::new(cap);
    let Some(mut reader) = reader else {
        return captured.finish();
    };
    let mut chunk = vec![0u8; CHUNK_BYTES];
    loop {
        let n = tokio::select! {
            read = reader.read(&mut chunk) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            },
            () = stop.cancelled() => break,
        };
        if let Some(tee) = &mut tee {
            tee(&chunk[..n]);
        }
        captured.push(&chunk[..n]);
    }
    captured.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_in_the_middle_becomes_replacement_characters() {
        let captured = Captured {
            bytes: b"a\xffb".to_vec(),
            total: 3,
            cap: 100,
            ..Captured::default()
        };

        assert_eq!(captured.into_text(None).text, "a\u{fffd}b");
    }

    #[test]
    fn timeouts_read_in_seconds() {
        assert_eq!(format_duration(Duration::from_secs(30)), "30s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
    }

    #[test]
    fn signals_are_named() {
        assert_eq!(signal_name(9), "SIGKILL (9)");
    }
}
