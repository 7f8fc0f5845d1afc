//! Logging setup: one `tracing` subscriber per process, to stderr; and [`error_chain`],
//! how errors are written into log fields.

use std::error::Error as StdError;
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

/// Writes `err` and its causes as `err: cause: cause`, for logs: the top-level message
/// alone hides why a request failed.
pub fn error_chain(err: &dyn StdError) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
