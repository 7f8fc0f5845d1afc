//! The replay guard: each TOTP time step approves at most one task, ever. The highest step
//! used is persisted (atomically, fsynced) *before* an approval takes effect, so a code
//! seen once — by the bot, a log, a shoulder — is worthless afterwards, across restarts.
//!
//! It also keeps a mark, beside the store, while an approval is pending: a worker that
//! dies then (a crash, the out-of-memory killer, a reboot) never spends the codes valid
//! for that request, which a compromised bot may have kept back; the next start sees the
//! mark and spends them (see [`crate::approval::Approvals::recover`]).

use std::io;
use std::path::{Path, PathBuf};

use crate::files::{replace_private, Durability};

/// Why a step was not accepted, or the store cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The step is not newer than the last one used.
    #[error("this code (time step {step}) was already used; wait for the next code")]
    Replayed {
        /// The refused step.
        step: u64,
    },
    /// The store's file cannot be read or written.
    #[error("replay store {path}: {source}")]
    Io {
        /// The store file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The store's file holds something other than a step number. Fails closed: approvals
    /// stop until a person looks (deleting the file re-opens every old step).
    #[error("replay store {0} is corrupt; approvals are disabled until it is repaired")]
    Corrupt(PathBuf),
}

/// The persisted highest used time step.
#[derive(Debug)]
pub struct ReplayGuard {
    path: PathBuf,
    last_used: Option<u64>,
}

impl ReplayGuard {
    /// Opens the store at `path` (a missing file means no step was used yet).
    pub fn open(path: &Path) -> Result<Self, ReplayError> {
        let last_used = match std::fs::read_to_string(path) {
            Ok(text) => Some(
                text.trim()
                    .parse::<u64>()
                    .map_err(|_| ReplayError::Corrupt(path.to_owned()))?,
            ),
            Err(err) if err.kind() == io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ReplayError::Io {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        Ok(Self {
            path: path.to_owned(),
            last_used,
        })
    }

    /// The highest step used so far.
    pub fn last_used(&self) -> Option<u64> {
        self.last_used
    }

    /// Whether `step` is newer than every used one.
    pub fn is_fresh(&self, step: u64) -> bool {
        self.last_used.is_none_or(|last| step > last)
    }

    /// Marks `step` used, durably, or refuses it when it is not fresh. Only after this
    /// returns `Ok` may the approval take effect.
    pub fn consume(&mut self, step: u64) -> Result<(), ReplayError> {
        if !self.is_fresh(step) {
            return Err(ReplayError::Replayed { step });
        }
        self.persist(step).map_err(|source| ReplayError::Io {
            path: self.path.clone(),
            source,
        })?;
        self.last_used = Some(step);
        Ok(())
    }

    /// The mark kept while an approval is pending.
    fn pending_mark(&self) -> PathBuf {
        self.path.with_extension("pending")
    }

    /// Records, durably, that an approval is pending: until [`ReplayGuard::clear_pending`],
    /// a worker that starts finds [`ReplayGuard::was_pending`] true.
    pub fn mark_pending(&self) -> Result<(), ReplayError> {
        let mark = self.pending_mark();
        replace_private(&mark, b"", Durability::Synced)
            .map_err(|source| ReplayError::Io { path: mark, source })
    }

    /// Whether an approval was pending when the last worker stopped. Fails closed: a mark
    /// that cannot be inspected counts as there.
    pub fn was_pending(&self) -> bool {
        match std::fs::symlink_metadata(self.pending_mark()) {
            Ok(_) => true,
            Err(err) => err.kind() != io::ErrorKind::NotFound,
        }
    }

    /// Removes the mark: no approval is pending any more, and whatever code was valid for
    /// the last one is spent.
    pub fn clear_pending(&self) -> Result<(), ReplayError> {
        let mark = self.pending_mark();
        match std::fs::remove_file(&mark) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(ReplayError::Io { path: mark, source }),
        }
    }

    /// Replaces the store with `step`, durably: on disk before the approval takes effect.
    fn persist(&self, step: u64) -> io::Result<()> {
        replace_private(
            &self.path,
            format!("{step}\n").as_bytes(),
            Durability::Synced,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_is_accepted_once_and_older_ones_never() {
        let dir = tempfile::tempdir().unwrap();
        let mut guard = ReplayGuard::open(&dir.path().join("steps")).unwrap();

        guard.consume(100).unwrap();

        assert!(matches!(
            guard.consume(100),
            Err(ReplayError::Replayed { step: 100 })
        ));
        assert!(matches!(
            guard.consume(99),
            Err(ReplayError::Replayed { step: 99 })
        ));
        guard.consume(101).unwrap();
    }

    #[test]
    fn used_steps_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steps");
        ReplayGuard::open(&path)
            .unwrap()
            .consume(57_000_000)
            .unwrap();

        let mut reopened = ReplayGuard::open(&path).unwrap();

        assert_eq!(reopened.last_used(), Some(57_000_000));
        assert!(matches!(
            reopened.consume(57_000_000),
            Err(ReplayError::Replayed { .. })
        ));
    }

    #[test]
    fn corrupt_store_fails_closed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("steps");
        std::fs::write(&path, "yesterday").unwrap();

        assert!(matches!(
            ReplayGuard::open(&path),
            Err(ReplayError::Corrupt(_))
        ));
    }

    #[test]
    fn unwritable_store_refuses_the_step() {
        let dir = tempfile::tempdir().unwrap();
        // The store's directory is a file: nothing can be written there.
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let mut guard = ReplayGuard {
            path: blocker.join("steps"),
            last_used: None,
        };

        assert!(matches!(guard.consume(5), Err(ReplayError::Io { .. })));
        assert_eq!(guard.last_used(), None);
    }
}
