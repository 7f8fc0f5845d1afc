//! The worker's own files: where they live ([`WorkerFiles`], [`StateFiles`]) and how they
//! are written. Every one is private to the owner (files 0600, directories 0700); files
//! other processes must never see half-written are replaced atomically (a temp file, then
//! a rename), and those a crash must not lose are flushed to disk first.
//!
//! The audit log, the replay store, the TOTP secret file, the canary lock and `init`'s
//! starter files all go through the helpers here, so they agree on modes and durability.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The mode of every file the worker writes for itself: read and write for the owner only.
pub const PRIVATE_FILE_MODE: u32 = 0o600;
/// The mode of every directory the worker creates for itself: the owner only.
pub const PRIVATE_DIR_MODE: u32 = 0o700;

/// Where the worker keeps its files: one private directory, by default
/// `~/.config/openclaw-worker`. Every path in it is protected by the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerFiles {
    /// The directory (0700).
    pub dir: PathBuf,
}

impl WorkerFiles {
    /// The layout under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The default directory for a user whose home is `home`.
    pub fn default_dir(home: &Path) -> PathBuf {
        home.join(".config/openclaw-worker")
    }

    /// The worker config (holds the worker token).
    pub fn config(&self) -> PathBuf {
        self.dir.join("config.toml")
    }

    /// The policy file.
    pub fn policy(&self) -> PathBuf {
        self.dir.join("policy.toml")
    }

    /// State written while running (0700).
    pub fn state_dir(&self) -> PathBuf {
        self.dir.join("state")
    }

    /// The files in the state directory.
    pub fn state(&self) -> StateFiles {
        StateFiles::new(self.state_dir())
    }

    /// The TOTP secret (0600).
    pub fn totp_secret(&self) -> PathBuf {
        self.state().totp_secret()
    }

    /// Everything a task must never touch: the whole directory.
    pub fn protected(&self) -> Vec<PathBuf> {
        vec![self.dir.clone()]
    }
}

/// The files in a state directory (the config's `state_dir`, by default `state/` in
/// [`WorkerFiles`]). Created 0700 by `init` or at the worker's first start. The canary
/// lock's file is in it too ([`crate::policy::lock::WorkerLock::new`] names it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateFiles {
    /// The directory.
    pub dir: PathBuf,
}

impl StateFiles {
    /// The layout under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The TOTP secret file (0600), where the secret is kept without a Keychain.
    pub fn totp_secret(&self) -> PathBuf {
        self.dir.join("totp.secret")
    }

    /// The highest TOTP step used.
    pub fn replay_store(&self) -> PathBuf {
        self.dir.join("totp.last_step")
    }

    /// The audit log.
    pub fn audit_log(&self) -> PathBuf {
        self.dir.join("audit.jsonl")
    }

    /// The audit log's head file.
    pub fn audit_head(&self) -> PathBuf {
        self.dir.join("audit.head")
    }
}

/// Creates `dir` and any missing parents, each new one private (0700). A directory that
/// already exists keeps its mode.
pub fn create_private_dirs(dir: &Path) -> io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(PRIVATE_DIR_MODE)
        .create(dir)
}

/// Creates `dir` like [`create_private_dirs`], then makes `dir` itself private (0700)
/// even when it already existed: for a directory about to receive a secret.
pub fn make_private_dir(dir: &Path) -> io::Result<()> {
    create_private_dirs(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(PRIVATE_DIR_MODE))
}

/// Open options that create files private to the owner (0600); the caller adds the access
/// (`write`, `append`) and how to create (`create`, `create_new`).
pub fn private_file() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.mode(PRIVATE_FILE_MODE);
    options
}

/// Creates a new private (0600) file at `path` holding `bytes`, flushed to disk before
/// this returns. Never overwrites: an existing file (or link) there fails with
/// [`io::ErrorKind::AlreadyExists`].
pub fn write_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = private_file().write(true).create_new(true).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// How much of a crash a replaced file must survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The new content is on disk when the replacement returns: the temp file is flushed
    /// before the rename, and the directory after it.
    Synced,
    /// Atomic only: readers see the old content or the new, never a mix, but a crash soon
    /// after may bring the old content back. Two fsyncs cheaper.
    Unsynced,
}

/// Replaces the file at `path` with a private (0600) one holding `bytes`: written to
/// `<name>.tmp` beside it, then renamed over it, so that no reader (and, with
/// [`Durability::Synced`], no crash) ever sees half of it.
pub fn replace_private(path: &Path, bytes: &[u8], durability: Durability) -> io::Result<()> {
    let mut temp_name = path.file_name().unwrap_or_default().to_owned();
    temp_name.push(".tmp");
    let temp = path.with_file_name(temp_name);
    let mut file = private_file()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temp)?;
    file.write_all(bytes)?;
    if durability == Durability::Synced {
        file.sync_all()?;
    }
    std::fs::rename(&temp, path)?;
    if durability == Durability::Synced {
        sync_dir(path.parent().unwrap_or(Path::new(".")))?;
    }
    Ok(())
}

/// Flushes `dir` itself to disk, which makes a rename or a new file in it durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_replaced_file_is_private_holds_the_new_bytes_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.head");
        std::fs::write(&path, "old").unwrap();

        for durability in [Durability::Synced, Durability::Unsynced] {
            replace_private(&path, b"new", durability).unwrap();

            assert_eq!(std::fs::read(&path).unwrap(), b"new");
            assert_eq!(mode(&path), PRIVATE_FILE_MODE);
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        }
    }

    #[test]
    fn only_make_private_dir_tightens_a_directory_that_already_exists() {
        let dir = tempfile::tempdir().unwrap();
        let (kept, tightened) = (dir.path().join("kept"), dir.path().join("tightened"));
        for existing in [&kept, &tightened] {
            std::fs::create_dir(existing).unwrap();
            std::fs::set_permissions(existing, std::fs::Permissions::from_mode(0o755)).unwrap();
        }

        create_private_dirs(&kept.join("new/deeper")).unwrap();
        make_private_dir(&tightened).unwrap();

        assert_eq!(mode(&kept), 0o755);
        assert_eq!(mode(&kept.join("new")), PRIVATE_DIR_MODE);
        assert_eq!(mode(&kept.join("new/deeper")), PRIVATE_DIR_MODE);
        assert_eq!(mode(&tightened), PRIVATE_DIR_MODE);
    }

    #[test]
    fn protected_paths_cover_the_whole_directory() {
        let files = WorkerFiles::new("/Users/me/.config/openclaw-worker");

        for path in [
            files.config(),
            files.policy(),
            files.totp_secret(),
            files.state().audit_log(),
            files.state().audit_head(),
            files.state().replay_store(),
        ] {
            assert!(
                files.protected().iter().any(|p| path.starts_with(p)),
                "{}",
                path.display()
            );
        }
    }
}
