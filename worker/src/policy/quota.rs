//! The disk quota of a write root: how much its regular files take now, and what a write
//! or an edit would make of it. A client token may fill the inbox, not the disk.

use std::io;
use std::path::{Path, PathBuf};

/// Default for `paths.write_quota_bytes`: 1 GiB per write root.
pub const DEFAULT_WRITE_QUOTA_BYTES: u64 = 1024 * 1024 * 1024;

/// Most entries counted in one write root; beyond that, writes into it are refused (a
/// bounded walk keeps a check fast, and an inbox is not a file tree that large).
pub const MAX_QUOTA_ENTRIES: usize = 100_000;

/// Why a write root's usage could not be measured. Either way, the write is refused.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// The root holds more entries than a check may walk.
    #[error("holds more than {limit} entries, too many to measure")]
    TooManyEntries {
        /// The limit.
        limit: usize,
    },
    /// A directory inside cannot be listed.
    #[error("cannot list {path}: {source}")]
    Unreadable {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// The total size in bytes of the regular files below `root`, walked without following
/// links (a link counts nothing, and its target is not walked). Hard links count once per
/// name, which can only overstate.
pub fn usage(root: &Path, max_entries: usize) -> Result<u64, UsageError> {
    let mut total = 0u64;
    let mut seen = 0usize;
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let unreadable = |source| UsageError::Unreadable {
            path: dir.clone(),
            source,
        };
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            // The root itself may not exist yet: an empty inbox.
            Err(err) if err.kind() == io::ErrorKind::NotFound && dir == root => return Ok(0),
            Err(err) => return Err(unreadable(err)),
        };
        for entry in entries {
            let entry = entry.map_err(unreadable)?;
            seen += 1;
            if seen > max_entries {
                return Err(UsageError::TooManyEntries { limit: max_entries });
            }
            let meta = entry.metadata().map_err(unreadable)?;
            if meta.is_dir() {
                pending.push(entry.path());
            } else if meta.is_file() {
                total = total.saturating_add(meta.len());
            }
        }
    }
    Ok(total)
}

/// What a file task would leave at its target, for the quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A write of this many bytes.
    Write {
        /// The new content's length.
        len: u64,
    },
    /// An edit replacing `old_len` bytes by `new_len` bytes, once or everywhere.
    Edit {
        /// The length of the text replaced.
        old_len: u64,
        /// The length of the text put in its place.
        new_len: u64,
        /// Whether every occurrence is replaced.
        replace_all: bool,
    },
}

impl Change {
    /// The largest size the target can have afterwards, given its size now.
    pub fn size_after(self, current: u64) -> u64 {
        match self {
            Change::Write { len } => len,
            Change::Edit {
                old_len,
                new_len,
                replace_all,
            } => {
                let growth = new_len.saturating_sub(old_len);
                // At most `current / old_len` disjoint occurrences can be replaced.
                let times = if replace_all {
                    current.checked_div(old_len).unwrap_or(0)
                } else {
                    1
                };
                current.saturating_add(growth.saturating_mul(times))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_sums_regular_files_and_skips_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("one"), [0u8; 10]).unwrap();
        std::fs::write(root.join("a/b/two"), [0u8; 5]).unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("big"), [0u8; 1000]).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("link")).unwrap();

        assert_eq!(usage(root, 100).unwrap(), 15);
    }

    #[test]
    fn usage_of_a_root_with_too_many_entries_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..5 {
            std::fs::write(dir.path().join(i.to_string()), "x").unwrap();
        }

        assert!(matches!(
            usage(dir.path(), 4),
            Err(UsageError::TooManyEntries { limit: 4 })
        ));
        assert_eq!(usage(dir.path(), 5).unwrap(), 5);
    }

    #[test]
    fn an_edit_is_bounded_by_its_growth_per_occurrence() {
        let once = Change::Edit {
            old_len: 2,
            new_len: 10,
            replace_all: false,
        };
        let all = Change::Edit {
            old_len: 2,
            new_len: 10,
            replace_all: true,
        };

        assert_eq!(once.size_after(100), 108);
        assert_eq!(all.size_after(100), 100 + 50 * 8);
        assert_eq!(Change::Write { len: 7 }.size_after(100), 7);
    }
}
