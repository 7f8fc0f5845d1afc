//! Slow clients vs a real worker: N connections that send half a request's headers and then
//! trickle a byte now and then (a slowloris), reopened as the bot closes them, while a client
//! on another address submits `true` tasks one after another for a real worker. Measured per
//! row: how many slow connections the bot held open at once, how many it refused, and the
//! submit→result latency (which includes the worker's claim) — with the refused tasks counted,
//! not hidden.
//!
//! The slow clients come from `127.0.0.2` upwards (Linux routes all of `127.0.0.0/8` to the
//! loopback), so the per-address cap sees them as the number of addresses the row names;
//! the bot runs with its default caps, as it would exposed directly to the internet.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

use crate::measure::{ms, Percentiles};
use crate::procs::{self, Binaries};
use crate::scenarios::run_true;

/// Each row: slow connections wanted, and from how many addresses.
pub const ROWS: [(usize, usize); 4] = [(0, 1), (1_000, 1), (1_000, 20), (2_000, 40)];
/// Submit→result samples per row.
const SAMPLES: usize = 200;
/// How often a slow client sends its next byte (under the bot's header timeout, as an
/// attacker who read the README would).
const TRICKLE_EVERY: Duration = Duration::from_secs(3);
/// How long a row samples at most (a bot that refuses most tasks would take long).
const SAMPLING_FOR_AT_MOST: Duration = Duration::from_secs(90);
/// How long a refused or closed slow client waits before it connects again.
const RECONNECT_AFTER: Duration = Duration::from_millis(200);

/// One row of the report.
pub struct Row {
    pub slow: usize,
    pub addresses: usize,
    /// Most slow connections the bot held open at once (past their first trickle), as the
    /// slow clients counted them.
    pub held_max: usize,
    /// Slow connections the bot closed or refused.
    pub closed: usize,
    pub latency: Option<Percentiles>,
    /// Tasks whose submit or result failed (e.g. `503 too_many_connections`).
    pub failed: usize,
}

/// Every row, as a Markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let mut table = String::from(
        "| slow connections (addresses) | held open at most | closed/refused by the bot | submit→result p50 · p99 · max | tasks failed |\n\
         |---|---|---|---|---|\n",
    );
    for row in rows {
        let latency = row.latency.map_or_else(
            || "none".to_owned(),
            |l| {
                format!(
                    "{} · {} · {} (n={})",
                    ms(l.p50),
                    ms(l.p99),
                    ms(l.max),
                    l.count
                )
            },
        );
        table.push_str(&format!(
            "| {} ({}) | {} | {} | {latency} | {} of {} |\n",
            row.slow,
            row.addresses,
            row.held_max,
            row.closed,
            row.failed,
            row.failed + row.latency.map_or(0, |l| l.count),
        ));
    }
    table
}

/// Runs every row of [`ROWS`] against a fresh bot and worker.
pub async fn run(binaries: &Binaries, root: &std::path::Path) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::with_capacity(ROWS.len());
    for (slow, addresses) in ROWS {
        let dir = root.join(format!("slow-{slow}-{addresses}"));
        std::fs::create_dir_all(&dir)?;
        let row = run_one(binaries, &dir, slow, addresses).await?;
        eprintln!(
            "{slow} slow connections from {addresses} addresses: held {} at most, {} failed tasks",
            row.held_max, row.failed
        );
        rows.push(row);
    }
    Ok(rows)
}

/// What the slow clients count together.
#[derive(Default)]
struct Counters {
    open: AtomicUsize,
    held_max: AtomicUsize,
    closed: AtomicUsize,
}

async fn run_one(
    binaries: &Binaries,
    dir: &std::path::Path,
    slow: usize,
    addresses: usize,
) -> anyhow::Result<Row> {
    let port = procs::free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let bot = procs::start_bot(&binaries.bot, dir, port).await?;
    let target = SocketAddr::from((Ipv4Addr::LOCALHOST, port));

    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(Counters::default());
    let mut attackers = tokio::task::JoinSet::new();
    for n in 0..slow {
        let from = slow_address(n % addresses)?;
        let (stop, counters) = (stop.clone(), counters.clone());
        attackers.spawn(async move { slow_client(from, target, &stop, &counters).await });
    }
    // Let them pile up to what the bot will hold before the worker and the client start
    // (a connection counts as held once it outlives its first trickle).
    if slow > 0 {
        tokio::time::sleep(TRICKLE_EVERY * 2).await;
    }

    let home = procs::init_worker_home(&binaries.worker, dir, "bench")?;
    let worker = procs::start_worker(&binaries.worker, &home, &base, "bench", 4)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(70))
        .build()?;
    let mut times = Vec::with_capacity(SAMPLES);
    let mut failed = 0;
    let sampling = Instant::now();
    for _ in 0..SAMPLES {
        if sampling.elapsed() > SAMPLING_FOR_AT_MOST {
            break;
        }
        match run_true(&client, &base).await {
            Ok(elapsed) => times.push(elapsed),
            Err(error) => {
                failed += 1;
                if failed == 1 {
                    eprintln!("first failed task: {error:#}");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    stop.store(true, Ordering::Relaxed);
    attackers.abort_all();
    while attackers.join_next().await.is_some() {}
    drop(worker);
    drop(bot);
    Ok(Row {
        slow,
        addresses,
        held_max: counters.held_max.load(Ordering::Relaxed),
        closed: counters.closed.load(Ordering::Relaxed),
        latency: Percentiles::of(times),
        failed,
    })
}

/// The `index`th slow client address: 127.0.0.2, 127.0.0.3, …
fn slow_address(index: usize) -> anyhow::Result<IpAddr> {
    let Ok(last) = u8::try_from(index + 2) else {
        bail!("at most 253 slow client addresses");
    };
    Ok(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
}

/// Holds one half-sent request open from `from`, trickling a byte every [`TRICKLE_EVERY`];
/// connects again whenever the bot closes it, until `stop`.
async fn slow_client(
    from: IpAddr,
    target: SocketAddr,
    stop: &AtomicBool,
    counters: &Counters,
) -> anyhow::Result<()> {
    while !stop.load(Ordering::Relaxed) {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(from, 0))?;
        if let Ok(mut stream) = socket.connect(target).await {
            let mut sent = stream
                .write_all(b"POST /tasks HTTP/1.1\r\nHost: bot\r\nX-Slow: ")
                .await
                .is_ok();
            let mut buf = [0_u8; 512];
            // Held: the bot kept it past the first trickle instead of refusing it at once.
            let mut held = false;
            while sent && !stop.load(Ordering::Relaxed) {
                // Anything the bot says (a 503, a 408) or its close ends this connection.
                match tokio::time::timeout(TRICKLE_EVERY, stream.read(&mut buf)).await {
                    Ok(_) => break,
                    Err(_) => sent = stream.write_all(b"a").await.is_ok(),
                }
                if !held {
                    held = true;
                    let open = counters.open.fetch_add(1, Ordering::Relaxed) + 1;
                    counters.held_max.fetch_max(open, Ordering::Relaxed);
                }
            }
            if held {
                counters.open.fetch_sub(1, Ordering::Relaxed);
            }
        }
        counters.closed.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
    Ok(())
}
