//! A file system a test can fill up or make read-only: a small tmpfs mounted for the test.
//! Mounting needs root (CAP_SYS_ADMIN), as these tests and CI run; a mount that fails fails
//! the test loudly instead of skipping it.

use std::fs::File;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// A tmpfs of a fixed size, unmounted when dropped.
pub struct Tmpfs {
    dir: TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. `"8m"`) on a fresh temp dir.
    pub fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let options = format!("size={size},mode=0700");
        run(
            "mount",
            &["-t", "tmpfs", "-o", &options, "tmpfs"],
            dir.path(),
        );
        Tmpfs { dir }
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Makes it read-only. Every file on it must be closed (the bot stopped).
    pub fn remount_read_only(&self) {
        run("mount", &["-o", "remount,ro"], self.path());
    }

    /// Fills it to the last byte with a file, whose path is returned (delete it to free
    /// the space again).
    pub fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut file = File::create(&path).unwrap();
        for chunk in [64 * 1024, 4096, 1] {
            let bytes = vec![0xa5_u8; chunk];
            loop {
                match file.write(&bytes) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(err) if err.raw_os_error() == Some(28) => break, // ENOSPC
                    Err(err) if err.kind() == ErrorKind::Interrupted => {}
                    Err(err) => panic!("filling {}: {err}", path.display()),
                }
            }
        }
        path
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a test that failed may still hold a file open on it.
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}

/// Runs `program args… target`, failing the test with its stderr if it fails.
fn run(program: &str, args: &[&str], target: &Path) {
    let output = Command::new(program)
        .args(args)
        .arg(target)
        .output()
        .unwrap_or_else(|err| panic!("running {program}: {err}"));
    assert!(
        output.status.success(),
        "{program} {args:?} {} failed (these tests need root to mount a tmpfs): {}",
        target.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}
