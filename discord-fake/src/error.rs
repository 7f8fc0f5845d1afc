//! Errors the fake's test-facing API returns; each message says what the test was waiting for, so
//! a failing test explains itself.

use std::time::Duration;

/// What went wrong while starting the fake or waiting on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FakeError {
    /// A loopback listener could not be bound.
    #[error("binding the fake's {what} listener on 127.0.0.1: {source}")]
    Bind {
        /// Which listener ("REST" or "gateway").
        what: &'static str,
        /// The I/O error from the OS.
        #[source]
        source: std::io::Error,
    },
    /// A `wait_for_*` helper gave up.
    #[error("timed out after {timeout:?} waiting for {what}")]
    Timeout {
        /// What the test was waiting for, in words.
        what: String,
        /// How long it waited.
        timeout: Duration,
    },
    /// An event was to be sent over the gateway but the bot never identified, or has disconnected.
    #[error("no identified gateway session to deliver {event} to")]
    NoGatewaySession {
        /// The dispatch event that could not be delivered.
        event: String,
    },
}
