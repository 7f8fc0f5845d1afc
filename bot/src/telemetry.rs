//! Logging: `tracing` to stdout, filtered by `RUST_LOG`, with colours only on a terminal, and
//! the one way errors are written into log lines.

use std::io::IsTerminal;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

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

/// A log line that may repeat without limit (a refusal an attacker can trigger at will):
/// written at most once per interval, with how many times it happened since the last one.
#[derive(Debug)]
pub struct Throttled {
    interval: Duration,
    /// When the line was last written, and the hits since. A std mutex: held for two
    /// field updates, never across an `.await`.
    state: Mutex<(Option<Instant>, u64)>,
}

impl Throttled {
    /// At most one line per `interval`.
    pub fn new(interval: Duration) -> Throttled {
        Throttled {
            interval,
            state: Mutex::new((None, 0)),
        }
    }

    /// Counts one occurrence. `Some(count)` when the line is due now — `count` occurrences
    /// (this one included) since the last line; `None` when it is to be kept quiet.
    pub fn hit(&self) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (last, count) = &mut *state;
        *count += 1;
        let now = Instant::now();
        if last.is_some_and(|at| now.duration_since(at) < self.interval) {
            return None;
        }
        *last = Some(now);
        Some(std::mem::take(count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_line_is_written_once_per_interval_with_its_count() {
        let throttled = Throttled::new(Duration::from_millis(50));

        assert_eq!(throttled.hit(), Some(1));
        assert_eq!(throttled.hit(), None);
        assert_eq!(throttled.hit(), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(throttled.hit(), Some(3));
    }
}
