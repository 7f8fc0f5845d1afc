//! The supervisor's end of live output: each stream's bytes appended to its live file in
//! the task's spool directory as the process prints them, up to a limit. The worker reads
//! them from there ([`crate::live`]); a worker that restarts meanwhile loses nothing of the
//! task's result, only the live view.

use std::io::Write;
use std::path::PathBuf;

use crate::exec::process::{Tee, Tees};
use crate::files::private_file;
use crate::spool::TaskSpool;

/// Most bytes per stream a supervisor writes to a task's live files (16 MiB): past it live
/// output stops growing, and the result still holds the output's head and tail.
pub const LIVE_FILE_LIMIT_BYTES: u64 = 16 * 1024 * 1024;

/// Tees that append stdout and stderr to the task's live files, at most `limit` bytes
/// each (the files stop growing there; the result still has the output's head and tail).
/// A file that cannot be created gets no tee: the task runs all the same.
pub fn live_tees(spool: &TaskSpool, limit: u64) -> Tees {
    let [stdout, stderr] = spool.live_files().map(|path| tee(path, limit));
    Tees { stdout, stderr }
}

fn tee(path: PathBuf, limit: u64) -> Option<Tee> {
    if limit == 0 {
        return None;
    }
    let mut file = private_file()
        .append(true)
        .create_new(true)
        .open(path)
        .ok()?;
    let mut written = 0u64;
    Some(Box::new(move |bytes: &[u8]| {
        let room = usize::try_from(limit.saturating_sub(written)).unwrap_or(usize::MAX);
        let take = bytes.len().min(room);
        // A failed write only costs live output; the capture keeps the bytes.
        if take > 0 && file.write_all(&bytes[..take]).is_ok() {
            written += take as u64;
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tee_stops_at_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live");
        let mut tee = tee(path.clone(), 5).unwrap();

        tee(b"abc");
        tee(b"defgh");

        assert_eq!(std::fs::read(path).unwrap(), b"abcde");
    }
}
