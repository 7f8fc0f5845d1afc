//! Opening what the rules name: every path becomes an `O_PATH` descriptor whose identity
//! and real location are read from the descriptor itself, so the rule the kernel gets is
//! for the very inode that was checked, not for whatever a name points to a moment later.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::os::unix::io::AsRawFd as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use nix::libc;

/// Which inode a path is, wherever it is reached from: `(st_dev, st_ino)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Identity {
    dev: u64,
    ino: u64,
}

/// What kind of file an opened path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A directory: a rule on it covers everything below.
    Dir,
    /// A symbolic link (only ever seen when opened without following).
    Symlink,
    /// Anything else: regular file, device, pipe, socket.
    File,
}

/// A path opened with `O_PATH`: no read or write access, just a handle on the inode for a
/// Landlock rule (the descriptor is close-on-exec, so no child ever sees it).
#[derive(Debug)]
pub struct Opened {
    /// The descriptor.
    pub file: File,
    /// Its inode.
    pub identity: Identity,
    /// What it is.
    pub kind: Kind,
}

/// How many symbolic links [`locate`] follows through dangling links before giving up
/// (the kernel's own limit is 40; real configurations need a handful).
const MAX_LINK_HOPS: u32 = 16;

/// Opens `path` following symbolic links, as the kernel will when the task names it.
pub fn open_following(path: &Path) -> io::Result<Opened> {
    open_with(path, 0)
}

/// Opens `path` without following a final symbolic link: a link comes back as
/// [`Kind::Symlink`], never as its target.
pub fn open_not_following(path: &Path) -> io::Result<Opened> {
    open_with(path, libc::O_NOFOLLOW)
}

fn open_with(path: &Path, extra_flags: i32) -> io::Result<Opened> {
    // O_PATH ignores the access mode std insists on; O_CLOEXEC is std's default.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | extra_flags)
        .open(path)?;
    let meta = file.metadata()?;
    let file_type = meta.file_type();
    let kind = if file_type.is_dir() {
        Kind::Dir
    } else if file_type.is_symlink() {
        Kind::Symlink
    } else {
        Kind::File
    };
    Ok(Opened {
        file,
        identity: identity_of(&meta),
        kind,
    })
}

/// The real absolute location of an opened path (symbolic links resolved), as the kernel
/// records it for the descriptor.
pub fn real_location(opened: &Opened, spelled: &Path) -> io::Result<PathBuf> {
    let link = format!("/proc/self/fd/{}", opened.file.as_raw_fd());
    match std::fs::read_link(link) {
        Ok(real)
            if real.is_absolute()
                && !real.as_os_str().as_encoded_bytes().ends_with(b" (deleted)") =>
        {
            Ok(real)
        }
        // Without /proc (or for a path removed meanwhile) ask the slow way.
        _ => std::fs::canonicalize(spelled),
    }
}

/// A tree opened for rules: its descriptor and its real location.
#[derive(Debug)]
pub struct OpenedTree {
    /// The opened tree.
    pub opened: Arc<Opened>,
    /// Its real location.
    pub location: PathBuf,
}

/// Opens the tree at `path` (following links) and locates it.
pub fn open_tree(path: &Path) -> io::Result<Arc<OpenedTree>> {
    let opened = open_following(path)?;
    let location = real_location(&opened, path)?;
    Ok(Arc::new(OpenedTree {
        opened: Arc::new(opened),
        location,
    }))
}

/// How many trees [`open_tree_cached`] keeps (the policy names a few dozen; per-task paths
/// must not be cached at all).
const MAX_CACHED_TREES: usize = 256;

/// Trees opened by earlier spawns, by the path the spec names them with. A std mutex: it
/// is held for a map lookup, never across a system call that can block for long.
static TREES: LazyLock<Mutex<HashMap<PathBuf, Arc<OpenedTree>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// [`open_tree`], reusing the descriptor an earlier spawn opened while `path` still leads
/// to the same inode (one `stat` instead of open, stat, readlink and close). A rule is on
/// an inode, so a kept descriptor grants exactly what a fresh one would; only a tree
/// directory moved elsewhere under the same name (through a retargeted link) would keep
/// its old location, and that takes the owner, not a task, to do.
pub fn open_tree_cached(path: &Path) -> io::Result<Arc<OpenedTree>> {
    let kept = TREES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(path)
        .cloned();
    if let Some(kept) = kept {
        let meta = std::fs::metadata(path)?;
        if kept.opened.identity == identity_of(&meta) {
            return Ok(kept);
        }
    }
    let tree = open_tree(path)?;
    let mut trees = TREES.lock().unwrap_or_else(PoisonError::into_inner);
    if trees.len() < MAX_CACHED_TREES || trees.contains_key(path) {
        trees.insert(path.to_path_buf(), tree.clone());
    }
    Ok(tree)
}

fn identity_of(meta: &std::fs::Metadata) -> Identity {
    Identity {
        dev: meta.dev(),
        ino: meta.ino(),
    }
}

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

/// Locates paths, remembering the ancestors it has resolved (many excluded paths share
/// their parents, such as `~/.config` or `~/Library`).
#[derive(Debug, Default)]
pub struct Locator {
    seen: HashMap<PathBuf, Located>,
}

impl Locator {
    /// Locates `path` (absolute). A missing path is located below its nearest existing
    /// ancestor, and a dangling symbolic link at the place its target would be created:
    /// either is where a task could make the path appear.
    pub fn locate(&mut self, path: &Path) -> io::Result<Located> {
        self.locate_hops(path, 0)
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
        // Not following first: one failed open is all a missing path costs, and a link
        // (dangling or not) is followed by hand, so its target's missing part is known.
        let located = match open_not_following(path) {
            Ok(opened) if opened.kind == Kind::Symlink => {
                if hops >= MAX_LINK_HOPS {
                    return Err(io::Error::other(format!(
                        "too many symbolic links at {}",
                        path.display()
                    )));
                }
                let target = std::fs::read_link(path)?;
                let from = match path.parent() {
                    Some(parent) => self.locate_hops(parent, hops)?.location,
                    None => PathBuf::from("/"),
                };
                self.locate_hops(&from.join(target), hops + 1)?
            }
            Ok(opened) => Located {
                location: real_location(&opened, path)?,
                identity: Some(opened.identity),
            },
            Err(err) if is_absent(&err) => self.locate_absent(path, hops)?,
            Err(err) => return Err(err),
        };
        self.seen.insert(path.to_path_buf(), located.clone());
        Ok(located)
    }

    fn locate_absent(&mut self, path: &Path, hops: u32) -> io::Result<Located> {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            // Only a path ending in `..` has no name (`/` always exists): that is `..`
            // past a missing directory, so fold it away (the result has no `..`).
            return self.locate_hops(&crate::policy::paths::fold(path), hops);
        };
        let parent = self.locate_hops(parent, hops)?;
        Ok(Located {
            location: parent.location.join(name),
            identity: None,
        })
    }
}

/// Whether an open failed because the path (or a directory on the way) is not there.
pub fn is_absent(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::NotFound || err.raw_os_error() == Some(libc::ENOTDIR)
}
