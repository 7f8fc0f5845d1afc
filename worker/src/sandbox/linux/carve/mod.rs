//! Carving: Landlock can only add rights (a rule covers everything below its path), so a
//! hidden or read-only path below a tree is excluded by not granting the tree itself:
//! the directories on the way down get listing only, every other entry next to them gets
//! the tree's access, and the excluded entry gets nothing (hidden) or reading (read-only).
//!
//! Excluded paths are recognised by identity (`st_dev`, `st_ino`) as well as by their real
//! location, so an excluded path met under another name among the entries carving walks
//! (a hard link of a hidden file, a second spelling) is still skipped, and its directory
//! kept to listing. Identity reaches no further: a hard link of a file *inside* a hidden
//! directory, or one in a directory granted whole, is not found. Symbolic links among the
//! carved entries are never granted: a link's target is reachable only if a rule covers
//! it where it really is.
//!
//! The price: a directory on the way down can be listed, but nothing can be created or
//! removed directly in it. With `~/.zshrc` read-only in a writable home, a task cannot make
//! new files directly in `~` (it can in every directory below it). Listing also shows the
//! names (never the contents) of the entries of a hidden directory below it, since a
//! Landlock right on a directory reaches everything below.

use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::locate::Located;
use super::resolve::{self, Identity, Kind, Opened, OpenedTree};
use crate::sandbox::{Access, Tree};

/// How a path is kept from the task. Ordered by strength: where both apply, hidden wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exclusion {
    /// Read, maybe run, never written.
    ReadOnly,
    /// Never read, written or run.
    Hidden,
}

/// An excluded path, located on disk.
#[derive(Debug, Clone)]
pub struct Excluded {
    /// How it is excluded.
    pub exclusion: Exclusion,
    /// Where it is (or would be created).
    pub located: Located,
}

/// What one rule allows on its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rights {
    /// The access on the path and everything below it (a file: the file rights of it).
    Tree(Access),
    /// Listing the directory only: it is on the way down to a hidden path.
    List,
}

/// One rule for the kernel: an opened path and what it allows there.
#[derive(Debug)]
pub struct Grant {
    /// The real location (for logs and tests; the rule is on the descriptor).
    pub path: PathBuf,
    /// The opened path the rule is for.
    pub opened: Arc<Opened>,
    /// What the rule allows.
    pub rights: Rights,
}

/// The rules that give `trees` minus `excluded`. A tree that does not exist is skipped; a
/// tree inside (or equal to) a hidden path is dropped; one inside a read-only path loses
/// its write rights; one with excluded paths below it is carved. `open` opens a tree
/// ([`resolve::open_tree`], or the plan cache's).
pub fn plan(
    trees: &[Tree],
    excluded: &[Excluded],
    mut open: impl FnMut(&Path) -> io::Result<Arc<OpenedTree>>,
) -> io::Result<Vec<Grant>> {
    let mut by_identity: HashMap<Identity, Exclusion> = HashMap::new();
    for item in excluded {
        if let Some(identity) = item.located.identity {
            let strongest = by_identity.entry(identity).or_insert(item.exclusion);
            *strongest = (*strongest).max(item.exclusion);
        }
    }
    let mut grants = Vec::new();
    for tree in trees {
        if !tree.path.is_absolute() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("tree {} is not absolute", tree.path.display()),
            ));
        }
        let opened_tree = match open(&tree.path) {
            Ok(opened_tree) => opened_tree,
            Err(err) if resolve::is_absent(&err) => continue,
            Err(err) => return Err(err),
        };
        let opened = opened_tree.opened.clone();
        let real = opened_tree.location.clone();
        let covering = excluded
            .iter()
            .filter(|item| {
                item.located.identity == Some(opened.identity)
                    || is_within(&real, &item.located.location)
            })
            .map(|item| item.exclusion)
            .max();
        let access = match covering {
            Some(Exclusion::Hidden) => {
                tracing::debug!(tree = %tree.path.display(), "tree inside a hidden path dropped");
                continue;
            }
            Some(Exclusion::ReadOnly) => without_write(tree.access),
            None => tree.access,
        };
        let mut below = Node::default();
        if opened.kind == Kind::Dir {
            for item in excluded {
                if let Some(rest) = rest_below(&item.located.location, &real) {
                    below.insert(rest, item.exclusion);
                }
            }
        }
        if below.children.is_empty() {
            grants.push(Grant {
                path: real,
                opened,
                rights: Rights::Tree(access),
            });
        } else {
            let walk = Walk {
                by_identity: &by_identity,
            };
            walk.carve(real, opened, access, &below, &mut grants)?;
        }
    }
    Ok(grants)
}

