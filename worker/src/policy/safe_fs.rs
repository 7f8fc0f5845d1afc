//! File access for the executor that never follows a symlink on the way to the target, so
//! a link planted inside a root after the check cannot lead the operation outside it.
//!
//! The checked path is already fully resolved: none of its components is a link. So every
//! operation walks it again one component at a time from `/`, opening each directory
//! relative to the one before with `O_NOFOLLOW` (`openat`), and then works inside the last
//! one by descriptor: a component that is a link by then was planted after the check, and
//! is refused. A directory swapped for a link between the check and the open (a sandboxed
//! program may rename and link inside a write root, which is its to change) therefore
//! never takes a read or a write elsewhere; at worst the walk meets the swap and fails.
//!
//! Writes go to a fresh temp file (`O_CREAT|O_EXCL|O_NOFOLLOW`) in the opened directory
//! and are renamed over the target there (`renameat`, which replaces a link rather than
//! following it). Missing parent directories are made one at a time on the walk, each
//! inside the directory just opened, so a refused write never leaves a directory behind
//! anywhere else.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, CWD};
use rustix::io::Errno;

/// Why a guarded file operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SafeFsError {
    /// The target (or a directory on the way) changed into a symlink after the check.
    #[error("{0} is a symbolic link; refusing to follow it")]
    Symlink(PathBuf),
    /// The target exists and is not a regular file.
    #[error("{0} is not a regular file")]
    NotAFile(PathBuf),
    /// The path is not the resolved, absolute one a check produces.
    #[error("{0} changed since it was checked")]
    Moved(PathBuf),
    /// A part of the parent exists and is not a directory.
    #[error("{0} is not a directory")]
    NotADirectory(PathBuf),
    /// The file is larger than the limit.
    #[error("file is over {limit} bytes")]
    TooLarge {
        /// The limit, bytes.
        limit: u64,
    },
    /// Any other I/O error.
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl From<Errno> for SafeFsError {
    fn from(errno: Errno) -> Self {
        SafeFsError::Io(errno.into())
    }
}

/// How every directory on the walk is opened: read-only, never through a link.
fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

/// Opens the checked, resolved directory `dir` one component at a time from `/` without
/// following a link anywhere; with `create`, missing components are made (0700) inside
/// the directory opened just before them.
fn open_dir(dir: &Path, create: bool) -> Result<OwnedFd, SafeFsError> {
    if !dir.is_absolute() {
        return Err(SafeFsError::Moved(dir.to_owned()));
    }
    let mut walked = PathBuf::from("/");
    let mut fd = rustix::fs::openat(CWD, "/", dir_flags(), Mode::empty())?;
    for component in dir.components() {
        let name = match component {
            Component::RootDir => continue,
            Component::Normal(name) => name,
            // A resolved path has no `.`, `..` or prefix.
            _ => return Err(SafeFsError::Moved(dir.to_owned())),
        };
        walked.push(name);
        let next = match rustix::fs::openat(&fd, name, dir_flags(), Mode::empty()) {
            Err(Errno::NOENT) if create => {
                match rustix::fs::mkdirat(&fd, name, Mode::from_bits_truncate(0o700)) {
                    // Made meanwhile by someone else: the open below decides.
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(errno) => return Err(errno.into()),
                }
                rustix::fs::openat(&fd, name, dir_flags(), Mode::empty())
            }
            other => other,
        };
        fd = next.map_err(|errno| refused(&fd, name, &walked, errno))?;
    }
    Ok(fd)
}

/// What an `openat(dirfd, name, O_NOFOLLOW…)` failure means: a link planted there, a
/// non-directory in the way of a directory, or another error.
fn refused(dirfd: &OwnedFd, name: &std::ffi::OsStr, path: &Path, errno: Errno) -> SafeFsError {
    if !matches!(errno, Errno::LOOP | Errno::NOTDIR) {
        return errno.into();
    }
    match rustix::fs::statat(dirfd, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::Symlink => {
            SafeFsError::Symlink(path.to_owned())
        }
        Ok(_) => SafeFsError::NotADirectory(path.to_owned()),
        Err(errno) => errno.into(),
    }
}

/// The parent directory and the file name of a checked target.
fn split(target: &Path) -> Result<(&Path, &std::ffi::OsStr), SafeFsError> {
    match (target.parent(), target.file_name()) {
        (Some(parent), Some(name)) => Ok((parent, name)),
        _ => Err(SafeFsError::NotAFile(target.to_owned())),
    }
}

