//! `/tasks`: your most recent tasks and where they stand (an admin's `all:true`: everyone's).
//! The reply is ephemeral: a task's command is its owner's business.

use super::{reach, reply_privately, Context};
use crate::discord::error::CommandError;
use crate::discord::render::lists;
use crate::queue::Scope;

/// Tasks listed by `/tasks` (as many as fit in one message are shown).
const LISTED: usize = 15;

/// List your recent tasks
#[poise::command(slash_command)]
pub async fn tasks(
    ctx: Context<'_>,
    #[description = "Everyone's tasks, not only yours (admins only)"] all: Option<bool>,
) -> Result<(), CommandError> {
    let scope = reach(ctx, all.unwrap_or(false))?;
    let tasks = ctx.data().queue.list(&scope, None, LISTED).await?;
    let everyone = scope == Scope::All;
    reply_privately(ctx, lists::tasks(&tasks, everyone)).await
}
