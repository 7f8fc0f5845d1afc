//! Opening what the rules name: every path becomes an `O_PATH` descriptor whose identity
//! and real location are read from the descriptor itself, so the rule the kernel gets is
//! for the very inode that was checked, not for whatever a name points to a moment later.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::os::unix::io::AsRawFd as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// The identity in `meta`.
pub fn identity_of(meta: &std::fs::Metadata) -> Identity {
    Identity {
        dev: meta.dev(),
        ino: meta.ino(),
    }
}

/// Whether an open failed because the path (or a directory on the way) is not there.
pub fn is_absent(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::NotFound || err.raw_os_error() == Some(libc::ENOTDIR)
}
