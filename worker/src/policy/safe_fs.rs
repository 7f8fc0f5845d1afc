//! File access for the executor that never follows a symlink at the target, so a link
//! planted inside a root after the check cannot lead the operation outside it.
//!
//! Writes go to a fresh temp file (`O_CREAT|O_EXCL|O_NOFOLLOW`) in the checked directory
//! and are renamed over the target: `rename` replaces a symlink rather than following it.
//! Reads open with `O_NOFOLLOW`. The checked path is already fully resolved, so any
//! symlink found at open time was planted after the check and is refused. Missing parent
//! directories are created one at a time, and only below an existing part that still
//! resolves to itself, so a refused write never leaves a directory behind anywhere. (A
//! swap of a *parent* directory between check and open is narrowed, not closed: the parent
//! is re-resolved and compared just before the write.)

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;

/// Why a guarded file operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SafeFsError {
    /// The target (or its directory) changed into a symlink after the check.
    #[error("{0} is a symbolic link; refusing to follow it")]
    Symlink(PathBuf),
    /// The target exists and is not a regular file.
    #[error("{0} is not a regular file")]
    NotAFile(PathBuf),
    /// The parent directory no longer resolves to the checked one.
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

fn nofollow() -> i32 {
    OFlag::O_NOFOLLOW.bits()
}

/// Opens a checked, resolved path for reading without following a symlink at it, and
/// reads at most `limit` bytes (more is [`SafeFsError::TooLarge`]).
pub fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, SafeFsError> {
    // O_NONBLOCK: a FIFO planted after the check must not hang the open; regular files
    // ignore it.
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nofollow() | OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(|err| refine(err, path))?;
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
/// (0700, see [`create_parents`]), the parent is re-resolved and must still be `target`'s
/// parent, a symlink or non-file at `target` is refused, and an existing file keeps its
/// permission bits.
pub fn write_atomic(target: &Path, bytes: &[u8]) -> Result<(), SafeFsError> {
    let parent = target
        .parent()
        .ok_or_else(|| SafeFsError::NotAFile(target.to_owned()))?;
    let name = target
        .file_name()
        .ok_or_else(|| SafeFsError::NotAFile(target.to_owned()))?;
    create_parents(parent)?;
    if std::fs::canonicalize(parent)? != parent {
        return Err(SafeFsError::Moved(parent.to_owned()));
    }
    let mode = match std::fs::symlink_metadata(target) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(SafeFsError::Symlink(target.to_owned()))
        }
        Ok(meta) if !meta.is_file() => return Err(SafeFsError::NotAFile(target.to_owned())),
        Ok(meta) => meta.permissions().mode() & 0o7777,
        Err(err) if err.kind() == io::ErrorKind::NotFound => 0o644,
        Err(err) => return Err(err.into()),
    };
    let (temp_path, mut temp) = create_temp(parent, name)?;
    let written = (|| {
        temp.write_all(bytes)?;
        temp.set_permissions(std::fs::Permissions::from_mode(mode))?;
        temp.sync_all()?;
        std::fs::rename(&temp_path, target)?;
        sync_dir(parent)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp_path);
    }
    Ok(written?)
}

/// Creates the missing directories of the checked, resolved `dir`, never through a link:
/// the deepest part that exists must resolve to itself (no link anywhere in it), and each
/// missing component is then made with a plain `mkdir` (which never follows a link at
/// its final component) and must be a directory, not a link, when looked at afterwards.
/// Nothing is created when the existing part fails its check.
pub fn create_parents(dir: &Path) -> Result<(), SafeFsError> {
    let mut missing = Vec::new();
    let mut existing = dir;
    loop {
        match std::fs::symlink_metadata(existing) {
            Ok(_) => break,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                let (Some(name), Some(up)) = (existing.file_name(), existing.parent()) else {
                    return Err(err.into());
                };
                missing.push(name);
                existing = up;
            }
            Err(err) => return Err(err.into()),
        }
    }
    if std::fs::canonicalize(existing)? != existing {
        return Err(SafeFsError::Moved(existing.to_owned()));
    }
    if !std::fs::metadata(existing)?.is_dir() {
        return Err(SafeFsError::NotADirectory(existing.to_owned()));
    }
    let mut current = existing.to_path_buf();
    for name in missing.into_iter().rev() {
        current.push(name);
        match std::fs::DirBuilder::new().mode(0o700).create(&current) {
            Ok(()) => {}
            // Made meanwhile by someone else: acceptable only if it is a real directory.
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(err.into()),
        }
        let meta = std::fs::symlink_metadata(&current)?;
        if meta.file_type().is_symlink() {
            return Err(SafeFsError::Symlink(current));
        }
        if !meta.is_dir() {
            return Err(SafeFsError::NotADirectory(current));
        }
    }
    Ok(())
}

/// Creates `.<name>.<random>.tmp` in `dir`, exclusively and without following links.
fn create_temp(dir: &Path, name: &std::ffi::OsStr) -> io::Result<(PathBuf, File)> {
    for _ in 0..16 {
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{:016x}.tmp", fastrand::u64(..)));
        let path = dir.join(temp_name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nofollow())
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "could not create a unique temp file",
    ))
}

/// Makes a rename in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// `ELOOP` from `O_NOFOLLOW` means the final component is a symlink.
fn refine(err: io::Error, path: &Path) -> SafeFsError {
    if err.raw_os_error() == Some(nix::errno::Errno::ELOOP as i32) {
        SafeFsError::Symlink(path.to_owned())
    } else {
        SafeFsError::Io(err)
    }
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

        assert!(matches!(err, SafeFsError::Moved(_)), "{err}");
        assert!(!root.join("elsewhere/x").exists());
    }

    #[test]
    fn refused_write_through_a_linked_parent_creates_no_directory_anywhere() {
        let (_d, root) = dir();
        std::fs::create_dir(root.join("elsewhere")).unwrap();
        symlink(root.join("elsewhere"), root.join("inbox")).unwrap();

        let err = write_atomic(&root.join("inbox/a/b/file"), b"x").unwrap_err();

        assert!(matches!(err, SafeFsError::Moved(_)), "{err}");
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
