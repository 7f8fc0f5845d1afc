//! Logging: `tracing` to stdout, filtered by `RUST_LOG`, with colours only on a terminal, and
//! the one way errors are written into log lines.

use std::io::IsTerminal;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use tracing_subscriber::EnvFilter;

/// The filter used when `RUST_LOG` is unset: our own and library notices, no per-request noise
/// (rmcp logs three info lines for every stateless `/mcp` request: only its warnings).
pub const DEFAULT_FILTER: &str = "info,rmcp=warn";

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

/// [`init`], but to stderr: for `mcp-stdio`, whose stdout carries the MCP protocol and
/// must never see a log line.
pub fn init_stderr(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// An error and all its sources, `: `-separated, for logs (the wire never sees this).
/// Secrets in Discord URLs are scrubbed (see [`scrub_url_secrets`]).
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    scrub_url_secrets(&text)
}

/// Path segments after which Discord URLs carry a secret: an interaction or webhook token
/// (`/webhooks/<application id>/<token>/…`, `/interactions/<id>/<token>/…`) authorizes
/// answering as the bot for 15 minutes, so it never reaches a log line.
const SECRET_AFTER: [&str; 2] = ["/webhooks/", "/interactions/"];

/// `text` with the token segment of every Discord webhook or interaction URL replaced by
/// `[redacted]`. HTTP client errors quote the URL they failed on.
pub fn scrub_url_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, marker)) = SECRET_AFTER
        .iter()
        .filter_map(|marker| rest.find(marker).map(|at| (at, *marker)))
        .min_by_key(|(at, _)| *at)
    {
        let after_marker = at + marker.len();
        out.push_str(&rest[..after_marker]);
        rest = &rest[after_marker..];
        // The id segment stays (it is no secret); the token segment after it goes.
        let id_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        if id_len == 0 || !rest[id_len..].starts_with('/') {
            continue;
        }
        out.push_str(&rest[..=id_len]);
        rest = &rest[id_len + 1..];
        let token_len = rest
            .find(|c: char| matches!(c, '/' | '?' | ')' | '"' | '\'') || c.is_whitespace())
            .unwrap_or(rest.len());
        if token_len > 0 {
            out.push_str("[redacted]");
        }
        rest = &rest[token_len..];
    }
    out.push_str(rest);
    out
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
    pub const fn new(interval: Duration) -> Throttled {
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
    fn interaction_and_webhook_tokens_are_scrubbed_from_urls() {
        let text = "error sending request for url (https://discord.com/api/v10/webhooks/11/aW50ZXJhY3Rpb24.tok-en_x/messages/@original): timed out; \
                    POST /api/v10/interactions/22/SECRET/callback";

        let scrubbed = scrub_url_secrets(text);

        assert!(!scrubbed.contains("aW50ZXJhY3Rpb24"), "{scrubbed}");
        assert!(!scrubbed.contains("SECRET"), "{scrubbed}");
        assert!(scrubbed.contains("/webhooks/11/[redacted]/messages/@original): timed out"));
        assert!(scrubbed.contains("/interactions/22/[redacted]/callback"));
        assert_eq!(scrub_url_secrets("no urls here"), "no urls here");
        assert_eq!(scrub_url_secrets("/webhooks/abc"), "/webhooks/abc");
    }

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
