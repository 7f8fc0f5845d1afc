//! Logging setup: `tracing` to stdout, filtered by `RUST_LOG`, with colours only on a terminal.

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
