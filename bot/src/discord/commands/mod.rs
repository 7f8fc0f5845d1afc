//! The slash commands. Each is thin (ferrisbot's `doc` style): turn its options into a
//! [`TaskRequest`] (checked by [`intake::check`], the HTTP API's rules), acknowledge, queue the
//! task with its interaction as origin and its user as owner, return. `/tasks`, `/status` and
//! `/cancel` see the user's own tasks; an admin's reach everyone's (`reach`).
//! Delivery (progress and result) happens in [`super::deliver`]. A command's `///` first line
//! is its description in Discord.

mod agent;
mod approve;
mod cancel;
mod claude;
mod conversation;
mod deny;
mod read;
mod run;
mod schedule;
mod sessions;
mod status;
mod tasks;
mod write;

use std::sync::Arc;

use openclaw_shared::TaskSpec;

use super::error::CommandError;
use super::Settings;
use crate::config::LimitsConfig;
use crate::intake::{
    self, CallbackChannels, InteractionOrigin, ReplyTo, RequestedTimeout, Requester, Rules,
    TaskRequest,
};
use crate::metrics::{Metrics, Source};
use crate::queue::{now_millis, NewTask, Queue, Scope};
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

/// Every command, in the order Discord lists them, `/agent` offering `settings.agents`.
/// The allowed-users check (poise's `command_check`) runs in front of each, `/approve` and
/// `/deny` included.
pub fn all(settings: &Settings) -> Vec<poise::Command<Data, CommandError>> {
    let mut agent = agent::agent();
    agent::offer(&mut agent, &settings.agents);
    vec![
        run::run(),
        read::read(),
        write::write(),
        claude::claude(),
        agent,
        sessions::sessions(),
        status::status(),
        tasks::tasks(),
        cancel::cancel(),
        approve::approve(),
        deny::deny(),
        schedule::schedule(),
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
        // A slash command has no callbackUrl to give.
        callbacks: intake::callback::CallbackRule::default(),
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

/// The request by the command's user for `spec`, with the options every task command
/// shares.
fn request(
    ctx: Context<'_>,
    spec: TaskSpec,
    timeout_secs: Option<u64>,
    worker: Option<String>,
) -> TaskRequest {
    TaskRequest {
        timeout: timeout_secs.map(RequestedTimeout::Seconds),
        worker,
        ..TaskRequest::new(spec, Requester::DiscordUser(ctx.author().id))
    }
}

/// Whether the command's user is an admin (`discord.admin_user_ids`, or the first allowed
/// user), who sees and cancels everyone's tasks.
fn is_admin(ctx: Context<'_>) -> bool {
    ctx.data()
        .settings
        .admin_user_ids
        .contains(&ctx.author().id)
}

/// The tasks a listing covers: the user's own, or with `all` (admins only) everyone's. A
/// non-admin asking for all is told so, and sees nothing else.
fn reach(ctx: Context<'_>, all: bool) -> Result<Scope, CommandError> {
    match (all, is_admin(ctx)) {
        (false, _) => Ok(Requester::DiscordUser(ctx.author().id).own_tasks()),
        (true, true) => Ok(Scope::All),
        (true, false) => Err(CommandError::user(
            "⛔ Only an admin (discord.admin_user_ids) sees everyone's tasks; leave out `all` \
             to see yours.",
        )),
    }
}

/// Answers only the user who ran the command (listings and cancels name tasks, which are
/// nobody else's business). Mentions are off.
async fn reply_privately(ctx: Context<'_>, message: String) -> Result<(), CommandError> {
    let reply = poise::CreateReply::default()
        .content(message)
        .ephemeral(true)
        .allowed_mentions(poise::serenity_prelude::CreateAllowedMentions::new());
    ctx.send(reply).await?;
    Ok(())
}
