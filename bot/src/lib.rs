//! The OpenClaw cloud process: a durable task queue, the HTTP API that clients and the Mac
//! worker talk to, and the Discord bot, in one tokio runtime.
//!
//! # Layout
//! - [`config`]: the one `Config` (defaults → TOML → env), validated at startup.
//! - [`tokens`]: API tokens per role, generated on first start, compared in constant time.
//! - [`queue`]: the core: SQLite-backed, lease-based, push-driven. No HTTP, no Discord.
//! - [`api`]: the axum adapter: client routes, worker protocol v1, health.
//! - [`discord`]: the poise adapter: slash commands, progress and results in Discord.
//! - [`healthcheck`]: the `healthcheck` subcommand: `GET /health` as an exit status.
//! - [`app`]: wiring: `App::build` → `local_addr` → `run(shutdown)`.
//! - [`telemetry`]: logging setup for the binary.

pub mod api;
pub mod app;
pub mod config;
pub mod discord;
pub mod healthcheck;
pub mod queue;
pub mod telemetry;
pub mod tokens;

pub use app::{App, AppState};
pub use config::Config;
