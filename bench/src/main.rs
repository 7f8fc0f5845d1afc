//! `openclaw-bench`: starts the real bot and a real worker on loopback and measures what a
//! user feels: submit→result latency, throughput, memory, how chatty an idle worker is, and
//! what the kernel sandbox costs per task; and, as its own scenario, what idle long polls
//! cost the bot per enqueue (`--scenario idle-polls`).
//!
//! Run with `cargo run --release -p openclaw-bench` (it builds the two binaries it drives).

mod idle_polls;
mod measure;
mod procs;
mod proxy;
mod sandbox_cost;
mod scenarios;

use clap::{Parser, ValueEnum};

/// Which measurements to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Latency, throughput, memory, idle traffic and the sandbox's cost (the README table).
    Standard,
    /// Idle long polls vs enqueue rate and a worker's heartbeat latency.
    IdlePolls,
    /// Both.
    All,
}

/// Benchmark the OpenClaw bot and worker on this machine.
#[derive(Debug, Parser)]
struct Args {
    /// What to measure.
    #[arg(long, value_enum, default_value_t = Scenario::Standard)]
    scenario: Scenario,
    /// Idle long polls held on the bot in each run of the idle-polls scenario.
    #[arg(long, value_delimiter = ',', default_value = "0,100,1000")]
    idle_polls: Vec<usize>,
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
}

#[tokio::main]
#[allow(clippy::print_stdout, reason = "the report is this program's output")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let binaries = procs::Binaries::locate(!args.no_build)?;
    if matches!(args.scenario, Scenario::Standard | Scenario::All) {
        let report = scenarios::run_all(&binaries, &args).await?;
        print!("{}", report.markdown());
    }
    if matches!(args.scenario, Scenario::IdlePolls | Scenario::All) {
        let root = scenarios::scratch_dir(args.keep)?;
        let rows = idle_polls::run(&binaries, root.path(), &args.idle_polls).await?;
        print!("\n{}", idle_polls::markdown(&rows));
    }
    Ok(())
}
