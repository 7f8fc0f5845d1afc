//! The OpenClaw worker: runs on the owner's Mac, long-polls the bot over outbound HTTP(S)
//! for tasks, runs them, and reports results. The server never connects to the worker.
//!
//! # Layout
//! - [`cli`]: the command line and the local commands (`init`, `unlock`, `audit`, and
//!   `doctor`, a self-check including a live sandbox test).
//! - [`config`]: the one `Config`, from defaults, a TOML file and the environment.
//! - [`client`]: typed client for the worker protocol, with failure classes.
//! - `tls`: extra CA certificates trusted for the server (`server_ca_file`).
//! - [`poll`]: the loop: claims for free slots, heartbeats, result delivery, shutdown.
//! - [`pipeline`]: every task's path: verdict, approval, execution, redaction, audit.
//! - [`guard`]: the security state opened at start (policy, approvals, audit, lock).
//! - [`agents`]: agent CLIs besides Claude (`[agents.<name>]`): argv templates, sessions.
//! - [`exec`]: the executors behind the single [`exec::execute`] seam.
//! - [`live`]: a running task's output sent to the server in redacted pieces.
//! - [`notify`]: approval requests posted to the owner's own webhook.
//! - [`visible`]: text shown to the owner made unambiguous (hidden characters spelled out).
//! - [`telemetry`]: logging setup.
//! - [`policy`]: the local policy: verdicts, path resolution, child environment, canary lock.
//! - [`redact`]: secrets replaced by `[REDACTED:<kind>]` before output leaves the Mac.
//! - [`sandbox`]: the kernel sandbox every command and Claude run is confined to.
//! - [`approval`]: fingerprints, TOTP verification and the replay guard.
//! - [`audit`]: the hash-chained audit log, its head file and verification.
//! - [`init`]: `openclaw-worker init`: starter config and policy, TOTP secret, QR code.
//! - [`files`]: where the worker's own files live, written private and atomically.
//! - [`spool`]: each started task's directory, which outlives the worker (crash, upgrade).

pub mod agents;
pub mod approval;
pub mod audit;
pub mod cli;
pub mod client;
pub mod config;
pub mod exec;
pub mod files;
pub mod guard;
pub mod init;
pub mod live;
pub mod notify;
pub mod pipeline;
pub mod policy;
pub mod poll;
pub mod redact;
pub mod sandbox;
pub mod spool;
pub mod telemetry;
mod tls;
pub mod visible;

pub use config::Config;
use tokio_util::sync::CancellationToken;

/// Runs the worker until `shutdown` is cancelled, then drains: no new claims, running
/// tasks get `shutdown_grace_secs` to finish (the rest are killed and reported
/// `cancelled`), results are delivered, and it returns. Fails at once, running nothing,
/// when the policy, the TOTP secret or the audit log cannot be used safely. Never returns
/// early because the server is unreachable or rejects the token; it retries.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    tracing::debug!(?config, "effective configuration");
    if config.server_url.starts_with("http://") && !is_loopback_url(&config.server_url) {
        tracing::warn!(
            server = %config.server_url,
            "server_url is plain http to another host: the worker token travels unencrypted"
        );
    }
    let worker = poll::Worker::new(&config)?;
    tracing::info!(
        worker = %config.name,
        server = %config.server_url,
        max_concurrent = config.max_concurrent,
        policy = %config.policy_path.display(),
        state = %config.state_dir.display(),
        owner_webhook = config.notify_webhook_url.is_some(),
        "worker started"
    );
    worker.run(shutdown).await;
    Ok(())
}

/// Whether `url` points at this machine (where plain http exposes nothing).
pub(crate) fn is_loopback_url(url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}
