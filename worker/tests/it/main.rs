//! The worker's integration tests, one binary (zero2prod): real child processes, real
//! files, and end to end the real bot over loopback HTTP with the real worker binary.

// Tests may unwrap freely; clippy.toml's `allow-unwrap-in-tests` covers `#[test]` functions
// but not the helpers they share.
#![allow(clippy::unwrap_used)]

mod approval_flow;
mod attacks;
mod claims;
mod end_to_end;
mod exec;
mod files;
mod helpers;
