//! The storage scenario (`--storage`): what `storage.synchronous = "full"` costs against
//! `normal` (creates alone, where the commit is most of the work, and whole tasks with a
//! worker), and what clients see while another process holds the database's write lock.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;

use crate::measure::{ms, Percentiles};
use crate::procs::{self, Binaries, ADMIN_TOKEN, CLIENT_TOKEN};
use crate::scenarios::{measure_latency, measure_throughput, run_true, shared_rate};
use crate::Args;

/// How long the outside transaction holds the write lock.
const LOCK_HOLD: Duration = Duration::from_secs(5);

/// The figures of one `storage.synchronous` mode.
struct ModeFigures {
    mode: &'static str,
    /// `POST /tasks` alone, one at a time.
    create: Percentiles,
    /// `POST /tasks` alone, from concurrent clients.
    creates_per_sec: f64,
    /// Submit→result with a worker, one at a time.
    round_trip: Percentiles,
    /// Submit→result with a worker, from concurrent clients.
    tasks_per_sec: f64,
}

/// Calls `request` every `every` while the lock is held (from `locked_at`); returns how
/// long each call took.
async fn probe<F, Fut>(
    locked_at: Instant,
    every: Duration,
    request: F,
) -> anyhow::Result<Vec<Duration>>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut times = Vec::new();
    while locked_at.elapsed() < LOCK_HOLD - Duration::from_millis(300) {
        let at = Instant::now();
        request().await?;
        times.push(at.elapsed());
        tokio::time::sleep(every).await;
    }
    Ok(times)
}

/// What clients saw while the lock was held.
struct LockFigures {
    health: Percentiles,
    admin_health: Percentiles,
    creates: Percentiles,
    /// Creates answered 503 `storage_busy`.
    busy: usize,
    /// Creates answered anything else.
    other: Vec<String>,
}

/// Every figure of the storage scenario.
pub struct StorageReport {
    clients: usize,
    modes: Vec<ModeFigures>,
    lock: LockFigures,
}

impl StorageReport {
    /// The figures as a Markdown table (pasted into the README).
    pub fn markdown(&self) -> String {
        let mut table = String::from("| measure | result |\n|---|---|\n");
        for mode in &self.modes {
            table.push_str(&format!(
                "| `synchronous = \"{}\"`: `POST /tasks` alone (n={}) | p50 {} · p99 {} · {:.0} creates/s from {} clients |\n",
                mode.mode,
                mode.create.count,
                ms(mode.create.p50),
                ms(mode.create.p99),
                mode.creates_per_sec,
                self.clients
            ));
            table.push_str(&format!(
                "| `synchronous = \"{}\"`: submit→result with a worker (n={}) | p50 {} · p99 {} · {:.0} tasks/s from {} clients |\n",
                mode.mode,
                mode.round_trip.count,
                ms(mode.round_trip.p50),
                ms(mode.round_trip.p99),
                mode.tasks_per_sec,
                self.clients
            ));
        }
        let lock = &self.lock;
        let row = |what: &str, p: &Percentiles| {
            format!(
                "| outside `BEGIN EXCLUSIVE` held {} s: {what} (n={}) | p50 {} · p99 {} · max {} |\n",
                LOCK_HOLD.as_secs(),
                p.count,
                ms(p.p50),
                ms(p.p99),
                ms(p.max)
            )
        };
        table.push_str(&row("`GET /health`, a new connection each", &lock.health));
        table.push_str(&row("`GET /admin/health`", &lock.admin_health));
        table.push_str(&row("`POST /tasks`", &lock.creates));
        table.push_str(&format!(
            "| … creates answered 503 `storage_busy` | {} of {}{} |\n",
            lock.busy,
            lock.creates.count,
            if lock.other.is_empty() {
                String::new()
            } else {
                format!(" (others: {})", lock.other.join(", "))
            }
        ));
        table
    }
}

/// Runs the storage scenario against freshly started bots (and workers).
pub async fn run(binaries: &Binaries, args: &Args) -> anyhow::Result<StorageReport> {
    let temp = tempfile::tempdir().context("creating a temp dir")?;
    let root = if args.keep {
        let kept = temp.keep();
        eprintln!("data and logs kept in {}", kept.display());
        kept
    } else {
        temp.path().to_owned()
    };
    let mut modes = Vec::new();
    if !args.lock_only {
        for mode in ["normal", "full"] {
            modes.push(measure_mode(binaries, args, &root, mode).await?);
        }
    }
    let lock = measure_lock(binaries, &root).await?;
    Ok(StorageReport {
        clients: args.clients,
        modes,
        lock,
    })
}

