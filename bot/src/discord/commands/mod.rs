//! The slash commands. Each is thin (ferrisbot's `doc` style): check its options with the same
//! rules as the HTTP API, acknowledge, queue the task with its interaction as origin, return.
//! Delivery (progress and result) happens in [`super::deliver`]. A command's `///` first line
//! is its description in Discord.

mod approve;
mod cancel;
mod claude;
mod deny;
mod read;
mod run;
mod status;
mod tasks;
mod write;

use std::sync::Arc;
use std::time::Duration;

use openclaw_shared::TaskSpec;

use super::error::CommandError;
use super::origin::InteractionOrigin;
use super::Settings;
use crate::api::ApiError;
use crate::app::AppState;
use crate::queue::{now_millis, NewTask};

/// What every command can reach.
pub struct Data {
    /// The app: queue, config, health.
    pub state: AppState,
    /// The Discord settings (allowed users, …).
    pub settings: Arc<Settings>,
}

/// The context commands get.
pub type Context<'a> = poise::Context<'a, Data, CommandError>;

/// Every command, in the order Discord lists them. The allowed-users check (poise's
/// `command_check`) runs in front of each, `/approve` and `/deny` included.
pub fn all() -> Vec<poise::Command<Data, CommandError>> {
    vec![
        run::run(),
        read::read(),
        write::write(),
        claude::claude(),
        status::status(),
        tasks::tasks(),
        cancel::cancel(),
        approve::approve(),
        deny::deny(),
    ]
}

/// Acknowledges the interaction within Discord's 3 seconds ("thinking…"); the result later
/// replaces it. Done before the task is queued: if Discord no longer takes the
/// acknowledgement, the user saw a failure and nothing must run.
async fn acknowledge(ctx: Context<'_>) -> Result<(), CommandError> {
    ctx.defer().await?;
    Ok(())
}

/// Queues `spec` with this interaction as its origin, so its progress and result come back
/// to the response (also after a bot restart).
async fn queue_task(
    ctx: Context<'_>,
    spec: TaskSpec,
    timeout: Duration,
    worker: Option<String>,
) -> Result<(), CommandError> {
    let poise::Context::Application(app) = ctx else {
        return Err(CommandError::user("Use this as a slash command."));
    };
    let interaction = app.interaction;
    let origin = InteractionOrigin {
        application_id: interaction.application_id,
        interaction_id: interaction.id,
        token: interaction.token.clone(),
        channel_id: interaction.channel_id,
        guild_id: interaction.guild_id,
        user_id: interaction.user.id,
        command: ctx.command().qualified_name.to_string(),
        received_at: now_millis(),
    };
    let kind = spec.kind();
    let task = ctx
        .data()
        .state
        .queue()
        .enqueue(NewTask {
            spec,
            timeout,
            target_worker: worker,
            origin: Some(origin.to_value()),
        })
        .await?;
    tracing::info!(task_id = %task.id, kind = kind.as_str(), user_id = %origin.user_id, "task queued from Discord");
    Ok(())
}

/// Acknowledges, then queues: what the simple commands do once their options are valid.
async fn submit(
    ctx: Context<'_>,
    spec: TaskSpec,
    timeout: Duration,
    worker: Option<String>,
) -> Result<(), CommandError> {
    acknowledge(ctx).await?;
    queue_task(ctx, spec, timeout, worker).await
}

/// A field check of the HTTP API, with its message shown to the user.
fn checked<T>(result: Result<T, ApiError>) -> Result<T, CommandError> {
    result.map_err(|error| CommandError::user(format!("⚠️ {error}")))
}

/// A timeout option in seconds: `default_ms` when absent, else at most the configured limit.
fn timeout(ctx: Context<'_>, secs: Option<u64>, default_ms: u64) -> Result<Duration, CommandError> {
    let max_ms = ctx.data().state.limits().max_timeout_ms;
    match secs {
        None => Ok(Duration::from_millis(default_ms)),
        Some(secs) if secs >= 1 && secs.saturating_mul(1000) <= max_ms => {
            Ok(Duration::from_secs(secs))
        }
        Some(_) => Err(CommandError::user(format!(
            "⚠️ timeout must be between 1 and {} seconds",
            max_ms / 1000
        ))),
    }
}

/// A worker option: empty means any worker.
fn worker(name: Option<String>) -> Result<Option<String>, CommandError> {
    checked(crate::api::validate::worker_name("worker", name))
}
