//! Wiring: opens the queue, resolves tokens, binds the listener, and runs the HTTP API and
//! the queue sweeper until shutdown (zero2prod's `Application` with mini-redis's
//! caller-supplied shutdown).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::api;
use crate::config::Config;
use crate::data_dir;
use crate::os_limits;
use crate::queue::{now_millis, Queue, SweepReport};
use crate::setup;
use crate::state::AppState;
use crate::telemetry::{error_chain, Throttled};
use crate::tokens::{self, ResolvedTokens};

/// What a start that generated tokens tells the operator.
pub struct FirstStart {
    /// The new tokens and the commands to paste (secrets: for a terminal only).
    pub instructions: String,
    /// Where the tokens are kept.
    pub tokens_file: std::path::PathBuf,
}

/// The URL the bot is reached at: `http.public_url`, or the listener's address.
pub fn public_url(http: &crate::config::HttpConfig, addr: SocketAddr) -> String {
    match &http.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("http://{addr}"),
    }
}

/// The cloud process, built and bound but not yet running.
pub struct App {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    tokens: ResolvedTokens,
}

impl App {
    /// Validates `config`, creates the data directory (0700), resolves the API tokens,
    /// opens the queue and binds the listener (port 0 picks a free one).
    pub async fn build(config: Config) -> anyhow::Result<App> {
        config.validate()?;
        let open_files = os_limits::raise_open_files();
        tracing::debug!(?open_files, "open-files limit");
        tracing::debug!(config = ?config, "effective configuration (secrets redacted)");
        let data_dir = &config.storage.data_dir;
        let db_path = config.storage.database_path();
        data_dir::prepare(data_dir, &db_path).map_err(|err| {
            // Said plainly: a read-only volume is a deployment mistake, not a bug.
            let what = match err.kind() {
                std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied => {
                    format!(
                        "the data directory {} cannot be written (a read-only file system or \
                         permissions); the bot needs to write its database and refuses to start",
                        data_dir.display()
                    )
                }
                _ => format!("preparing the data directory {}", data_dir.display()),
            };
            anyhow::Error::new(err).context(what)
        })?;
        let tokens = tokens::resolve(&config.auth, data_dir).context("resolving API tokens")?;
        let queue = Queue::open(&db_path, config.queue_settings())
            .with_context(|| format!("opening task database at {}", db_path.display()))?;
        let bind = config.http.bind;
        let listener = TcpListener::bind(bind)
            .await
            .with_context(|| format!("binding the HTTP listener to {bind} (http.bind)"))?;
        let addr = listener
            .local_addr()
            .context("reading the listener's address")?;
        if config.discord.token.is_none() {
            tracing::info!("Discord is disabled: no token set (discord.token or DISCORD_TOKEN)");
        } else {
            tracing::info!("Discord is enabled; the bot connects when the app runs");
        }
        let state = AppState::new(queue, tokens.tokens.clone(), config);
        tracing::info!(%addr, data_dir = %state.config().storage.data_dir.display(), "openclaw-bot ready");
        Ok(App {
            listener,
            addr,
            state,
            tokens,
        })
    }

    /// The address the HTTP API listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (the Discord adapter and tests use its queue).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// When this start generated tokens: what to tell the operator (see [`FirstStart`]).
    pub fn first_start(&self) -> Option<FirstStart> {
        if self.tokens.generated.is_empty() {
            return None;
        }
        let url = public_url(&self.state.config().http, self.addr);
        Some(FirstStart {
            instructions: setup::instructions(
                &self.tokens.tokens,
                &self.tokens.generated,
                &self.tokens.path,
                &url,
            ),
            tokens_file: self.tokens.path.clone(),
        })
    }

