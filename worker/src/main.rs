//! `openclaw-worker`: parse arguments, load `.env` and the config, start logging, run the
//! worker until SIGINT/SIGTERM, and report how it ended.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use openclaw_worker::config::{Config, CONFIG_PATH_ENV};
use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;

/// Runs tasks from an OpenClaw bot on this machine.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// TOML config file (keys documented in config.example.toml).
    #[arg(long, value_name = "PATH", env = CONFIG_PATH_ENV)]
    config: Option<PathBuf>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
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
    let env = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
    let config = match Config::load(cli.config.as_deref(), env) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("openclaw-worker: {err}");
            return ExitCode::from(2);
        }
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    match openclaw_worker::run(config, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = ?err, "worker failed");
            ExitCode::FAILURE
        }
    }
}

/// Cancels `shutdown` on the first SIGINT or SIGTERM.
async fn cancel_on_signal(shutdown: CancellationToken) {
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        tracing::error!("cannot listen for SIGTERM; stop the worker with Ctrl-C");
        let _ = tokio::signal::ctrl_c().await;
        shutdown.cancel();
        return;
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
        _ = term.recv() => tracing::info!("SIGTERM received"),
    }
    shutdown.cancel();
}
