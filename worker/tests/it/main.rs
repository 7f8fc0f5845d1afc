//! The worker's integration tests, one binary (zero2prod): the executors with real child
//! processes and real files, and the real worker binary against a scripted fake server or
//! none. Tests that also run the real bot are in the `openclaw-e2e` crate.

// Tests may unwrap freely; clippy.toml's `allow-unwrap-in-tests` covers `#[test]` functions
// but not the helpers they share.
#![allow(clippy::unwrap_used)]

mod agents;
mod claims;
mod exec;
mod files;
mod helpers;
mod service;
mod startup;
mod supervised;
mod wake;
