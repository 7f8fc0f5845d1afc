//! The process's open-files limit: raised to its hard maximum at start (every HTTP
//! connection, the database and the Discord gateway each take a descriptor, and a soft limit
//! of 1024 is common), and read back for `/admin/health` and the connection cap.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Descriptors kept for the database, its journal, the gateway, logs and Discord REST calls
/// when the HTTP connection cap is fitted under the open-files limit.
pub const RESERVED_FILES: u64 = 64;

/// Raises the soft open-files limit to the hard one and returns the soft limit now in force
/// (`None` when unlimited or unknown). A refusal (e.g. macOS above `OPEN_MAX`) is logged and
/// leaves the limit as it was.
pub fn raise_open_files() -> Option<u64> {
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_some() && limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => {
                tracing::debug!(from = ?limit.current, to = ?limit.maximum, "raised the open-files limit")
            }
            Err(error) => {
                tracing::warn!(%error, limit = ?limit.current, "cannot raise the open-files limit; keeping it");
            }
        }
    }
    open_files()
}

/// The soft open-files limit in force (`None` when unlimited).
pub fn open_files() -> Option<u64> {
    getrlimit(Resource::Nofile).current
}

/// `configured` connections, lowered to fit under `open_files` with [`RESERVED_FILES`] to
/// spare (at least one).
pub fn connection_cap(configured: usize, open_files: Option<u64>) -> usize {
    let Some(open_files) = open_files else {
        return configured;
    };
    let fits = usize::try_from(open_files.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX);
    configured.min(fits).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_cap_fits_under_the_open_files_limit() {
        assert_eq!(connection_cap(1024, Some(1024)), 960);
        assert_eq!(connection_cap(100, Some(1_048_576)), 100);
        assert_eq!(connection_cap(100, None), 100);
        assert_eq!(connection_cap(100, Some(10)), 1);
    }

    #[test]
    fn raising_never_lowers_the_limit() {
        let before = open_files();

        let after = raise_open_files();

        assert!(after >= before, "{before:?} -> {after:?}");
    }
}
