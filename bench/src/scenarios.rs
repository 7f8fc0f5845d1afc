//! The benchmark runs, in order: idle bot, idle worker (through the counting proxy),
//! sequential latency, concurrent throughput, and the bot with a deep queue.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use openclaw_shared::client::{TaskCreated, TaskView};
use serde_json::json;

use crate::measure::{mib, ms, Percentiles};
use crate::procs::{self, Binaries, CLIENT_TOKEN};
use crate::sandbox_cost::{self, SandboxCost};
use crate::{proxy, Args};

/// Every figure the bench prints.
pub struct Report {
    bot_idle_kib: u64,
    worker_idle_kib: u64,
    idle_requests_per_min: f64,
    idle_window: Duration,
    latency: Percentiles,
    throughput_tasks: usize,
    throughput_clients: usize,
    throughput_per_sec: f64,
    queued: usize,
    bot_queued_kib: u64,
    worker_busy_kib: u64,
    sandbox: SandboxCost,
}

impl Report {
    /// The figures as a Markdown table (pasted into the README).
    pub fn markdown(&self) -> String {
        let rows = [
            (
                "submit→result latency, `true` (POST /tasks + GET ?wait)".to_string(),
                format!(
                    "p50 {} · p90 {} · p99 {} · max {} (n={})",
                    ms(self.latency.p50),
                    ms(self.latency.p90),
                    ms(self.latency.p99),
                    ms(self.latency.max),
                    self.latency.count
                ),
            ),
            (
                format!(
                    "throughput, {} tasks from {} concurrent clients",
                    self.throughput_tasks, self.throughput_clients
                ),
                format!("{:.0} tasks/s", self.throughput_per_sec),
            ),
            ("bot RSS, idle".into(), mib(self.bot_idle_kib)),
            (
                format!("bot RSS, {} tasks queued", self.queued),
                format!(
                    "{} (+{})",
                    mib(self.bot_queued_kib),
                    mib(self.bot_queued_kib.saturating_sub(self.bot_idle_kib))
                ),
            ),
            ("worker RSS, idle".into(), mib(self.worker_idle_kib)),
            (
                "worker RSS, after the throughput run".into(),
                mib(self.worker_busy_kib),
            ),
            (
                format!(
                    "worker requests while idle ({} s window)",
                    self.idle_window.as_secs()
                ),
                format!("{:.1} requests/min", self.idle_requests_per_min),
            ),
        ];
        let cost = &self.sandbox;
        let plain = cost.plain.p50;
        let extra = |p: &Option<Percentiles>| match p {
            Some(p) => format!(
                "p50 {} (+{:.0} µs) · p90 {}",
                ms(p.p50),
                p.p50.saturating_sub(plain).as_secs_f64() * 1e6,
                ms(p.p90)
            ),
            None => "not measured (no sandbox, or a worker without supervisors)".to_owned(),
        };
        let rows = rows.into_iter().chain([
            (
                format!("spawn→exit of `/bin/true`, plain (n={})", cost.plain.count),
                format!("p50 {} · p90 {}", ms(plain), ms(cost.plain.p90)),
            ),
            (
                format!("… in the sandbox, allowed profile ({})", cost.status),
                extra(&cost.allowed),
            ),
            (
                "… in the sandbox, approved profile (the home, carved)".to_owned(),
                extra(&cost.approved),
            ),
            (
                "… allowed profile, under a supervisor (spool files included)".to_owned(),
                extra(&cost.supervised),
            ),
        ]);
        let mut table = String::from("| measure | result |\n|---|---|\n");
        for (name, value) in rows {
            table.push_str(&format!("| {name} | {value} |\n"));
        }
        table
    }
}

