//! `openclaw-bench`: starts the real bot and a real worker on loopback and measures what a
//! user feels: submit→result latency, throughput, memory, how chatty an idle worker is, and
//! what the kernel sandbox costs per task; and, as its own scenario, how soon a task queued
//! while the Mac slept (or its network was gone) starts (`--scenario wake`), and what idle
//! long polls cost the bot per task (`--scenario idle-polls`), and what half-sent requests do
//! to a real worker's tasks (`--scenario slow-clients`).
//!
//! Run with `cargo run --release -p openclaw-bench` (it builds the two binaries it drives).

mod blackhole;
mod idle_polls;
mod measure;
mod procs;
mod proxy;
mod sandbox_cost;
mod scenarios;
mod slow_clients;
mod storage;
mod wake;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// Which measurements to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Latency, throughput, memory, idle traffic and the sandbox's cost (the README table).
    Standard,
    /// A task queued while the worker's network was dark (stalled, or the Mac asleep).
    Wake,
    /// Idle long polls vs the enqueue rate, the bot's CPU per task and a worker's heartbeat.
    IdlePolls,
    /// Half-sent requests held open (a slowloris) vs a real worker's submit→result latency.
    SlowClients,
    /// All of them.
    All,
}

/// Benchmark the OpenClaw bot and worker on this machine.
#[derive(Debug, Parser)]
struct Args {
    /// What to measure.
    #[arg(long, value_enum, default_value_t = Scenario::Standard)]
    scenario: Scenario,
    /// Rounds of each kind in the wake scenario.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds the worker's network is dark in each wake round.
    #[arg(long, default_value_t = 60)]
    blackhole_secs: u64,
    /// libfaketime, which the wake scenario preloads into the worker to move its wall clock.
    #[arg(long, default_value = wake::DEFAULT_FAKETIME_LIB)]
    faketime_lib: PathBuf,
    /// Idle long polls held on the bot in each run of the idle-polls scenario.
    #[arg(long, value_delimiter = ',', default_value = "0,100,1000")]
    idle_polls: Vec<usize>,
    /// Measure this worker binary instead of the one built here (e.g. an older build).
    #[arg(long)]
    worker_bin: Option<PathBuf>,
    /// Sequential submit→result samples for the latency figures.
    #[arg(long, default_value_t = 300)]
    samples: usize,
    /// Concurrent clients in the throughput run.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Tasks in the throughput run.
    #[arg(long, default_value_t = 3000)]
    tasks: usize,
    /// The worker's `max_concurrent` for the latency and throughput runs.
    #[arg(long, default_value_t = 8)]
    worker_slots: usize,
    /// Seconds to watch an idle worker's requests.
    #[arg(long, default_value_t = 60)]
    idle_secs: u64,
    /// Tasks queued (with no worker) for the memory figure.
    #[arg(long, default_value_t = 10_000)]
    queued: usize,
    /// Keep the bot's data dir and the logs (printed at start) instead of deleting them.
    #[arg(long)]
    keep: bool,
    /// Skip building the binaries (use what is in the target dir).
    #[arg(long)]
    no_build: bool,
    /// Run only the storage scenario: `storage.synchronous` normal vs full, and the bot
    /// while another process holds the database's write lock.
    #[arg(long)]
    storage: bool,
    /// With `--storage`, only the outside-lock part (it also runs against a bot from before
    /// `storage.synchronous` existed).
    #[arg(long, requires = "storage")]
    lock_only: bool,
}

#[tokio::main]
#[allow(clippy::print_stdout, reason = "the report is this program's output")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut binaries = procs::Binaries::locate(!args.no_build)?;
    if args.storage {
        print!("{}", storage::run(&binaries, &args).await?.markdown());
        return Ok(());
    }
    if let Some(worker) = &args.worker_bin {
        binaries.worker.clone_from(worker);
    }
    if matches!(args.scenario, Scenario::Standard | Scenario::All) {
        let report = scenarios::run_all(&binaries, &args).await?;
        print!("{}", report.markdown());
    }
    if matches!(args.scenario, Scenario::Wake | Scenario::All) {
        let temp = tempfile::tempdir()?;
        let root = if args.keep {
            let kept = temp.keep();
            eprintln!("data and logs kept in {}", kept.display());
            kept
        } else {
            temp.path().to_owned()
        };
        let dark = Duration::from_secs(args.blackhole_secs);
        let rounds = wake::run(&binaries, &root, args.rounds, dark, &args.faketime_lib).await?;
        print!("\n{}", wake::markdown(&binaries.worker, dark, &rounds));
    }
    if matches!(args.scenario, Scenario::IdlePolls | Scenario::All) {
        let root = scenarios::scratch_dir(args.keep)?;
        let rows = idle_polls::run(&binaries, root.path(), &args.idle_polls).await?;
        print!("\n{}", idle_polls::markdown(&rows));
    }
    if matches!(args.scenario, Scenario::SlowClients | Scenario::All) {
        let root = scenarios::scratch_dir(args.keep)?;
        let rows = slow_clients::run(&binaries, root.path()).await?;
        print!("\n{}", slow_clients::markdown(&rows));
    }
    Ok(())
}