    /// Serves the API and runs the sweeper until `shutdown` is cancelled or a part stops
    /// on its own (which is an error, reported by name). Waits for in-flight requests.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let App {
            listener, state, ..
        } = self;
        let stopping = state.stopping().clone();
        let tracker = TaskTracker::new();
        // The MCP door is served on the API's listener, behind its client-token check.
        let router = api::router_with(state.clone(), crate::mcp::router(&state))
            .merge(crate::ui::router(state.clone()));
        let serve_stop = stopping.clone();
        let http_config = &state.config().http;
        let policy = api::ConnectionPolicy {
            header_read_timeout: Duration::from_secs(http_config.header_read_timeout_secs),
            max_connections: os_limits::connection_cap(
                http_config.max_connections,
                os_limits::open_files(),
            ),
            max_connections_per_ip: http_config.max_connections_per_ip,
            uncapped: state.config().rate_limit.trusted_proxies.clone(),
        };
        if policy.max_connections < http_config.max_connections {
            tracing::warn!(
                configured = http_config.max_connections,
                effective = policy.max_connections,
                "http.max_connections lowered to fit the open-files limit (raise it: ulimit -n)"
            );
        }
        let mut http: JoinHandle<std::io::Result<()>> =
            tracker.spawn(api::serve(listener, router, policy, serve_stop));
        let mut sweeper = tracker.spawn(sweep_periodically(
            state.queue().clone(),
            state.queue().settings().sweep_interval,
            stopping.clone(),
        ));
        // Discord runs beside the API and is not one of the parts whose end stops the app:
        // a gateway that cannot connect is retried in the background.
        let discord = crate::discord::Handles {
            queue: state.queue().clone(),
            limits: state.limits().clone(),
            channels: state.channels().clone(),
            config: state.config().discord.clone(),
            status: state.discord_status().clone(),
            metrics: state.metrics().clone(),
        };
        crate::discord::spawn(discord, &tracker, &stopping);
        // Not one of the parts whose end stops the app either: it only ends on `stopping`.
        let firer = crate::schedules::Firer::new(
            state.queue().clone(),
            state.limits().clone(),
            state.channels().clone(),
            state.intake_rules().callbacks,
            crate::schedules::ScheduleSettings::from_config(&state.config().schedules),
        );
        tracker.spawn(firer.run(stopping.clone()));
        tracker.spawn(crate::webhooks::run(
            state.queue().clone(),
            state.config().webhooks.clone(),
            state.config().webhook_delivery.clone(),
            state.metrics().clone(),
            stopping.clone(),
        ));
        tracker.spawn(state.metrics().clone().follow(
            state.queue().clone(),
            state.queue().subscribe(),
            stopping.clone(),
        ));
        tracker.close();

        let outcome = tokio::select! {
            () = shutdown.cancelled() => {
                tracing::info!("shutdown requested; finishing in-flight requests");
                Ok(())
            }
            res = &mut http => Err(match res {
                Ok(Ok(())) => anyhow::anyhow!("the HTTP server stopped unexpectedly"),
                Ok(Err(err)) => anyhow::Error::new(err).context("the HTTP server failed"),
                Err(join) => anyhow::Error::new(join).context("the HTTP server task died"),
            }),
            res = &mut sweeper => Err(match res {
                Ok(()) => anyhow::anyhow!("the queue sweeper stopped unexpectedly"),
                Err(join) => anyhow::Error::new(join).context("the queue sweeper task died"),
            }),
        };
        if let Err(err) = &outcome {
            tracing::error!(error = %format!("{err:#}"), "a part of the app ended; stopping the rest");
        }
        stopping.cancel();
        tracker.wait().await;
        tracing::info!("openclaw-bot stopped");
        outcome
    }
}

/// Failed sweeps, logged once per interval with a count.
static SWEEP_FAILURES: Throttled = Throttled::new(Duration::from_secs(60));

/// Runs [`Queue::sweep`] every `every` until `stop`. A sweep is a periodic job (expiry and
/// lease deadlines are coarse), not a wake-up: long-polls never depend on it.
async fn sweep_periodically(queue: Queue, every: Duration, stop: CancellationToken) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticker.tick() => {}
        }
        match queue.sweep(now_millis()).await {
            Ok(report) if report == SweepReport::default() => {}
            // One line per sweep, whatever it changed; a worker's tasks going back or being
            // lost is worth a warning.
            Ok(report) if report.requeued > 0 || report.lost > 0 => tracing::warn!(
                requeued = report.requeued,
                expired = report.expired,
                lost = report.lost,
                pruned = report.pruned,
                "swept the queue"
            ),
            Ok(report) => tracing::info!(
                requeued = report.requeued,
                expired = report.expired,
                lost = report.lost,
                pruned = report.pruned,
                "swept the queue"
            ),
            // A failing store is reported and retried next tick; stopping the sweeper would
            // leave leases unexpired for the rest of the run. Once per interval: an outage
            // fails every tick alike.
            Err(err) => {
                if let Some(count) = SWEEP_FAILURES.hit() {
                    tracing::error!(error = %error_chain(&err), count, "queue sweep failed (count: failures since the last such line)");
                }
            }
        }
    }
}