async fn measure_mode(
    binaries: &Binaries,
    args: &Args,
    root: &Path,
    mode: &'static str,
) -> anyhow::Result<ModeFigures> {
    let dir = root.join(format!("sync-{mode}"));
    std::fs::create_dir_all(&dir)?;
    let port = procs::free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let env = [("OPENCLAW_STORAGE__SYNCHRONOUS", mode)];
    let _bot = procs::start_bot_with(&binaries.bot, &dir, port, &env).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients * 2)
        .build()?;

    // Creates targeted at a worker that never comes: the worker started below ignores them.
    let mut times = Vec::with_capacity(args.samples);
    for _ in 0..args.samples {
        let started = Instant::now();
        create(&client, &base).await?;
        times.push(started.elapsed());
    }
    let create_latency = Percentiles::of(times).context("no create samples")?;
    let creates_per_sec = shared_rate(
        &client,
        &base,
        args.clients,
        args.tasks,
        |client, base| async move { create(&client, &base).await },
    )
    .await?;
    eprintln!(
        "synchronous={mode}: create p50 {}, {creates_per_sec:.0} creates/s",
        ms(create_latency.p50)
    );

    let home = procs::init_worker_home(&binaries.worker, &dir, "bench")?;
    let _worker = procs::start_worker(&binaries.worker, &home, &base, "bench", args.worker_slots)?;
    for _ in 0..20 {
        run_true(&client, &base).await?;
    }
    let round_trip = measure_latency(&client, &base, args.samples).await?;
    let tasks_per_sec = measure_throughput(&client, &base, args.clients, args.tasks).await?;
    eprintln!(
        "synchronous={mode}: submit→result p50 {}, {tasks_per_sec:.0} tasks/s",
        ms(round_trip.p50)
    );
    Ok(ModeFigures {
        mode,
        create: create_latency,
        creates_per_sec,
        round_trip,
        tasks_per_sec,
    })
}

/// One `POST /tasks` for a worker that never comes; fails unless it is a 200.
async fn create(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    client
        .post(format!("{base}/tasks"))
        .bearer_auth(CLIENT_TOKEN)
        .json(&json!({"command": "true", "worker": "nobody"}))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// Holds `BEGIN EXCLUSIVE` on a running bot's database from a second connection (what the
/// `sqlite3` shell, a backup tool or a `VACUUM` does) and measures what clients see.
async fn measure_lock(binaries: &Binaries, root: &Path) -> anyhow::Result<LockFigures> {
    let dir = root.join("lock");
    std::fs::create_dir_all(&dir)?;
    let port = procs::free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let _bot = procs::start_bot(&binaries.bot, &dir, port).await?;
    let client = reqwest::Client::new();
    // A load balancer's probe: a new connection every time.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;
    let base_health = base.clone();
    create(&client, &base).await?;

    let database = dir.join("openclaw.sqlite3");
    let (locked, is_locked) = mpsc::channel();
    let holder = std::thread::spawn(move || -> anyhow::Result<()> {
        let conn = rusqlite::Connection::open(database)?;
        conn.execute_batch("BEGIN EXCLUSIVE")?;
        let _ = locked.send(());
        std::thread::sleep(LOCK_HOLD);
        conn.execute_batch("COMMIT")?;
        Ok(())
    });
    tokio::task::spawn_blocking(move || is_locked.recv())
        .await?
        .context("the lock holder failed before taking the lock")?;
    let locked_at = Instant::now();
    // Three probes side by side, so a slow answer to one never delays another's samples.
    let health = tokio::spawn(probe(locked_at, Duration::from_millis(20), move || {
        let (fresh, base) = (fresh.clone(), base_health.clone());
        async move {
            fresh
                .get(format!("{base}/health"))
                .send()
                .await?
                .error_for_status()?;
            anyhow::Ok(())
        }
    }));
    let admin = tokio::spawn(probe(locked_at, Duration::from_millis(20), {
        let (client, base) = (client.clone(), base.clone());
        move || {
            let (client, base) = (client.clone(), base.clone());
            async move {
                client
                    .get(format!("{base}/admin/health"))
                    .bearer_auth(ADMIN_TOKEN)
                    .send()
                    .await?;
                anyhow::Ok(())
            }
        }
    }));
    // Four clients creating tasks: more writers than the bot's runtime has threads.
    let mut creators = Vec::new();
    for _ in 0..4 {
        let (client, base) = (client.clone(), base.clone());
        creators.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            // Only creates that end while the lock is surely still held.
            while locked_at.elapsed() < LOCK_HOLD - Duration::from_millis(1500) {
                let at = Instant::now();
                let response = client
                    .post(format!("{base}/tasks"))
                    .bearer_auth(CLIENT_TOKEN)
                    .json(&json!({"command": "true", "worker": "nobody"}))
                    .send()
                    .await?;
                let took = at.elapsed();
                let status = response.status();
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                answers.push((took, format!("{} {}", status.as_u16(), body["code"])));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            anyhow::Ok(answers)
        }));
    }
    let health = health.await??;
    let admin_health = admin.await??;
    let (mut creates, mut busy, mut other) = (Vec::new(), 0, Vec::new());
    for creator in creators {
        for (took, answer) in creator.await?? {
            creates.push(took);
            if answer == "503 \"storage_busy\"" {
                busy += 1;
            } else {
                other.push(answer);
            }
        }
    }
    tokio::task::spawn_blocking(move || holder.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the lock holder panicked"))??;
    eprintln!(
        "outside lock: /health max {}, creates busy {busy}",
        ms(health.iter().copied().max().unwrap_or_default())
    );
    Ok(LockFigures {
        health: Percentiles::of(health).context("no /health samples")?,
        admin_health: Percentiles::of(admin_health).context("no /admin/health samples")?,
        creates: Percentiles::of(creates).context("no create samples")?,
        busy,
        other,
    })
}
