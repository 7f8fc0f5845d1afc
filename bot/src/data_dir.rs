//! The data directory is private: it holds the database (live interaction tokens, relayed
//! approval codes, every task's command and output) and the generated API tokens. It is made
//! 0700 and the database files 0600 at every start, whatever mode an earlier run, a restored
//! backup or an operator's `cp` left them with — fixed, and said in the log.

use std::fs::{self, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Mode of the data directory: only the bot's user may list or enter it.
const DIR_MODE: u32 = 0o700;
/// Mode of every file in it: only the bot's user may read or write it.
const FILE_MODE: u32 = 0o600;
/// SQLite's companions of a database file in WAL mode.
const DATABASE_SUFFIXES: [&str; 3] = ["", "-wal", "-shm"];

/// Creates `data_dir` (0700) if missing, tightens it and the database files at
/// `database` (and its `-wal`/`-shm`) if they are open to others, and creates an empty
/// database file as 0600 so SQLite's own files inherit that mode.
pub fn prepare(data_dir: &Path, database: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(data_dir)?;
    tighten(data_dir, DIR_MODE)?;
    for suffix in DATABASE_SUFFIXES {
        let path = with_suffix(database, suffix);
        match fs::symlink_metadata(&path) {
            Ok(_) => tighten(&path, FILE_MODE)?,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
    }
    // SQLite creates the WAL and shared-memory files with the database file's mode.
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(database)?;
    Ok(())
}

/// Sets `path` to `mode` when it grants more (to group or others); warns when it did.
fn tighten(path: &Path, mode: u32) -> io::Result<()> {
    let current = fs::metadata(path)?.permissions().mode() & 0o777;
    if current & !mode == 0 {
        return Ok(());
    }
    fs::set_permissions(path, Permissions::from_mode(mode))?;
    tracing::warn!(
        path = %path.display(),
        was = format!("{current:o}"),
        now = format!("{mode:o}"),
        "the bot's data was readable by other users; made it private"
    );
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn an_existing_open_data_dir_and_database_are_made_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("data");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, Permissions::from_mode(0o755)).unwrap();
        let db = dir.join("openclaw.sqlite3");
        for suffix in DATABASE_SUFFIXES {
            let path = with_suffix(&db, suffix);
            fs::write(&path, b"x").unwrap();
            fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        }

        prepare(&dir, &db).unwrap();

        assert_eq!(mode(&dir), 0o700);
        for suffix in DATABASE_SUFFIXES {
            assert_eq!(mode(&with_suffix(&db, suffix)), 0o600, "{suffix}");
        }
        assert_eq!(fs::read(&db).unwrap(), b"x", "contents untouched");
    }

    #[test]
    fn a_new_database_file_is_created_private() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("new");
        let db = dir.join("openclaw.sqlite3");

        prepare(&dir, &db).unwrap();

        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&db), 0o600);
    }

    #[test]
    fn a_stricter_mode_is_left_alone() {
        let root = tempfile::tempdir().unwrap();
        let db = root.path().join("db");
        fs::write(&db, b"").unwrap();
        fs::set_permissions(&db, Permissions::from_mode(0o400)).unwrap();

        tighten(&db, FILE_MODE).unwrap();

        assert_eq!(mode(&db), 0o400);
    }
}
