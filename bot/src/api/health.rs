//! Health checks: a public one that says only "up" (for load balancers and Docker), and an
//! admin one with queue depth, workers, database (and the store's recent failures) and
//! Discord state.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use openclaw_shared::client::Health;
use openclaw_shared::worker::SandboxReport;
use openclaw_shared::{EpochMillis, TaskStatus};
use serde::Serialize;

use super::auth::AdminAuth;
use crate::os_limits;
use crate::queue::{now_millis, IntegrityCheck, Scope, StorageFailure, StoreFault};
use crate::state::{AppState, DiscordState};
use crate::telemetry::error_chain;

/// `GET /health`: unauthenticated, so it reveals nothing but liveness and version.
pub async fn public() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// The answer of `GET /admin/health`.
#[derive(Debug, Serialize)]
pub struct AdminHealth {
    /// `ok`, or `degraded` when `database` is not `ok` (then the status is 503).
    status: &'static str,
    version: &'static str,
    uptime_secs: u64,
    /// `ok`; or what is wrong: `busy`, `full`, `read_only`, `corrupt`, `failed` — the
    /// database does not answer, a write or read failed so in the last minute and none of
    /// its kind succeeded since, or (`corrupt`) the check at start found damage.
    database: &'static str,
    /// The store's details behind `database`.
    storage: StorageHealth,
    discord_state: DiscordState,
    /// Tasks per status, every status present (0 when none).
    queue_depth: BTreeMap<&'static str, u64>,
    workers: Vec<WorkerHealth>,
    /// The connection limits in force, so an operator sees when the process is the limit.
    connections: ConnectionLimits,
}

/// The listener's limits: the process's open-files limit and the connection caps under it.
#[derive(Debug, Serialize)]
pub struct ConnectionLimits {
    /// The soft open-files limit (`null` when unlimited), raised to the hard limit at start.
    open_files_limit: Option<u64>,
    /// Most connections open at once (`http.max_connections`, fitted under the limit above).
    max_connections: usize,
    /// Most connections from one address (`http.max_connections_per_ip`).
    max_connections_per_ip: usize,
}

/// The store's details: its durability setting, what the check at start found, and its
/// last failures.
#[derive(Debug, Serialize)]
pub struct StorageHealth {
    /// `storage.synchronous`: `normal` or `full`.
    synchronous: &'static str,
    /// `PRAGMA quick_check` at start: `{"result": "ok", "duration_ms"}` or
    /// `{"result": "corrupt", "problems": [...]}`.
    integrity: IntegrityCheck,
    /// The last write that failed since start: `{"at", "fault", "error"}`, or `null`.
    last_write_failure: Option<StorageFailure>,
    /// The last read that failed since start, or `null`.
    last_read_failure: Option<StorageFailure>,
}

/// A worker the queue has heard from.
#[derive(Debug, Serialize)]
pub struct WorkerHealth {
    name: String,
    /// Which token it used, by its config key (`auth.worker_token`, or `auth.workers (name
    /// = "mac")` for its own): never the token itself.
    token: Option<String>,
    last_seen: EpochMillis,
    running: usize,
    /// The kernel sandbox it says its tasks run in; `null` from a worker that never said.
    sandbox: Option<SandboxReport>,
}

/// `GET /admin/health` (admin token).
pub async fn admin(_: AdminAuth, State(state): State<AppState>) -> (StatusCode, Json<AdminHealth>) {
    let queue = state.queue();
    let mut queue_depth: BTreeMap<&'static str, u64> =
        TaskStatus::ALL.iter().map(|s| (s.as_str(), 0)).collect();
    let mut workers = Vec::new();
    let stats = match queue.ping().await {
        Ok(()) => queue.stats(&Scope::All).await,
        Err(err) => Err(err),
    };
    let answered = match stats {
        Ok(stats) => {
            for (status, count) in stats.by_status {
                queue_depth.insert(status.as_str(), count);
            }
            workers = stats
                .workers
                .into_iter()
                .map(|w| WorkerHealth {
                    name: w.name,
                    token: w.token,
                    last_seen: w.last_seen,
                    running: w.running,
                    sandbox: w.sandbox,
                })
                .collect();
            None
        }
        Err(err) => {
            tracing::error!(error = %error_chain(&err), "admin health: the database does not answer");
            Some(match err {
                crate::queue::QueueError::Store(err) => err.fault(),
                _ => StoreFault::Failed,
            })
        }
    };
    // After the reads above, so a failure they met is in the report.
    let report = queue.storage_health();
    let fault = answered.or_else(|| report.fault(now_millis()));
    let status = match fault {
        None => StatusCode::OK,
        Some(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    let body = AdminHealth {
        status: if fault.is_none() { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        uptime_secs: state.uptime().as_secs(),
        database: fault.map_or("ok", StoreFault::as_str),
        storage: StorageHealth {
            synchronous: queue.settings().storage.synchronous.as_str(),
            integrity: report.integrity,
            last_write_failure: report.last_write_failure,
            last_read_failure: report.last_read_failure,
        },
        discord_state: state.discord_status().get(),
        queue_depth,
        workers,
        connections: ConnectionLimits {
            open_files_limit: os_limits::open_files(),
            max_connections: os_limits::connection_cap(
                state.config().http.max_connections,
                os_limits::open_files(),
            ),
            max_connections_per_ip: state.config().http.max_connections_per_ip,
        },
    };
    (status, Json(body))
}
