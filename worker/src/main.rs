//! `openclaw-worker`: parse arguments, load `.env` and the config, start logging, then run
//! the worker until SIGINT/SIGTERM (or a local command: `init`, `unlock`, `audit`,
//! `service`), and report how it ended. Started as `supervise`, it is a task's supervisor
//! instead, and nothing else.

use std::process::ExitCode;

use clap::Parser;
use openclaw_worker::cli::{self, Cli, Command};
use openclaw_worker::config::{self, Config};
use openclaw_worker::exec::supervisor;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio_util::sync::CancellationToken;

fn main() -> ExitCode {
    // A task's supervisor reads nothing but its task's directory: no `.env`, no config,
    // and it builds its own runtime.
    if supervisor::requested() {
        return supervisor::supervise();
    }
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(worker_main()),
        Err(err) => {
            eprintln!("openclaw-worker: cannot start the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

#[allow(
    clippy::print_stdout,
    reason = "the local commands' output (QR code, audit lines) is the CLI's stdout"
)]
async fn worker_main() -> ExitCode {
    // Before clap, so a `.env` may also name the config file.
    let dotenv = dotenvy::dotenv();
    let cli = Cli::parse();
    openclaw_worker::telemetry::init("info");
    if let Err(err) = dotenv.as_ref().map_err(|e| (e.not_found(), e)) {
        if !err.0 {
            tracing::warn!(error = %err.1, "ignoring unreadable .env file");
        }
    }
    // Non-UTF-8 variables cannot be config values; skip them rather than panic.
    let env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let file = config::locate(cli.config);
    let command = cli.command.unwrap_or(Command::Run);
    if !matches!(command, Command::Run) {
        let output = match command {
            Command::Doctor => cli::doctor(file, env).await,
            command => cli::run_local(command, file, env),
        };
        print!("{}", output.stdout);
        eprint!("{}", output.stderr);
        return output.exit_code();
    }
    let config = match Config::load(file.as_deref(), env) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("openclaw-worker: {err}");
            return ExitCode::from(2);
        }
    };
    let shutdown = CancellationToken::new();
    // The handlers are installed here, before the worker says it started: a spawned task
    // is first polled only when `main` yields, and a SIGTERM before that would kill the
    // process instead of draining it.
    let signals = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    );
    tokio::spawn(cancel_on_signal(signals, shutdown.clone()));
    match openclaw_worker::run(config, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Refusals to start (policy, secret, audit log) end here: one clear line.
            eprintln!("openclaw-worker: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Cancels `shutdown` on the first SIGINT or SIGTERM (their handlers already installed).
async fn cancel_on_signal(
    signals: (std::io::Result<Signal>, std::io::Result<Signal>),
    shutdown: CancellationToken,
) {
    let (Ok(mut term), Ok(mut interrupt)) = signals else {
        tracing::error!("cannot listen for SIGTERM or SIGINT; stop the worker with SIGKILL");
        return;
    };
    tokio::select! {
        _ = interrupt.recv() => tracing::info!("SIGINT received"),
        _ = term.recv() => tracing::info!("SIGTERM received"),
    }
    shutdown.cancel();
}
