//! The result file a supervisor leaves: one JSON header line (how the process ended, the
//! output's sizes, how long it ran), then the captured stdout and stderr, raw. Read back it
//! is the same [`ProcessOutput`] the process would have given in the worker, so the outcome
//! made from it is the same.

use std::io::{self, ErrorKind};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::exec::process::{Captured, ProcessEnd, ProcessOutput};
use crate::spool::write_new;

/// The result format's version.
const RESULT_VERSION: u32 = 1;

/// How the process ended, as stored (wait statuses raw, spawn errors by number or kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum EndRecord {
    Finished {
        status: i32,
    },
    TimedOut {
        status: Option<i32>,
    },
    Cancelled {
        status: Option<i32>,
    },
    SpawnFailed {
        os_error: Option<i32>,
        not_found: bool,
        denied: bool,
        message: String,
    },
    WaitFailed {
        message: String,
    },
}

/// The header line of a result file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Header {
    version: u32,
    end: EndRecord,
    stdout_len: usize,
    stdout_truncated: bool,
    stderr_len: usize,
    stderr_truncated: bool,
    duration_ms: u64,
}

fn raw(status: Option<ExitStatus>) -> Option<i32> {
    status.map(ExitStatus::into_raw)
}

fn status(raw: Option<i32>) -> Option<ExitStatus> {
    raw.map(ExitStatus::from_raw)
}

/// Writes `output` (and how long the process ran) to `path`, a new file.
pub fn write(path: &Path, output: &ProcessOutput, ran: Duration) -> io::Result<()> {
    let end = match &output.end {
        ProcessEnd::Finished(exit) => EndRecord::Finished {
            status: exit.into_raw(),
        },
        ProcessEnd::TimedOut(exit) => EndRecord::TimedOut { status: raw(*exit) },
        ProcessEnd::Cancelled(exit) => EndRecord::Cancelled { status: raw(*exit) },
        ProcessEnd::SpawnFailed(err) => EndRecord::SpawnFailed {
            os_error: err.raw_os_error(),
            not_found: err.kind() == ErrorKind::NotFound,
            denied: err.kind() == ErrorKind::PermissionDenied,
            message: err.to_string(),
        },
        ProcessEnd::WaitFailed(err) => EndRecord::WaitFailed {
            message: err.to_string(),
        },
    };
    let header = Header {
        version: RESULT_VERSION,
        end,
        stdout_len: output.stdout.bytes.len(),
        stdout_truncated: output.stdout.truncated,
        stderr_len: output.stderr.bytes.len(),
        stderr_truncated: output.stderr.truncated,
        duration_ms: u64::try_from(ran.as_millis()).unwrap_or(u64::MAX),
    };
    let mut bytes = serde_json::to_vec(&header)?;
    bytes.push(b'\n');
    bytes.extend_from_slice(&output.stdout.bytes);
    bytes.extend_from_slice(&output.stderr.bytes);
    write_new(path, &bytes)
}

/// Reads the result at `path`: the output, and how long the process ran. A file that is
/// missing, cut short or of another version is an error.
pub fn read(path: &Path) -> io::Result<(ProcessOutput, Duration)> {
    let bytes = std::fs::read(path)?;
    let bad = |why: &str| io::Error::new(ErrorKind::InvalidData, format!("result file {why}"));
    let newline = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| bad("has no header"))?;
    let header: Header =
        serde_json::from_slice(&bytes[..newline]).map_err(|_| bad("has a broken header"))?;
    if header.version != RESULT_VERSION {
        return Err(bad("is of another version"));
    }
    let body = &bytes[newline + 1..];
    if body.len() != header.stdout_len.saturating_add(header.stderr_len) {
        return Err(bad("is cut short"));
    }
    let (stdout, stderr) = body.split_at(header.stdout_len);
    let end = match header.end {
        EndRecord::Finished { status } => ProcessEnd::Finished(ExitStatus::from_raw(status)),
        EndRecord::TimedOut { status: s } => ProcessEnd::TimedOut(status(s)),
        EndRecord::Cancelled { status: s } => ProcessEnd::Cancelled(status(s)),
        EndRecord::SpawnFailed {
            os_error,
            not_found,
            denied,
            message,
        } => ProcessEnd::SpawnFailed(match os_error {
            Some(code) => io::Error::from_raw_os_error(code),
            None if not_found => io::Error::new(ErrorKind::NotFound, message),
            None if denied => io::Error::new(ErrorKind::PermissionDenied, message),
            None => io::Error::other(message),
        }),
        EndRecord::WaitFailed { message } => ProcessEnd::WaitFailed(io::Error::other(message)),
    };
    let output = ProcessOutput {
        stdout: Captured {
            bytes: stdout.to_vec(),
            truncated: header.stdout_truncated,
        },
        stderr: Captured {
            bytes: stderr.to_vec(),
            truncated: header.stderr_truncated,
        },
        end,
    };
    Ok((output, Duration::from_millis(header.duration_ms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(end: ProcessEnd) -> ProcessOutput {
        ProcessOutput {
            stdout: Captured {
                bytes: b"out\n\xff".to_vec(),
                truncated: true,
            },
            stderr: Captured {
                bytes: b"err".to_vec(),
                truncated: false,
            },
            end,
        }
    }

    #[test]
    fn every_end_reads_back_as_the_same_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let ends = || {
            vec![
                ProcessEnd::Finished(ExitStatus::from_raw(3 << 8)),
                ProcessEnd::Finished(ExitStatus::from_raw(9)),
                ProcessEnd::TimedOut(Some(ExitStatus::from_raw(15))),
                ProcessEnd::Cancelled(None),
                ProcessEnd::SpawnFailed(io::Error::from_raw_os_error(2)),
                ProcessEnd::SpawnFailed(io::Error::other("cannot apply the sandbox: nope")),
                ProcessEnd::WaitFailed(io::Error::other("lost it")),
            ]
        };
        let timeout = Duration::from_secs(5);

        for (n, (end, again)) in ends().into_iter().zip(ends()).enumerate() {
            let path = dir.path().join(n.to_string());
            write(&path, &output(end), Duration::from_millis(42)).unwrap();

            let (read_back, ran) = read(&path).unwrap();

            assert_eq!(ran, Duration::from_millis(42));
            assert_eq!(
                read_back.into_outcome("prog", timeout),
                output(again).into_outcome("prog", timeout)
            );
        }
    }

    #[test]
    fn a_result_cut_short_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("result");
        write(&path, &output(ProcessEnd::Cancelled(None)), Duration::ZERO).unwrap();
        let whole = std::fs::read(&path).unwrap();
        std::fs::write(&path, &whole[..whole.len() - 1]).unwrap();

        assert!(read(&path).is_err());
        std::fs::write(&path, b"{\"version\":1").unwrap();
        assert!(read(&path).is_err());
    }
}
