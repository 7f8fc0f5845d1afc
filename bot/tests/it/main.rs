//! Integration tests of the cloud process over real HTTP on 127.0.0.1:0, with a real SQLite
//! in a temp dir per test. One binary (zero2prod): shared helpers, one module per area.

// Tests may unwrap freely; clippy.toml's `allow-unwrap-in-tests` covers `#[test]` functions
// but not the helpers they share.
#![allow(clippy::unwrap_used)]

mod api_tasks;
mod api_validation;
mod api_worker;
mod approvals;
mod attachments;
mod attacks;
mod auth;
mod config;
mod connections;
mod discord_approvals;
mod discord_channels;
mod discord_owners;
mod discord_resilience;
mod discord_schedules;
mod discord_support;
mod disk;
mod errors;
mod healthcheck;
mod helpers;
mod lifecycle;
mod listing;
mod live_output;
mod log_flood;
mod long_polls;
mod mcp;
mod mcp_stdio;
mod metrics;
mod owners;
mod priorities;
mod quotas;
mod rate_limits;
mod schedule_firing;
mod schedules;
mod sessions;
mod startup;
mod storage_busy;
mod storage_faults;
mod storage_flood;
mod storage_outage;
mod sweep_backlog;
mod ui;
mod ui_pages;
mod webhook_receiver;
mod webhooks;
