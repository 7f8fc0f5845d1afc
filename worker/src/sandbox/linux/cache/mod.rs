//! What one spawn's planning leaves for the next: the located paths (excluded paths and
//! trees) and the opened trees. All of it is reused only while every directory looked in
//! to find it is unchanged ([`Locator::unchanged`]), one `lstat` per directory instead
//! of a walk per path; when any has changed, everything is located and opened afresh.
//!
//! A kept descriptor grants exactly what a fresh one would: while the directories on the
//! way are unchanged, the spelled path still leads to the same inode.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};

use super::locate::{Located, Locator};
use super::resolve::{self, OpenedTree};

/// How many paths the cache remembers before it starts afresh (a policy names a few
/// dozen; per-task paths never enter it).
const MAX_REMEMBERED: usize = 1024;

/// The plan cache shared by all spawns. A std mutex: a spawn holds it while it plans
/// (tens of microseconds, no await), and concurrent spawns would repeat the same work.
static CACHE: LazyLock<Mutex<PlanCache>> = LazyLock::new(|| Mutex::new(PlanCache::default()));

/// Located paths and opened trees, valid together.
#[derive(Debug, Default)]
pub struct PlanCache {
    locator: Locator,
    trees: HashMap<PathBuf, Arc<OpenedTree>>,
}

impl PlanCache {
    /// The shared cache, checked: emptied first if anything it relies on has changed.
    pub fn checked() -> MutexGuard<'static, PlanCache> {
        let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        cache.refresh();
        cache
    }

    /// Empties the cache if anything it relies on has changed (or it has grown too big).
    pub fn refresh(&mut self) {
        if self.locator.remembered() > MAX_REMEMBERED || !self.locator.unchanged() {
            *self = PlanCache::default();
        }
    }

    /// Locates `path` (see [`Locator::locate`]).
    pub fn locate(&mut self, path: &Path) -> io::Result<Located> {
        self.locator.locate(path)
    }

    /// Opens the tree at `path`, or hands back the descriptor opened before.
    pub fn open_tree(&mut self, path: &Path) -> io::Result<Arc<OpenedTree>> {
        if let Some(kept) = self.trees.get(path) {
            return Ok(kept.clone());
        }
        let located = self.locator.locate(path)?;
        let Some(identity) = located.identity else {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} does not exist", path.display()),
            ));
        };
        let opened = resolve::open_following(path)?;
        if opened.identity != identity {
            // Changed between the lookup and the open: start afresh next time, and do not
            // grant something that was never looked at.
            *self = PlanCache::default();
            return Err(io::Error::other(format!(
                "{} changed while it was being opened",
                path.display()
            )));
        }
        let tree = Arc::new(OpenedTree {
            opened: Arc::new(opened),
            location: located.location,
        });
        self.trees.insert(path.to_path_buf(), tree.clone());
        Ok(tree)
    }
}

#[cfg(test)]
mod tests;
