//! The slash commands. Each is thin (ferrisbot's `doc` style): turn its options into a
//! [`TaskRequest`] (checked by [`intake::check`], the HTTP API's rules), acknowledge, queue the
//! task with its interaction as origin, return.
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

use openclaw_shared::TaskSpec;

use super::error::CommandError;
use super::Settings;
use crate::config::LimitsConfig;
use crate::intake::{
    self, CallbackChannels, InteractionOrigin, ReplyTo, RequestedTimeout, Rules, TaskRequest,
};
use crate::metrics::{Metrics, Source};
use crate::queue::{now_millis, NewTask, Queue};
use crate::state::DiscordStatus;

/// What every command (and the gateway's event handler) can reach: only what they use.
#[derive(Clone)]
pub struct Data {
    /// The task queue.
    pub queue: Queue,
    /// Field limits for the tasks commands create.
    pub limits: LimitsConfig,
    /// The callback-channel allow-list (commands answer in their own channel; kept for the
    /// intake rules every adapter shares).
    pub channels: CallbackChannels,
    /// The Discord settings (allowed users, …).
    pub settings: Arc<Settings>,
    /// Where the gateway connection state is reported.
    pub status: DiscordStatus,
    /// Counts the tasks commands create.
    pub metrics: Metrics,
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

/// Checks `request` by the rules every adapter shares, with this interaction as its origin so
/// its progress and result come back to the response (also after a bot restart).
fn checked_task(ctx: Context<'_>, mut request: TaskRequest) -> Result<NewTask, CommandError> {
    let poise::Context::Application(app) = ctx else {
        return Err(CommandError::user("Use this as a slash command."));
    };
    let interaction = app.interaction;
    request.reply_to = ReplyTo::Interaction(InteractionOrigin {
        application_id: interaction.application_id,
        interaction_id: interaction.id,
        token: interaction.token.clone(),
        channel_id: interaction.channel_id,
        guild_id: interaction.guild_id,
        user_id: interaction.user.id,
        command: ctx.command().qualified_name.to_string(),
        received_at: now_millis(),
    });
    let data = ctx.data();
    let rules = Rules {
        limits: &data.limits,
        channels: &data.channels,
    };
    Ok(intake::check(request, &rules)?)
}

/// Puts a checked task on the queue. Call [`acknowledge`] first.
async fn enqueue(ctx: Context<'_>, new_task: NewTask) -> Result<(), CommandError> {
    let kind = new_task.spec.kind();
    let task = ctx.data().queue.enqueue(new_task).await?;
    ctx.data().metrics.task_created(kind, Source::Discord);
    tracing::info!(task_id = %task.id, kind = kind.as_str(), user_id = %ctx.author().id, "task queued from Discord");
    Ok(())
}

/// Checks, acknowledges, queues: what the simple commands do. The check comes first so a
/// refusal is shown to the user alone and nothing is queued.
async fn submit(ctx: Context<'_>, request: TaskRequest) -> Result<(), CommandError> {
    let new_task = checked_task(ctx, request)?;
    acknowledge(ctx).await?;
    enqueue(ctx, new_task).await
}

/// The request for `spec` with the options every task command shares.
fn request(spec: TaskSpec, timeout_secs: Option<u64>, worker: Option<String>) -> TaskRequest {
    TaskRequest {
        timeout: timeout_secs.map(RequestedTimeout::Seconds),
        worker,
        ..TaskRequest::new(spec)
    }
}
