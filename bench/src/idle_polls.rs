//! Idle polls vs enqueue rate: N long polls that never get a task sit on the bot (each under
//! its own worker name, all with the one worker token, re-polling as each ends) while a
//! client creates tasks as fast as it can for a real worker, which runs them. Measured per N:
//! tasks created per second, tasks finished per second, the bot's CPU time per task (its
//! create, claim, acceptance, result and one read of it, and whatever the idle polls cost
//! meanwhile), and the latency of a worker's heartbeat (a probe that holds one lease and
//! heartbeats it every 50 ms, as a worker would).
//!
//! The tasks target the real worker, so an idle poll can never take one: whatever an idle
//! poll costs the bot per enqueue is pure overhead.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use openclaw_shared::client::TaskCreated;
use openclaw_shared::worker::{ClaimResponse, HeldLease};
use serde_json::json;

use crate::measure::{ms, Percentiles};
use crate::procs::{self, Binaries, CLIENT_TOKEN, WORKER_TOKEN};

/// Concurrent clients creating tasks.
const CREATORS: usize = 16;
/// How long the clients create tasks for, at most.
const CREATE_WINDOW: Duration = Duration::from_secs(10);
/// Most tasks created per run (so a fast bot does not queue more than the worker can run
/// and the bot allows).
const CREATE_MAX: usize = 3000;
/// How long an idle poll waits (the protocol's longest).
const IDLE_WAIT_MS: u64 = 30_000;
/// How often the probe heartbeats its lease.
const HEARTBEAT_EVERY: Duration = Duration::from_millis(50);

/// One row of the report.
pub struct Row {
    pub idle_polls: usize,
    pub created: usize,
    pub created_per_sec: f64,
    pub finished_per_sec: f64,
    pub bot_cpu_per_task: Duration,
    pub heartbeat: Percentiles,
}

/// Every row, as a Markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let mut table = String::from(
        "| idle polls | tasks created/s | tasks finished/s | bot CPU per task | heartbeat p50 · p99 · max |\n\
         |---|---|---|---|---|\n",
    );
    for row in rows {
        table.push_str(&format!(
            "| {} | {:.0} ({} tasks) | {:.0} | {:.0} µs | {} · {} · {} (n={}) |\n",
            row.idle_polls,
            row.created_per_sec,
            row.created,
            row.finished_per_sec,
            row.bot_cpu_per_task.as_secs_f64() * 1e6,
            ms(row.heartbeat.p50),
            ms(row.heartbeat.p99),
            ms(row.heartbeat.max),
            row.heartbeat.count,
        ));
    }
    table
}

/// Runs the scenario once per count in `polls`, each against a fresh bot and worker.
pub async fn run(
    binaries: &Binaries,
    root: &std::path::Path,
    polls: &[usize],
) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::with_capacity(polls.len());
    for &n in polls {
        let dir = root.join(format!("idle-polls-{n}"));
        std::fs::create_dir_all(&dir)?;
        let row = run_one(binaries, &dir, n).await?;
        eprintln!(
            "{n} idle polls: {:.0} tasks created/s, {:.0} finished/s, heartbeat p50 {} max {}",
            row.created_per_sec,
            row.finished_per_sec,
            ms(row.heartbeat.p50),
            ms(row.heartbeat.max)
        );
        rows.push(row);
    }
    Ok(rows)
}

