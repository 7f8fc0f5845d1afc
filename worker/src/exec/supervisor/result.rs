//! The result file a supervisor leaves: one JSON header line (how the process ended, the
//! output's sizes, how long it ran), then the captured stdout and stderr, raw: each its
//! first bytes, then (for a stream past the cap) its last bytes. Read back it
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
    stderr_len: usize,
    /// Bytes of the streams' ends, written after their starts (absent before head and
    /// tail: read as none).
    #[serde(default)]
    stdout_tail_len: usize,
    #[serde(default)]
    stderr_tail_len: usize,
    /// Bytes each stream had (absent before head and tail: what was kept).
    #[serde(default)]
    stdout_total: Option<u64>,
    #[serde(default)]
    stderr_total: Option<u64>,
    /// The cap the output was captured for (absent before head and tail: the text is
    /// taken as it was kept, never cut again).
    #[serde(default)]
    cap: Option<usize>,
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
        stderr_len: output.stderr.bytes.len(),
        stdout_tail_len: output.stdout.tail.len(),
        stderr_tail_len: output.stderr.tail.len(),
        stdout_total: Some(output.stdout.total),
        stderr_total: Some(output.stderr.total),
        cap: Some(output.stdout.cap),
        duration_ms: u64::try_from(ran.as_millis()).unwrap_or(u64::MAX),
    };
    let mut bytes = serde_json::to_vec(&header)?;
    bytes.push(b'\n');
    for part in [
        &output.stdout.bytes,
        &output.stdout.tail,
        &output.stderr.bytes,
        &output.stderr.tail,
    ] {
        bytes.extend_from_slice(part);
    }
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
    let lens = [
        header.stdout_len,
        header.stdout_tail_len,
        header.stderr_len,
        header.stderr_tail_len,
    ];
    if body.len()
        != lens
            .iter()
            .fold(0usize, |sum, len| sum.saturating_add(*len))
    {
        return Err(bad("is cut short"));
    }
    let mut parts = Vec::with_capacity(lens.len());
    let mut rest = body;
    for len in lens {
        let (part, after) = rest.split_at(len);
        parts.push(part.to_vec());
        rest = after;
    }
    let cap = header.cap.unwrap_or(usize::MAX);
    let mut parts = parts.into_iter();
    let mut stream = |total: Option<u64>| {
        let bytes = parts.next().unwrap_or_default();
        let tail = parts.next().unwrap_or_default();
        let kept = (bytes.len() + tail.len()) as u64;
        Captured {
            bytes,
            tail,
            total: total.unwrap_or(kept),
            cap,
        }
    };
    let (stdout, stderr) = (stream(header.stdout_total), stream(header.stderr_total));
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
        stdout,
        stderr,
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
                tail: b"\nlast\n".to_vec(),
                total: 100,
                cap: 8,
            },
            stderr: Captured {
                bytes: b"err".to_vec(),
                total: 3,
                cap: 8,
                ..Captured::default()
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
                read_back.into_outcome("prog", timeout, None),
                output(again).into_outcome("prog", timeout, None)
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
