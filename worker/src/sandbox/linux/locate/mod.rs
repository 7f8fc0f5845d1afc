//! Locating paths: where a spelled path really is (symbolic links resolved), or would be
//! if it were created, and which inode it is. The locator also records every directory
//! it looked a name up in, with that directory's stamp, so a caller can tell later
//! whether any answer could have changed.

use std::collections::{HashMap, HashSet};
use std::io;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use super::resolve::{identity_of, is_absent, Identity};

/// How many symbolic links a location may go through (the kernel's own limit is 40;
/// real configurations need a handful).
const MAX_LINK_HOPS: u32 = 16;

/// Where a path is, or would be if it were created: its real location and, when it
/// exists, its identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The real absolute location: symbolic links resolved as far as the path exists,
    /// the missing rest appended as spelled.
    pub location: PathBuf,
    /// The inode, if the path exists.
    pub identity: Option<Identity>,
}

/// A directory's state as far as name lookups in it go: which inode it is and when its
/// entries last changed. Creating, removing, renaming or replacing an entry (a symbolic
/// link included: links cannot be rewritten in place) changes the modification and
/// change times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    identity: Identity,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        Self {
            identity: identity_of(meta),
            modified: (meta.mtime(), meta.mtime_nsec()),
            changed: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

/// Locates paths one component at a time, from `/` down, remembering each answer: excluded
/// paths share their parents (`~`, `~/.config`, `~/Library`), so each costs about one
/// `lstat`, and nothing below a missing directory costs anything.
#[derive(Debug, Default)]
pub struct Locator {
    /// Answers, by spelled path.
    seen: HashMap<PathBuf, Located>,
    /// The stamps of the existing paths located, by real location.
    dirs: HashMap<PathBuf, Stamp>,
    /// The directories a name was looked up in (real locations): the answers hold as long
    /// as these are unchanged.
    looked_in: HashSet<PathBuf>,
}

impl Locator {
    /// Locates `path` (absolute). A missing path is located below its nearest existing
    /// ancestor, and a dangling symbolic link at the place its target would be created:
    /// either is where a task could make the path appear. A `..` is folded away
    /// lexically.
    pub fn locate(&mut self, path: &Path) -> io::Result<Located> {
        self.locate_hops(path, 0)
    }

    /// How many answers are remembered.
    pub fn remembered(&self) -> usize {
        self.seen.len()
    }

    /// Whether every directory looked in is as it was (one `lstat` each): then every
    /// remembered answer still holds. The one gap: on kernels without fine-grained
    /// timestamps (before Linux 6.13) two changes within one clock tick, with this check
    /// between them, leave the second unseen.
    pub fn unchanged(&self) -> bool {
        self.looked_in.iter().all(|dir| {
            let now = std::fs::symlink_metadata(dir).map(|meta| Stamp::of(&meta));
            matches!((now, self.dirs.get(dir)), (Ok(now), Some(then)) if now == *then)
        })
    }

    fn locate_hops(&mut self, path: &Path, hops: u32) -> io::Result<Located> {
        if !path.is_absolute() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not absolute", path.display()),
            ));
        }
        if let Some(known) = self.seen.get(path) {
            return Ok(known.clone());
        }
        let located = match (path.parent(), path.file_name()) {
            (None, _) => self.located_existing(path.to_path_buf(), &std::fs::metadata(path)?),
            // Only a path ending in `..` has no name: fold it (the result has no `..`).
            (Some(_), None) => self.locate_hops(&crate::policy::paths::fold(path), hops)?,
            (Some(parent), Some(name)) => {
                let parent = self.locate_hops(parent, hops)?;
                let here = parent.location.join(name);
                if parent.identity.is_none() {
                    Located {
                        location: here,
                        identity: None,
                    }
                } else {
                    self.looked_in.insert(parent.location);
                    self.locate_entry(here, hops)?
                }
            }
        };
        self.seen.insert(path.to_path_buf(), located.clone());
        Ok(located)
    }

    /// Locates `here`, an entry of a located directory: itself unless it is a link.
    fn locate_entry(&mut self, here: PathBuf, hops: u32) -> io::Result<Located> {
        match std::fs::symlink_metadata(&here) {
            Ok(meta) if meta.file_type().is_symlink() => {
                if hops >= MAX_LINK_HOPS {
                    return Err(io::Error::other(format!(
                        "too many symbolic links at {}",
                        here.display()
                    )));
                }
                let target = std::fs::read_link(&here)?;
                // A relative target starts from the link's own (real) directory.
                let from = here.parent().unwrap_or(Path::new("/"));
                self.locate_hops(&from.join(target), hops + 1)
            }
            Ok(meta) => Ok(self.located_existing(here, &meta)),
            Err(err) if is_absent(&err) => Ok(Located {
                location: here,
                identity: None,
            }),
            Err(err) => Err(err),
        }
    }

    /// An existing path, its stamp kept in case names are looked up in it.
    fn located_existing(&mut self, location: PathBuf, meta: &std::fs::Metadata) -> Located {
        self.dirs.insert(location.clone(), Stamp::of(meta));
        Located {
            location,
            identity: Some(identity_of(meta)),
        }
    }
}

#[cfg(test)]
mod tests;