/// Opens a checked, resolved path for reading without following a symlink anywhere on
/// the way, and reads at most `limit` bytes (more is [`SafeFsError::TooLarge`]).
pub fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, SafeFsError> {
    let (parent, name) = split(path)?;
    let dir = open_dir(parent, false)?;
    // O_NONBLOCK: a FIFO planted after the check must not hang the open; regular files
    // ignore it.
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let file = File::from(
        rustix::fs::openat(&dir, name, flags, Mode::empty())
            .map_err(|errno| refused(&dir, name, path, errno))?,
    );
    if !file.metadata()?.is_file() {
        return Err(SafeFsError::NotAFile(path.to_owned()));
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(SafeFsError::TooLarge { limit });
    }
    Ok(bytes)
}

/// Writes `bytes` to a checked, resolved `target` atomically: missing parents are created
/// (0700, see [`create_parents`]), a symlink or non-file at `target` is refused, and an
/// existing file keeps its permission bits.
pub fn write_atomic(target: &Path, bytes: &[u8]) -> Result<(), SafeFsError> {
    let (parent, name) = split(target)?;
    let dir = open_dir(parent, true)?;
    let mode = match rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(stat) => match FileType::from_raw_mode(stat.st_mode) {
            FileType::Symlink => return Err(SafeFsError::Symlink(target.to_owned())),
            FileType::RegularFile => permission_bits(&stat),
            _ => return Err(SafeFsError::NotAFile(target.to_owned())),
        },
        Err(Errno::NOENT) => 0o644,
        Err(errno) => return Err(errno.into()),
    };
    let (temp_name, mut temp) = create_temp(&dir, name)?;
    let written = (|| {
        temp.write_all(bytes)?;
        temp.set_permissions(std::fs::Permissions::from_mode(mode))?;
        temp.sync_all()?;
        rustix::fs::renameat(&dir, &temp_name, &dir, name)?;
        rustix::fs::fsync(&dir)?;
        Ok::<(), io::Error>(())
    })();
    if written.is_err() {
        let _ = rustix::fs::unlinkat(&dir, &temp_name, AtFlags::empty());
    }
    Ok(written?)
}

/// The permission bits of a file's status.
// `st_mode` is a `u32` on Linux but a `u16` on macOS: the conversion is not useless there.
#[allow(clippy::useless_conversion)]
fn permission_bits(stat: &rustix::fs::Stat) -> u32 {
    u32::from(stat.st_mode) & 0o7777
}

/// Creates the missing directories of the checked, resolved `dir`, never through a link:
/// the walk from `/` opens each existing component without following links, and makes
/// each missing one (0700) inside the directory it just opened. Nothing is created past a
/// component that fails.
pub fn create_parents(dir: &Path) -> Result<(), SafeFsError> {
    open_dir(dir, true).map(drop)
}

