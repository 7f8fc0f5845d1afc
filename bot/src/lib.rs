//! The OpenClaw cloud process: a durable task queue, the HTTP API that clients and the Mac
//! worker talk to, and the Discord bot, in one tokio runtime.
//!
//! # Layout
//! - [`config`]: the one `Config` (defaults → TOML → env), validated at startup.
//! - [`tokens`]: API tokens per role, generated on first start, compared in constant time.
//! - [`queue`]: the core: SQLite-backed, lease-based, push-driven. No HTTP, no Discord.
//! - [`intake`]: the core's front door: every adapter's task request is checked here, once.
//! - [`schedules`]: the clock as a door: schedules checked once, their runs fired once each.
//! - [`api`]: the axum adapter: client routes, worker protocol v1, health.
//! - [`discord`]: the poise adapter: slash commands, progress and results in Discord.
//! - [`mcp`]: the MCP adapter for AI agents: tools at `/mcp`, and `mcp-stdio`.
//! - [`ui`]: the web task monitor at `/ui` (admin login, live updates by SSE).
//! - [`webhooks`]: the webhook sender: the outbox, signed, retried, and worker comings and goings.
//! - [`state`]: what the running app shares (queue, tokens, config, Discord status).
//! - [`healthcheck`]: the `healthcheck` subcommand: `GET /health` as an exit status.
//! - [`app`]: wiring, a leaf: `App::build` → `local_addr` → `run(shutdown)`.
//! - [`telemetry`]: logging setup and the one `error_chain`.
//! - [`metrics`]: what `GET /metrics` shows (OpenMetrics text for Prometheus).
//! - [`setup`]: the tokens and the commands for the Mac, for a terminal (never a log).
//! - [`os_limits`]: the open-files limit, raised at start.
//! - [`data_dir`]: the data directory and database files, private (0700/0600) at every start.
//!
//! Adapters depend on the core (`intake`, `queue`, `config`, `state`), never on each other.

pub mod api;
pub mod app;
pub mod config;
pub mod data_dir;
pub mod discord;
pub mod healthcheck;
pub mod intake;
pub mod mcp;
pub mod metrics;
pub mod os_limits;
pub mod queue;
pub mod schedules;
pub mod setup;
pub mod state;
pub mod telemetry;
pub mod tokens;
pub mod ui;
pub mod webhooks;

pub use app::App;
pub use config::Config;
pub use state::AppState;
