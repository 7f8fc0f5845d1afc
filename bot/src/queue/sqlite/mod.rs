//! The SQLite backend of the [`Store`] interface: one database file, one writing connection
//! and a few read-only ones.
//!
//! Each connection belongs to one of the store's threads (`runner`), which calls it for
//! one request at a time; the mutex only makes that explicit (it is never contended on the
//! writer). One writer makes each state change atomic with respect to every other without
//! `BEGIN IMMEDIATE` retries; readers see the last commit, in WAL mode even while a write
//! is under way.
//!
//! One file per noun implements that noun's trait; `rows` maps the `tasks` table to
//! [`Task`](super::Task)s and back, `migrate` brings the schema up to date at open, and
//! `checks` tells at open whether the file is whole and can be written.
//! Nothing here is visible outside: the queue sees only the [`Store`] traits.

mod approvals;
mod attachments;
mod checks;
mod deliveries;
mod leases;
mod migrate;
mod rows;
mod schedules;
mod sessions;
mod sweep;
mod tasks;
mod webhooks;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::settings::StorageSettings;
use super::store::{Store, StoreError, StoreFault};

/// The SQLite database behind the queue.
pub(super) struct SqliteStore {
    /// One connection, used by one store thread (see the module docs).
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens or creates the database for writing, with `settings`, and applies pending
    /// migrations.
    pub(super) fn open(path: &Path, settings: &StorageSettings) -> Result<SqliteStore, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // In WAL mode NORMAL survives a crash of this process; only a power loss may drop
        // the last commits. FULL syncs every commit (see `Synchronous`).
        conn.pragma_update(None, "synchronous", settings.synchronous.as_str())?;
        conn.busy_timeout(settings.busy_timeout)?;
        // Attachments go with their task when it is pruned.
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Room for every statement the store caches (about 20): an evicted one is parsed
        // again, with the `usage` triggers compiled into it.
        conn.set_prepared_statement_cache_capacity(64);
        migrate::migrate(&mut conn)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    /// Opens a read-only connection to the database a writer opened (and migrated) at
    /// `path`: it can never change anything, whatever it is asked.
    pub(super) fn open_reader(path: &Path) -> Result<SqliteStore, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-applied change behind (each
        // change is one statement or one transaction), so a poisoned lock is safe to reuse.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Store for SqliteStore {
    fn ping(&self) -> Result<(), StoreError> {
        self.conn().query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    fn wait_for_locks(&self, limit: Duration) -> Result<(), StoreError> {
        Ok(self.conn().busy_timeout(limit)?)
    }

    fn changes(&self) -> u64 {
        self.conn().total_changes()
    }
}

/// Lets `?` turn rusqlite's errors into the store's, with rusqlite's kept as the source
/// (and out of [`StoreError`]'s shape) and the kind of failure read from SQLite's code.
impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        StoreError::Database {
            backend: "sqlite",
            fault: fault_of(&err),
            source: Box::new(err),
        }
    }
}

/// What kind of failure a rusqlite error is, from SQLite's primary result code.
fn fault_of(err: &rusqlite::Error) -> StoreFault {
    use rusqlite::ErrorCode as Code;
    match err.sqlite_error_code() {
        Some(Code::DatabaseBusy | Code::DatabaseLocked) => StoreFault::Busy,
        Some(Code::DiskFull) => StoreFault::Full,
        Some(Code::ReadOnly) => StoreFault::ReadOnly,
        Some(Code::DatabaseCorrupt | Code::NotADatabase) => StoreFault::Corrupt,
        _ => StoreFault::Failed,
    }
}
