//! `/status`: the workers (everyone's: they are shared), and how many of your tasks are
//! queued or running (an admin's `all:true`: the whole queue). The reply is ephemeral.

use super::{reach, reply_privately, Context};
use crate::discord::error::CommandError;
use crate::discord::render::lists;
use crate::queue::{now_millis, Scope};

/// Show your workers and your tasks in the queue
#[poise::command(slash_command)]
pub async fn status(
    ctx: Context<'_>,
    #[description = "Count everyone's tasks, not only yours (admins only)"] all: Option<bool>,
) -> Result<(), CommandError> {
    let scope = reach(ctx, all.unwrap_or(false))?;
    let stats = ctx.data().queue.stats(&scope).await?;
    let everyone = scope == Scope::All;
    reply_privately(ctx, lists::status(&stats, everyone, now_millis())).await
}
