//! `openclaw-bot`: loads the configuration, builds the app and runs it until Ctrl-C or
//! SIGTERM. Zero configuration works: 127.0.0.1:3456, state in ./data, tokens generated.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use openclaw_bot::app::public_url;
use openclaw_bot::tokens::{self, Role};
use openclaw_bot::{data_dir, healthcheck, setup, telemetry, App, Config};
use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;

/// OpenClaw cloud process: task queue, HTTP API and Discord bot.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// TOML config file (keys documented in config.example.toml).
    #[arg(long, value_name = "PATH", env = "OPENCLAW_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

/// What to do instead of running the bot.
#[derive(Debug, Subcommand)]
enum Command {
    /// Exits 0 when the configured bot answers `GET /health` with 200, 1 otherwise.
    Healthcheck {
        /// Check this http:// URL instead of `/health` on the configured `http.bind`.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
    /// Serves the MCP tools on stdin/stdout for agents that start servers as child
    /// processes (Claude Desktop); a client of the bot's HTTP API. Logs go to stderr.
    McpStdio {
        /// The bot's URL, e.g. https://bot.example.com.
        #[arg(long, value_name = "URL", env = "OPENCLAW_URL")]
        url: String,
        /// The client token (better from the environment, so it is not in the process list).
        #[arg(
            long,
            value_name = "TOKEN",
            env = "OPENCLAW_TOKEN",
            hide_env_values = true
        )]
        token: String,
    },
    /// The API tokens and the commands to connect a Mac (generates missing tokens).
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
}

/// The `tokens` subcommands.
#[derive(Debug, Subcommand)]
enum TokensCommand {
    /// Print every token and the commands for the Mac to stdout (for a terminal; the
    /// tokens are secrets).
    Show,
}

#[tokio::main]
async fn main() -> ExitCode {
    match try_main().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("openclaw-bot: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn try_main() -> anyhow::Result<()> {
    // Before parsing arguments, so `.env` may set OPENCLAW_CONFIG too.
    let dotenv = dotenvy::dotenv();
    let args = Args::parse();
    if let Some(Command::Healthcheck { url }) = &args.command {
        return healthcheck::run(args.config.as_deref(), url.as_deref()).await;
    }
    if let Some(Command::McpStdio { url, token }) = args.command {
        // Stdout is the protocol: logs to stderr, and no config or database is read.
        telemetry::init_stderr(telemetry::DEFAULT_FILTER);
        return openclaw_bot::mcp::stdio::run(&url, token.into()).await;
    }
    telemetry::init(telemetry::DEFAULT_FILTER);
    match dotenv {
        Ok(path) => tracing::debug!(path = %path.display(), "loaded .env"),
        Err(err) if err.not_found() => {}
        Err(err) => return Err(err).context("reading .env"),
    }
    let config = Config::load(args.config.as_deref())?;
    if let Some(Command::Tokens {
        command: TokensCommand::Show,
    }) = &args.command
    {
        return show_tokens(&config);
    }
    let app = App::build(config).await?;
    if let Some(first) = app.first_start() {
        if std::io::stderr().is_terminal() {
            // Printed, never logged. A closed stderr must not stop the bot (`eprintln!`
            // would panic on it).
            let _ = std::io::stderr().write_all(first.instructions.as_bytes());
        } else {
            // Under Docker or systemd stderr is the log stream: no secrets in it.
            tracing::warn!("{}", setup::where_to_find(&first.tokens_file));
        }
    }
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    app.run(shutdown).await
}

/// `openclaw-bot tokens show`: the tokens (generated if missing) and the commands for the
/// Mac, on stdout. Works beside a running bot: it binds nothing.
fn show_tokens(config: &Config) -> anyhow::Result<()> {
    config.validate()?;
    let data_dir = &config.storage.data_dir;
    data_dir::prepare(data_dir, &config.storage.database_path())
        .with_context(|| format!("preparing the data directory {}", data_dir.display()))?;
    let resolved = tokens::resolve(&config.auth, data_dir).context("resolving API tokens")?;
    let url = public_url(&config.http, config.http.bind);
    let text = setup::instructions(&resolved.tokens, &Role::ALL, &resolved.path, &url);
    std::io::stdout()
        .write_all(text.as_bytes())
        .context("writing to stdout")
}

/// Cancels `shutdown` on Ctrl-C or SIGTERM (what `docker stop` sends). A signal that cannot
/// be listened for is logged and never fires, rather than stopping the bot at once.
async fn cancel_on_signal(shutdown: CancellationToken) {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let term = async {
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    shutdown.cancel();
}