async fn run_one(binaries: &Binaries, dir: &std::path::Path, idle: usize) -> anyhow::Result<Row> {
    let port = procs::free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    // Room for every idle poll on one address (the default caps are for the open internet),
    // twice: when their waits end together, the client opens new connections for the next
    // round before the bot has closed the old ones.
    let connections = (2 * idle + 256).to_string();
    // Each idle poll is a worker name of its own under the shared token, which brings only a
    // few names by default.
    let names = (idle + 16).to_string();
    let bot = procs::start_bot_with(
        &binaries.bot,
        dir,
        port,
        &[
            ("OPENCLAW_HTTP__MAX_CONNECTIONS", &connections),
            ("OPENCLAW_HTTP__MAX_CONNECTIONS_PER_IP", &connections),
            ("OPENCLAW_AUTH__MAX_SHARED_WORKER_NAMES", &names),
        ],
    )
    .await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(idle + 64)
        .build()?;

    let stop = Arc::new(AtomicBool::new(false));
    let waiting = Arc::new(AtomicUsize::new(0));
    let mut pollers = tokio::task::JoinSet::new();
    for n in 0..idle {
        let (client, base, stop, waiting) =
            (client.clone(), base.clone(), stop.clone(), waiting.clone());
        pollers.spawn(async move {
            idle_poll(&client, &base, &format!("idle-{n}"), &stop, &waiting).await
        });
    }
    // Every idle poll must be waiting on the bot before the clock starts.
    let deadline = Instant::now() + Duration::from_secs(60);
    while waiting.load(Ordering::Relaxed) < idle {
        if Instant::now() > deadline {
            bail!(
                "only {} of {idle} idle polls started",
                waiting.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let home = procs::init_worker_home(&binaries.worker, dir, "bench")?;
    let worker = procs::start_worker(&binaries.worker, &home, &base, "bench", 8)?;
    let probe = Probe::start(&client, &base).await?;

    let cpu_before = procs::cpu_time(&bot)?;
    let started = Instant::now();
    let started_at = epoch_millis();
    let ids = create_for_a_while(&client, &base).await?;
    let created_in = started.elapsed();
    let heartbeat = probe.stop().await?;
    let last_finished = last_completion(&client, &base, &ids).await?;
    let finished_in = Duration::from_millis(last_finished.saturating_sub(started_at).max(1));
    let bot_cpu = procs::cpu_time(&bot)?.saturating_sub(cpu_before);

    stop.store(true, Ordering::Relaxed);
    drop(worker);
    drop(bot);
    pollers.abort_all();
    while pollers.join_next().await.is_some() {}
    Ok(Row {
        idle_polls: idle,
        created: ids.len(),
        created_per_sec: ids.len() as f64 / created_in.as_secs_f64(),
        finished_per_sec: ids.len() as f64 / finished_in.as_secs_f64(),
        bot_cpu_per_task: bot_cpu / u32::try_from(ids.len().max(1)).unwrap_or(u32::MAX),
        heartbeat,
    })
}

/// A long poll that never gets a task, renewed as each ends, until `stop`.
async fn idle_poll(
    client: &reqwest::Client,
    base: &str,
    name: &str,
    stop: &AtomicBool,
    waiting: &AtomicUsize,
) -> anyhow::Result<()> {
    let mut counted = false;
    while !stop.load(Ordering::Relaxed) {
        let request = client
            .post(format!("{base}/v1/worker/claim"))
            .bearer_auth(WORKER_TOKEN)
            .json(&json!({"worker": name, "slots": 1, "wait_ms": IDLE_WAIT_MS}))
            .send();
        // Counted once the request is on its way; the bot holds it from then on.
        let pending = tokio::spawn(request);
        if !counted {
            tokio::time::sleep(Duration::from_millis(20)).await;
            waiting.fetch_add(1, Ordering::Relaxed);
            counted = true;
        }
        let answer = pending.await??;
        if !answer.status().is_success() {
            bail!("an idle poll was refused: {}", answer.status());
        }
    }
    Ok(())
}

/// Creates `true` tasks for the worker `bench` from [`CREATORS`] clients for
/// [`CREATE_WINDOW`] or [`CREATE_MAX`] tasks; returns their ids.
async fn create_for_a_while(client: &reqwest::Client, base: &str) -> anyhow::Result<Vec<String>> {
    let deadline = Instant::now() + CREATE_WINDOW;
    let remaining = Arc::new(AtomicUsize::new(CREATE_MAX));
    let mut creators = tokio::task::JoinSet::new();
    for _ in 0..CREATORS {
        let (client, base, remaining) = (client.clone(), base.to_owned(), remaining.clone());
        creators.spawn(async move {
            let mut ids = Vec::new();
            while Instant::now() < deadline
                && remaining
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                    .is_ok()
            {
                let created: TaskCreated = client
                    .post(format!("{base}/tasks"))
                    .bearer_auth(CLIENT_TOKEN)
                    .json(&json!({"command": "true", "worker": "bench", "timeout": 60000}))
                    .send()
                    .await?
                    .error_for_status()?
                    .json()
                    .await?;
                ids.push(created.task_id.to_string());
            }
            anyhow::Ok(ids)
        });
    }
    let mut ids = Vec::new();
    while let Some(done) = creators.join_next().await {
        ids.extend(done??);
    }
    Ok(ids)
}

/// Waits until every task in `ids` succeeded; returns when the last one finished (its
/// `completedAt`, ms since the epoch).
async fn last_completion(
    client: &reqwest::Client,
    base: &str,
    ids: &[String],
) -> anyhow::Result<u64> {
    let mut last = 0;
    for id in ids {
        let view: serde_json::Value = client
            .get(format!("{base}/tasks/{id}?wait=60000"))
            .bearer_auth(CLIENT_TOKEN)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        if view["status"] != "succeeded" {
            bail!("task {id} ended {}: {}", view["status"], view["error"]);
        }
        last = last.max(view["completedAt"].as_u64().unwrap_or(0));
    }
    Ok(last)
}

/// Now, in ms since the epoch (the clock the bot stamps `completedAt` with).
fn epoch_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

/// A worker's heartbeat, measured: one lease held and heartbeated every
/// [`HEARTBEAT_EVERY`] until stopped.
struct Probe {
    stop: Arc<AtomicBool>,
    beats: tokio::task::JoinHandle<anyhow::Result<Vec<Duration>>>,
}

impl Probe {
    /// Creates a task for the worker `probe`, claims and accepts it, and starts beating.
    async fn start(client: &reqwest::Client, base: &str) -> anyhow::Result<Probe> {
        client
            .post(format!("{base}/tasks"))
            .bearer_auth(CLIENT_TOKEN)
            .json(&json!({"command": "true", "worker": "probe", "timeout": 600000}))
            .send()
            .await?
            .error_for_status()?;
        let claimed: ClaimResponse = client
            .post(format!("{base}/v1/worker/claim"))
            .bearer_auth(WORKER_TOKEN)
            .json(&json!({"worker": "probe", "slots": 1, "wait_ms": 0}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let task = claimed
            .tasks
            .first()
            .context("the probe's task was not claimed")?;
        let leases = vec![HeldLease {
            task_id: task.id,
            lease: task.lease,
        }];
        let stop = Arc::new(AtomicBool::new(false));
        let (client, base, halt) = (client.clone(), base.to_owned(), stop.clone());
        let beats = tokio::spawn(async move {
            let mut times = Vec::new();
            while !halt.load(Ordering::Relaxed) {
                let start = Instant::now();
                client
                    .post(format!("{base}/v1/worker/heartbeat"))
                    .bearer_auth(WORKER_TOKEN)
                    .json(&json!({"worker": "probe", "leases": leases}))
                    .send()
                    .await?
                    .error_for_status()?;
                times.push(start.elapsed());
                tokio::time::sleep(HEARTBEAT_EVERY).await;
            }
            anyhow::Ok(times)
        });
        Ok(Probe { stop, beats })
    }

    /// Stops beating; the latencies seen.
    async fn stop(self) -> anyhow::Result<Percentiles> {
        self.stop.store(true, Ordering::Relaxed);
        Percentiles::of(self.beats.await??).context("no heartbeat finished")
    }
}