/// Where a run keeps its data and logs: deleted on drop unless `--keep` said otherwise.
pub struct ScratchDir {
    path: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl ScratchDir {
    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A fresh scratch directory; kept (and its path printed) when `keep`.
pub fn scratch_dir(keep: bool) -> anyhow::Result<ScratchDir> {
    let temp = tempfile::tempdir().context("creating a temp dir")?;
    if keep {
        let path = temp.keep();
        eprintln!("data and logs kept in {}", path.display());
        return Ok(ScratchDir { path, _temp: None });
    }
    Ok(ScratchDir {
        path: temp.path().to_owned(),
        _temp: Some(temp),
    })
}

/// Runs every scenario against freshly started processes.
pub async fn run_all(binaries: &Binaries, args: &Args) -> anyhow::Result<Report> {
    let scratch = scratch_dir(args.keep)?;
    let root = scratch.path().to_owned();
    let port = procs::free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients * 2)
        .build()?;

    let bot = procs::start_bot(&binaries.bot, &root, port).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let bot_idle_kib = procs::rss_kib(&bot)?;
    eprintln!("bot idle RSS: {}", mib(bot_idle_kib));

    // Idle worker, through the counting proxy.
    let (proxy_port, requests) = proxy::start(port).await?;
    let idle_home = procs::init_worker_home(&binaries.worker, &root, "idle")?;
    let idle_worker = procs::start_worker(
        &binaries.worker,
        &idle_home,
        &format!("http://127.0.0.1:{proxy_port}"),
        "idle",
        3,
    )?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let worker_idle_kib = procs::rss_kib(&idle_worker)?;
    let before = requests.get();
    let idle_window = Duration::from_secs(args.idle_secs);
    eprintln!("watching the idle worker for {} s…", args.idle_secs);
    tokio::time::sleep(idle_window).await;
    let idle_requests = requests.get() - before;
    drop(idle_worker);

    let home = procs::init_worker_home(&binaries.worker, &root, "bench")?;
    let worker = procs::start_worker(&binaries.worker, &home, &base, "bench", args.worker_slots)?;
    // Warm up: connections, the worker's first claim.
    for _ in 0..20 {
        run_true(&client, &base).await?;
    }
    let latency = measure_latency(&client, &base, args.samples).await?;
    eprintln!("latency p50 {}", ms(latency.p50));
    let throughput_per_sec = measure_throughput(&client, &base, args.clients, args.tasks).await?;
    eprintln!("throughput {throughput_per_sec:.0} tasks/s");
    let worker_busy_kib = procs::rss_kib(&worker)?;
    drop(worker);
    let sandbox = sandbox_cost::measure(&home, &binaries.worker, args.samples).await?;
    eprintln!(
        "sandbox: plain p50 {}, allowed p50 {}",
        ms(sandbox.plain.p50),
        sandbox
            .allowed
            .map_or_else(|| "-".to_owned(), |p| ms(p.p50))
    );

    let bot_queued_kib = fill_queue(&client, &base, args.queued, &bot).await?;

    Ok(Report {
        bot_idle_kib,
        worker_idle_kib,
        idle_requests_per_min: idle_requests as f64 * 60.0 / idle_window.as_secs_f64(),
        idle_window,
        latency,
        throughput_tasks: args.tasks,
        throughput_clients: args.clients,
        throughput_per_sec,
        queued: args.queued,
        bot_queued_kib,
        worker_busy_kib,
        sandbox,
    })
}

/// Submits `true` and waits for its result; returns the wall time.
pub(crate) async fn run_true(client: &reqwest::Client, base: &str) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let created: TaskCreated = client
        .post(format!("{base}/tasks"))
        .bearer_auth(CLIENT_TOKEN)
        .json(&json!({"command": "true", "timeout": 10000}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let view: TaskView = client
        .get(format!("{base}/tasks/{}?wait=60000", created.task_id))
        .bearer_auth(CLIENT_TOKEN)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let elapsed = start.elapsed();
    if view.status != "succeeded" {
        bail!(
            "task {} ended {} ({:?})",
            view.task_id,
            view.status,
            view.error
        );
    }
    Ok(elapsed)
}

pub(crate) async fn measure_latency(
    client: &reqwest::Client,
    base: &str,
    samples: usize,
) -> anyhow::Result<Percentiles> {
    let mut times = Vec::with_capacity(samples);
    for _ in 0..samples {
        times.push(run_true(client, base).await?);
    }
    Percentiles::of(times).context("no latency samples")
}

pub(crate) async fn measure_throughput(
    client: &reqwest::Client,
    base: &str,
    clients: usize,
    tasks: usize,
) -> anyhow::Result<f64> {
    shared_rate(client, base, clients, tasks, |client, base| async move {
        run_true(&client, &base).await.map(drop)
    })
    .await
}

/// Runs `op` `tasks` times in all from `clients` concurrent clients; returns runs per second.
pub(crate) async fn shared_rate<F, Fut>(
    client: &reqwest::Client,
    base: &str,
    clients: usize,
    tasks: usize,
    op: F,
) -> anyhow::Result<f64>
where
    F: Fn(reqwest::Client, String) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let remaining = Arc::new(AtomicUsize::new(tasks));
    let start = Instant::now();
    let mut runners = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (client, base, remaining, op) = (
            client.clone(),
            base.to_owned(),
            remaining.clone(),
            op.clone(),
        );
        runners.push(tokio::spawn(async move {
            while remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
            {
                op(client.clone(), base.clone()).await?;
            }
            anyhow::Ok(())
        }));
    }
    for runner in runners {
        runner.await??;
    }
    Ok(tasks as f64 / start.elapsed().as_secs_f64())
}

/// Queues `count` tasks (targeted at a worker that never comes) and returns the bot's RSS.
async fn fill_queue(
    client: &reqwest::Client,
    base: &str,
    count: usize,
    bot: &tokio::process::Child,
) -> anyhow::Result<u64> {
    const IN_FLIGHT: usize = 32;
    let mut submits = tokio::task::JoinSet::new();
    for n in 0..count {
        if submits.len() >= IN_FLIGHT {
            if let Some(done) = submits.join_next().await {
                done??;
            }
        }
        let request = client
            .post(format!("{base}/tasks"))
            .bearer_auth(CLIENT_TOKEN)
            .json(&json!({"command": format!("echo queued {n}"), "worker": "nobody"}));
        submits.spawn(async move {
            request.send().await?.error_for_status()?;
            anyhow::Ok(())
        });
    }
    while let Some(done) = submits.join_next().await {
        done??;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    procs::rss_kib(bot)
}
