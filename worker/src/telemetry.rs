//! Logging setup: one `tracing` subscriber per process, to stderr.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber: the filter from `RUST_LOG` when set, else
/// `default_filter`; colors only when stderr is a terminal (launchd logs stay plain).
/// A second call does nothing, so tests may call it freely.
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
