//! What the queue checks when it opens the database: that every page is whole
//! (`PRAGMA quick_check`) and that it can be written at all.

use std::time::Instant;

use rusqlite::MAIN_DB;

use super::SqliteStore;
use crate::queue::health::IntegrityCheck;
use crate::queue::store::{StoreError, StoreFault};

/// Most problems `quick_check` reports (and health shows): enough to see the extent.
const MAX_PROBLEMS: u32 = 10;

impl SqliteStore {
    /// Checks every page and index of the database (`PRAGMA quick_check`: linear in its
    /// size; health shows how long it took). Damage is an answer, not an error: the queue
    /// still serves what reads back.
    pub(in crate::queue) fn quick_check(&self) -> Result<IntegrityCheck, StoreError> {
        let started = Instant::now();
        let conn = self.conn();
        let found = conn
            .prepare(&format!("PRAGMA quick_check({MAX_PROBLEMS})"))
            .and_then(|mut stmt| {
                stmt.query_map([], |row| row.get::<_, String>(0))?
                    .collect::<Result<Vec<String>, _>>()
            });
        let problems = match found {
            Ok(lines) if lines == ["ok"] => {
                let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                return Ok(IntegrityCheck::Ok { duration_ms });
            }
            Ok(lines) => lines,
            // Damage bad enough that the check itself cannot read on.
            Err(err) => {
                let err = StoreError::from(err);
                if err.fault() != StoreFault::Corrupt {
                    return Err(err);
                }
                vec![err.to_string()]
            }
        };
        Ok(IntegrityCheck::Corrupt { problems })
    }

    /// Fails with [`StoreError::NotWritable`] if the database cannot be written: SQLite
    /// opened it read-only (it does so silently when the file or its file system is), or a
    /// one-page write is refused. Any other failure of that write (a full disk) is returned
    /// as it is, for the caller to report.
    pub(in crate::queue) fn check_writable(&self) -> Result<(), StoreError> {
        let conn = self.conn();
        if conn.is_readonly(MAIN_DB)? {
            return Err(StoreError::NotWritable(Box::new(StoreError::Database {
                backend: "sqlite",
                fault: StoreFault::ReadOnly,
                source: "SQLite opened the database read-only".into(),
            })));
        }
        // Rewrites the header page with the value it has: a real write, changing nothing.
        let written = conn
            .query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))
            .and_then(|version| conn.pragma_update(None, "user_version", version));
        match written.map_err(StoreError::from) {
            Ok(()) => Ok(()),
            Err(err) if err.fault() == StoreFault::ReadOnly => {
                Err(StoreError::NotWritable(Box::new(err)))
            }
            Err(err) => Err(err),
        }
    }
}
