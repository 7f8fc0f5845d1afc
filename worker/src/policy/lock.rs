//! The canary lock: when a task touches a canary path the worker writes a lock file in its
//! state directory and runs nothing more until `openclaw-worker unlock` is run on the Mac.
//! Only a local user can remove the file; nothing from the server can.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::files::write_new_private;

/// The lock file's name in the state directory.
pub const LOCK_FILE: &str = "locked.json";

/// What the lock file records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// When the worker locked itself, epoch milliseconds.
    pub locked_at_ms: u64,
    /// Why, e.g. "task 6f1c… touched canary path /Users/me/passwords.txt".
    pub reason: String,
}

/// The lock of one worker, a file in its state directory.
#[derive(Debug, Clone)]
pub struct WorkerLock {
    path: PathBuf,
}

impl WorkerLock {
    /// The lock for the state directory `state_dir`.
    pub fn new(state_dir: &Path) -> Self {
        Self {
            path: state_dir.join(LOCK_FILE),
        }
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the worker is locked. Fails closed: a lock file that exists but cannot be
    /// inspected counts as locked.
    pub fn is_locked(&self) -> bool {
        match std::fs::symlink_metadata(&self.path) {
            Ok(_) => true,
            Err(err) => err.kind() != io::ErrorKind::NotFound,
        }
    }

    /// Why the worker is locked, when it is and the file is readable.
    pub fn info(&self) -> Option<LockInfo> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Locks the worker. Keeps the first reason when already locked: the first canary
    /// touch is the one to investigate.
    pub fn lock(&self, reason: &str) -> io::Result<()> {
        let info = LockInfo {
            locked_at_ms: now_ms(),
            reason: reason.to_owned(),
        };
        let mut text = serde_json::to_string(&info).map_err(io::Error::other)?;
        text.push('\n');
        match write_new_private(&self.path, text.as_bytes()) {
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            written => written,
        }
    }

    /// Unlocks the worker. Returns whether it was locked.
    pub fn unlock(&self) -> io::Result<bool> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(true),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(err) => Err(err),
        }
    }
}

/// Now, in epoch milliseconds (0 if the clock is before 1970).
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_fresh_worker_is_unlocked() {
        let dir = tempfile::tempdir().unwrap();

        assert!(!WorkerLock::new(dir.path()).is_locked());
    }

    #[test]
    fn lock_persists_across_handles_until_unlock() {
        let dir = tempfile::tempdir().unwrap();
        WorkerLock::new(dir.path()).lock("canary touched").unwrap();

        let again = WorkerLock::new(dir.path());
        assert!(again.is_locked());
        assert_eq!(again.info().unwrap().reason, "canary touched");

        assert!(again.unlock().unwrap());
        assert!(!again.is_locked());
        assert!(!again.unlock().unwrap());
    }

    #[test]
    fn second_lock_keeps_the_first_reason() {
        let dir = tempfile::tempdir().unwrap();
        let lock = WorkerLock::new(dir.path());

        lock.lock("first").unwrap();
        lock.lock("second").unwrap();

        assert_eq!(lock.info().unwrap().reason, "first");
    }

    #[test]
    fn lock_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let lock = WorkerLock::new(dir.path());

        lock.lock("x").unwrap();

        let mode = std::fs::metadata(lock.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn unreadable_lock_state_counts_as_locked() {
        let dir = tempfile::tempdir().unwrap();
        // A state "directory" that is a file: the lock path cannot be inspected.
        let not_a_dir = dir.path().join("file");
        std::fs::write(&not_a_dir, "").unwrap();

        assert!(WorkerLock::new(&not_a_dir).is_locked());
    }
}