/// Creates `.<name>.<random>.tmp` in `dir`, exclusively and without following links.
fn create_temp(dir: &OwnedFd, name: &std::ffi::OsStr) -> io::Result<(std::ffi::OsString, File)> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    for _ in 0..16 {
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{:016x}.tmp", fastrand::u64(..)));
        match rustix::fs::openat(dir, &temp_name, flags, Mode::from_bits_truncate(0o600)) {
            Ok(fd) => return Ok((temp_name, File::from(fd))),
            Err(Errno::EXIST) => continue,
            Err(errno) => return Err(errno.into()),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "could not create a unique temp file",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn dir() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        (dir, real)
    }

    #[test]
    fn write_stores_exact_bytes_and_creates_parents() {
        let (_d, root) = dir();
        let target = root.join("a/b/file.txt");

        write_atomic(&target, b"line\n\0binary").unwrap();

        assert_eq!(std::fs::read(&target).unwrap(), b"line\n\0binary");
    }

    #[test]
    fn write_refuses_a_symlink_planted_at_the_target() {
        let (_d, root) = dir();
        let outside = root.join("outside.txt");
        std::fs::write(&outside, "precious").unwrap();
        std::fs::create_dir(root.join("inbox")).unwrap();
        let target = root.join("inbox/note.txt");
        symlink(&outside, &target).unwrap();

        let err = write_atomic(&target, b"overwrite").unwrap_err();

        assert!(matches!(err, SafeFsError::Symlink(_)), "{err}");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
    }

    #[test]
    fn write_refuses_when_the_parent_became_a_symlink() {
        let (_d, root) = dir();
        std::fs::create_dir(root.join("elsewhere")).unwrap();
        symlink(root.join("elsewhere"), root.join("inbox")).unwrap();

        let err = write_atomic(&root.join("inbox/x"), b"x").unwrap_err();

        assert!(matches!(err, SafeFsError::Symlink(_)), "{err}");
        assert!(!root.join("elsewhere/x").exists());
    }

    #[test]
    fn refused_write_through_a_linked_parent_creates_no_directory_anywhere() {
        let (_d, root) = dir();
        std::fs::create_dir(root.join("elsewhere")).unwrap();
        symlink(root.join("elsewhere"), root.join("inbox")).unwrap();

        let err = write_atomic(&root.join("inbox/a/b/file"), b"x").unwrap_err();

        assert!(matches!(err, SafeFsError::Symlink(_)), "{err}");
        assert_eq!(
            std::fs::read_dir(root.join("elsewhere")).unwrap().count(),
            0
        );
        assert!(!root.join("a").exists());
    }

    #[test]
    fn refused_write_through_a_dangling_link_creates_nothing() {
        let (_d, root) = dir();
        symlink(root.join("later"), root.join("inbox")).unwrap();

        assert!(write_atomic(&root.join("inbox/a/file"), b"x").is_err());
        assert!(!root.join("later").exists());
    }

    #[test]
    fn parents_are_created_private_one_by_one() {
        let (_d, root) = dir();

        create_parents(&root.join("a/b/c")).unwrap();

        for sub in ["a", "a/b", "a/b/c"] {
            let meta = std::fs::symlink_metadata(root.join(sub)).unwrap();
            assert!(meta.is_dir(), "{sub}");
            assert_eq!(meta.permissions().mode() & 0o777, 0o700, "{sub}");
        }
    }

    #[test]
    fn a_file_in_the_way_of_a_parent_is_refused() {
        let (_d, root) = dir();
        std::fs::write(root.join("f"), "x").unwrap();

        let err = write_atomic(&root.join("f/a/file"), b"x").unwrap_err();

        assert!(
            matches!(err, SafeFsError::NotADirectory(_) | SafeFsError::Io(_)),
            "{err}"
        );
    }

    #[test]
    fn write_keeps_the_mode_of_an_existing_file_and_leaves_no_temp() {
        let (_d, root) = dir();
        let target = root.join("script.sh");
        std::fs::write(&target, "old").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o750)).unwrap();

        write_atomic(&target, b"new").unwrap();

        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o750);
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 1);
    }

    #[test]
    fn write_refuses_a_directory_target() {
        let (_d, root) = dir();
        std::fs::create_dir(root.join("d")).unwrap();

        assert!(matches!(
            write_atomic(&root.join("d"), b"x"),
            Err(SafeFsError::NotAFile(_))
        ));
    }

    #[test]
    fn read_refuses_a_symlink_at_the_target() {
        let (_d, root) = dir();
        std::fs::write(root.join("secret"), "s").unwrap();
        symlink(root.join("secret"), root.join("link")).unwrap();

        assert!(matches!(
            read_capped(&root.join("link"), 100),
            Err(SafeFsError::Symlink(_))
        ));
    }

    #[test]
    fn read_refuses_a_symlink_on_the_way_to_the_target() {
        let (_d, root) = dir();
        std::fs::create_dir(root.join("secrets")).unwrap();
        std::fs::write(root.join("secrets/key"), "s").unwrap();
        symlink(root.join("secrets"), root.join("inbox")).unwrap();

        assert!(matches!(
            read_capped(&root.join("inbox/key"), 100),
            Err(SafeFsError::Symlink(_))
        ));
    }

    #[test]
    fn read_enforces_the_size_limit() {
        let (_d, root) = dir();
        std::fs::write(root.join("f"), "12345").unwrap();

        assert_eq!(read_capped(&root.join("f"), 5).unwrap(), b"12345");
        assert!(matches!(
            read_capped(&root.join("f"), 4),
            Err(SafeFsError::TooLarge { limit: 4 })
        ));
    }
}
