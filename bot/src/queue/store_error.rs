//! Failures of the store itself, as every backend reports them: what failed, and what a
//! caller should be told about retrying (see [`StoreFault`]).

/// A failure of the database itself (not of the caller's request).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed; `fault` says how (busy, full, read-only, corrupt, other). The
    /// backend's own error is the source.
    #[error("{backend} failed ({fault})")]
    Database {
        /// Which backend failed, e.g. `sqlite`.
        backend: &'static str,
        /// What kind of failure it is, for the caller's answer (retry soon, later, never).
        fault: StoreFault,
        /// The backend's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The request waited its whole allowance (`storage.busy_timeout_ms`) for its turn: the
    /// requests before it were held up by a lock (another process's transaction, a backup).
    #[error("the store did not get to this request within {waited:?}")]
    TimedOut {
        /// How long the request had waited when it was given up.
        waited: std::time::Duration,
    },
    /// Too many requests already wait for the store; this one was refused without waiting.
    #[error("the store already has {waiting} requests waiting")]
    Overloaded {
        /// How many requests the store holds in line (its limit).
        waiting: usize,
    },
    /// The store's thread is gone (the queue is shutting down, or a call panicked).
    #[error("the store's thread has stopped")]
    Stopped,
    /// The database cannot be written (a read-only file, directory or file system): the
    /// bot would accept no task and record no result, so it refuses to start.
    #[error(
        "the database cannot be written (a read-only file or file system, or permissions); \
         the bot needs to write it and refuses to start"
    )]
    NotWritable(#[source] Box<StoreError>),
    /// A thread for the store could not be started.
    #[error("could not start a thread for the store")]
    Spawn(#[source] std::io::Error),
    /// A stored JSON value (a spec, an origin, metadata) does not parse, or a value could
    /// not be written as JSON.
    #[error("stored JSON does not parse")]
    Json(#[from] serde_json::Error),
    /// A stored value is not one this build writes.
    #[error("stored value `{value}` in column `{column}` is invalid")]
    Corrupt {
        /// Where the value is stored.
        column: &'static str,
        /// The value found.
        value: String,
    },
    /// The database was migrated by a newer build; this one must not touch it.
    #[error("database schema version {found} is newer than this build knows ({known})")]
    SchemaTooNew {
        /// The schema version found in the database.
        found: i64,
        /// The newest schema version this build knows.
        known: i64,
    },
}

impl StoreError {
    /// What kind of failure this is: what a caller should be told about retrying.
    pub fn fault(&self) -> StoreFault {
        match self {
            StoreError::Database { fault, .. } => *fault,
            StoreError::NotWritable(_) => StoreFault::ReadOnly,
            StoreError::TimedOut { .. } | StoreError::Overloaded { .. } => StoreFault::Busy,
            StoreError::Json(_) | StoreError::Corrupt { .. } => StoreFault::Corrupt,
            StoreError::Stopped | StoreError::Spawn(_) | StoreError::SchemaTooNew { .. } => {
                StoreFault::Failed
            }
        }
    }
}

/// The kinds of storage failure a caller can act on differently. None is the caller's fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreFault {
    /// Another connection holds a lock (a backup, a `VACUUM`, an operator's open
    /// transaction) or too many requests wait: retry in a second or two.
    Busy,
    /// The disk (or the database's size limit) is full: retry once space is freed.
    Full,
    /// The database cannot be written (a read-only file or file system): an operator must
    /// fix it.
    ReadOnly,
    /// The database file is damaged (or a stored value is not one this build writes).
    Corrupt,
    /// Any other failure: an I/O error, a bug.
    Failed,
}

impl StoreFault {
    /// The fault as health reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreFault::Busy => "busy",
            StoreFault::Full => "full",
            StoreFault::ReadOnly => "read_only",
            StoreFault::Corrupt => "corrupt",
            StoreFault::Failed => "failed",
        }
    }
}

impl std::fmt::Display for StoreFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
