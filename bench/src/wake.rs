//! Wake latency (`--scenario wake`): how long after a Mac wakes, or its network comes back,
//! a task queued meanwhile starts. The worker polls the bot through a proxy that goes dark
//! for `--blackhole-secs` (its connections die unseen, new ones are ignored) while a task is
//! queued; then the proxy lets new connections through. Two kinds of rounds:
//!
//! - **stall**: the network alone was gone (a Wi-Fi switch): the wall clock ran as usual.
//! - **sleep**: the Mac slept: when the proxy opens, the worker's wall clock also jumps by
//!   the time it was dark (libfaketime, preloaded into the worker, moves `CLOCK_REALTIME`
//!   only), as it does after a real sleep. The monotonic clock is not stopped during the
//!   blackhole as a real sleep stops it: a worker that ignores wakes is measured kinder
//!   than it would fare (its long poll's deadline runs out during the blackhole instead of
//!   after it).
//!
//! The figure is the time from the proxy opening to the task's `started_at` on the bot. It
//! depends on how far into its long poll the worker was when the proxy went dark, so the
//! rounds of each kind go dark 2, 12 and 22 s into one (and so on, round robin).
//! Linux only (libfaketime); `--worker-bin` measures another build (the one before).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use openclaw_shared::client::{TaskCreated, TaskView};
use serde_json::json;

use crate::blackhole;
use crate::procs::{self, Binaries, CLIENT_TOKEN};

/// The kinds of rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The network was gone; the clock ran on.
    Stall,
    /// The Mac slept: the wall clock jumps at the wake.
    Sleep,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Stall => "network stall",
            Kind::Sleep => "sleep",
        }
    }
}

/// One round's figure.
pub struct Round {
    pub kind: Kind,
    pub latency: Duration,
}

/// Where Debian's `faketime` package puts the library.
pub const DEFAULT_FAKETIME_LIB: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// Runs `rounds` rounds of each kind against the worker in `binaries`, in `root`.
pub async fn run(
    binaries: &Binaries,
    root: &Path,
    rounds: usize,
    dark: Duration,
    faketime_lib: &Path,
) -> anyhow::Result<Vec<Round>> {
    if !faketime_lib.is_file() {
        bail!(
            "{} not found: the wake scenario moves the worker's wall clock with libfaketime \
             (apt-get install faketime, or --faketime-lib PATH)",
            faketime_lib.display()
        );
    }
    let port = procs::free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let _bot = procs::start_bot(&binaries.bot, root, port).await?;
    let (proxy_port, switch) = blackhole::start(port).await?;
    let home = procs::init_worker_home(&binaries.worker, root, "wake")?;
    let clock = home.join("faketime");
    std::fs::write(&clock, "+0s\n").context("writing the faketime file")?;
    let env = [
        ("LD_PRELOAD", faketime_lib.display().to_string()),
        ("FAKETIME_TIMESTAMP_FILE", clock.display().to_string()),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1".to_owned()),
        ("FAKETIME_NO_CACHE", "1".to_owned()),
        // What the worker did when, for --keep.
        ("RUST_LOG", "info".to_owned()),
    ];
    let _worker = procs::start_worker_with(
        &binaries.worker,
        &home,
        &format!("http://127.0.0.1:{proxy_port}"),
        "wake",
        3,
        &env,
    )?;
    let client = reqwest::Client::new();
    // The worker's first claim, so that a long poll is in flight when the proxy goes dark.
    run_true(&client, &base).await?;
    let mut slept = Duration::ZERO;
    let mut results = Vec::new();
    for kind in [Kind::Stall, Kind::Sleep] {
        for round in 1..=rounds {
            // The worker starts its next long poll as the last task's result is in.
            let into_the_poll = 2 + 10 * ((round - 1) % 3);
            tokio::time::sleep(Duration::from_secs(u64::try_from(into_the_poll)?)).await;
            switch.close();
            tokio::time::sleep(Duration::from_secs(1)).await;
            let id = submit(&client, &base).await?;
            tokio::time::sleep(dark.saturating_sub(Duration::from_secs(1))).await;
            if kind == Kind::Sleep {
                slept += dark;
                std::fs::write(&clock, format!("+{}s\n", slept.as_secs()))?;
            }
            let opened = epoch_millis(SystemTime::now());
            switch.open();
            let view = finished(&client, &base, &id).await?;
            let started = view.started_at.context("a finished task has no start")?;
            let latency = Duration::from_millis(started.saturating_sub(opened));
            eprintln!(
                "wake: {} round {round}: started {latency:?} after",
                kind.name()
            );
            results.push(Round { kind, latency });
        }
    }
    Ok(results)
}

/// The rounds as a Markdown table.
pub fn markdown(worker: &Path, dark: Duration, rounds: &[Round]) -> String {
    let mut table = format!(
        "worker `{}`, proxy dark {} s\n\n| rounds | task started after the proxy opened |\n|---|---|\n",
        worker.display(),
        dark.as_secs()
    );
    for kind in [Kind::Stall, Kind::Sleep] {
        let mut times: Vec<Duration> = rounds
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.latency)
            .collect();
        let each: Vec<String> = times
            .iter()
            .map(|t| format!("{:.2} s", t.as_secs_f64()))
            .collect();
        times.sort_unstable();
        let median = times.get(times.len() / 2).copied().unwrap_or_default();
        table.push_str(&format!(
            "| {} (n={}) | median {:.2} s ({}) |\n",
            kind.name(),
            times.len(),
            median.as_secs_f64(),
            each.join(", ")
        ));
    }
    table
}

fn epoch_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

async fn submit(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let created: TaskCreated = client
        .post(format!("{base}/tasks"))
        .bearer_auth(CLIENT_TOKEN)
        .json(&json!({"command": "true", "timeout": 10000}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(created.task_id.to_string())
}

/// Waits (long polls) until the task is final.
async fn finished(client: &reqwest::Client, base: &str, id: &str) -> anyhow::Result<TaskView> {
    for _ in 0..10 {
        let view: TaskView = client
            .get(format!("{base}/tasks/{id}?wait=60000"))
            .bearer_auth(CLIENT_TOKEN)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        if !matches!(view.status.as_str(), "pending" | "running") {
            if view.status != "succeeded" {
                bail!("task {id} ended {}: {:?}", view.status, view.error);
            }
            return Ok(view);
        }
    }
    bail!("task {id} did not finish within ten minutes")
}

async fn run_true(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let id = submit(client, base).await?;
    finished(client, base, &id).await.map(drop)
}
