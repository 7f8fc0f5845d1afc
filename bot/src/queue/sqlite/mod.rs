//! The SQLite backend of the [`Store`] interface: one database file, one connection.
//!
//! Every method runs synchronously under one connection mutex. Each statement takes
//! microseconds (WAL, `synchronous=NORMAL`), so holding a `std::sync::Mutex` for it is
//! cheaper than hopping to a blocking thread, and it makes each state change atomic with
//! respect to every other without `BEGIN IMMEDIATE` retries.
//!
//! One file per noun implements that noun's trait; `rows` maps the `tasks` table to
//! [`Task`](super::Task)s and back, and `migrate` brings the schema up to date at open.
//! Nothing here is visible outside: the queue sees only the [`Store`] traits.

mod approvals;
mod attachments;
mod deliveries;
mod leases;
mod migrate;
mod rows;
mod sweep;
mod tasks;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

use super::store::{Store, StoreError};

/// The SQLite database behind the queue.
pub(super) struct SqliteStore {
    /// One connection: SQLite has a single writer anyway, and every operation is short.
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens or creates the database and applies pending migrations.
    pub(super) fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL in WAL mode survives a crash of this process; only a power loss may drop
        // the last commits. FULL would add an fsync to every enqueue.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "busy_timeout", 5000)?;
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
}

/// Lets `?` turn rusqlite's errors into the store's, with rusqlite's kept as the source
/// (and out of [`StoreError`]'s shape).
impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        StoreError::Database {
            backend: "sqlite",
            source: Box::new(err),
        }
    }
}
