//! `openclaw-bench`: starts the real bot and a real worker on loopback and measures what a
//! user feels: submit→result latency, throughput, memory, how chatty an idle worker is, and
//! what the kernel sandbox costs per task.
//!
//! Run with `cargo run --release -p openclaw-bench` (it builds the two binaries it drives).

mod measure;
mod procs;
mod proxy;
mod sandbox_cost;
mod scenarios;
mod storage;

use clap::Parser;

/// Benchmark the OpenClaw bot and worker on this machine.
#[derive(Debug, Parser)]
struct Args {
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
}

#[tokio::main]
#[allow(clippy::print_stdout, reason = "the report is this program's output")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let binaries = procs::Binaries::locate(!args.no_build)?;
    if args.storage {
        print!("{}", storage::run(&binaries, &args).await?.markdown());
        return Ok(());
    }
    let report = scenarios::run_all(&binaries, &args).await?;
    print!("{}", report.markdown());
    Ok(())
}