/// Whether `path` is `dir` or below it. Both are real locations (no `.`, `..`, `//` or
/// trailing `/`), so bytes compare as well as components, and much faster.
fn is_within(path: &Path, dir: &Path) -> bool {
    rest_below(path, dir).is_some()
}

/// The part of `path` below `dir` (empty for `dir` itself), if `path` is within it.
fn rest_below<'a>(path: &'a Path, dir: &Path) -> Option<&'a Path> {
    let (path_bytes, dir_bytes) = (path.as_os_str().as_bytes(), dir.as_os_str().as_bytes());
    let rest = path_bytes.strip_prefix(dir_bytes)?;
    let rest = match rest {
        [] => rest,
        [b'/', rest @ ..] => rest,
        _ if dir_bytes.ends_with(b"/") => rest,
        _ => return None,
    };
    Some(Path::new(OsStr::from_bytes(rest)))
}

/// The reading part of `access`: what a read-only path keeps.
pub fn without_write(access: Access) -> Access {
    match access {
        Access::Read | Access::ReadWrite => Access::Read,
        Access::ReadExec | Access::Full => Access::ReadExec,
    }
}

/// The excluded paths below one directory, by name, down to each excluded path.
#[derive(Debug, Default)]
struct Node {
    /// How this path itself is excluded, if it is.
    exclusion: Option<Exclusion>,
    /// The names on the way further down.
    children: BTreeMap<OsString, Node>,
}

impl Node {
    /// Adds the excluded path at `rest` below this node. An empty `rest` (the node's own
    /// path) adds nothing: whoever holds the node has already applied that exclusion.
    fn insert(&mut self, rest: &Path, exclusion: Exclusion) {
        if rest.as_os_str().is_empty() {
            return;
        }
        let mut node = self;
        for part in rest.iter() {
            node = node.children.entry(part.to_os_string()).or_default();
        }
        node.exclusion = node.exclusion.max(Some(exclusion));
    }

    /// Whether a hidden path lies strictly below this node.
    fn hides_below(&self) -> bool {
        self.children
            .values()
            .any(|child| child.exclusion == Some(Exclusion::Hidden) || child.hides_below())
    }
}

/// One carving pass: the excluded identities it skips wherever they turn up.
struct Walk<'a> {
    by_identity: &'a HashMap<Identity, Exclusion>,
}

impl Walk<'_> {
    /// Grants `dir` (on the way down, so listing or reading only) and every entry in it
    /// but the excluded ones, descending towards the excluded paths below `node`.
    fn carve(
        &self,
        dir: PathBuf,
        opened: Arc<Opened>,
        access: Access,
        node: &Node,
        grants: &mut Vec<Grant>,
    ) -> io::Result<()> {
        // A hidden path below, found by location or (among the entries) by identity, leaves
        // the directory listing only: a right on it would reach everything below.
        let mut hides_below = node.hides_below();
        for entry in std::fs::read_dir(&dir)? {
            let name = entry?.file_name();
            let path = dir.join(&name);
            let opened = match resolve::open_not_following(&path) {
                Ok(opened) => opened,
                // Removed since it was listed: nothing to grant.
                Err(err) if resolve::is_absent(&err) => continue,
                Err(err) => return Err(err),
            };
            if opened.kind == Kind::Symlink {
                continue;
            }
            let child = node.children.get(&name);
            let exclusion = self
                .by_identity
                .get(&opened.identity)
                .copied()
                .max(child.and_then(|c| c.exclusion));
            let entry_access = match exclusion {
                Some(Exclusion::Hidden) => {
                    hides_below = true;
                    continue;
                }
                Some(Exclusion::ReadOnly) => without_write(access),
                None => access,
            };
            match child {
                Some(child) if opened.kind == Kind::Dir && !child.children.is_empty() => {
                    self.carve(path, Arc::new(opened), entry_access, child, grants)?;
                }
                _ => grants.push(Grant {
                    path,
                    opened: Arc::new(opened),
                    rights: Rights::Tree(entry_access),
                }),
            }
        }
        let rights = if hides_below {
            Rights::List
        } else {
            Rights::Tree(without_write(access))
        };
        grants.push(Grant {
            path: dir,
            opened,
            rights,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests;
