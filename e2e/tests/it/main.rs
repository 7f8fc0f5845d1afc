//! Tests that run the real bot and the real worker together, one binary (zero2prod): the
//! bot in-process on loopback with SQLite in a temp dir, the real `openclaw-worker` binary
//! in a home of its own, and for the Discord tests the real poise stack against the fake.

// Tests may unwrap freely; clippy.toml's `allow-unwrap-in-tests` covers `#[test]` functions
// but not the helpers they share.
#![allow(clippy::unwrap_used)]

mod approval_flow;
mod attacks;
mod discord_commands;
mod discord_delivery;
mod discord_live;
mod discord_resilience;
mod discord_sessions;
mod helpers;
mod live_output;
mod mcp;
mod restarts;
mod schedules;
mod sessions;
mod ui_browser;
mod worker_loop;
