//! Logging: `tracing` to stdout, filtered by `RUST_LOG`, with colours only on a terminal, and
//! the one way errors are written into log lines.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// The filter used when `RUST_LOG` is unset: our own and library notices, no per-request noise.
pub const DEFAULT_FILTER: &str = "info";

/// Installs the global subscriber. `RUST_LOG` wins over `default_filter`; an invalid
/// `RUST_LOG` falls back to the default rather than silencing everything. Calling it
/// twice is harmless (the second call does nothing).
pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    // A second subscriber (tests, embedding) is not an error worth failing for.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .try_init();
}

/// An error and all its sources, `: `-separated, for logs (the wire never sees this).
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
