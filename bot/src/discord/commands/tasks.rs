//! `/tasks`: the most recent tasks and where they stand.

use poise::serenity_prelude::CreateAllowedMentions;
use poise::CreateReply;

use super::Context;
use crate::discord::error::CommandError;
use crate::discord::render::lists;

/// Tasks listed by `/tasks` (as many as fit in one message are shown).
const LISTED: usize = 15;

/// List recent tasks
#[poise::command(slash_command)]
pub async fn tasks(ctx: Context<'_>) -> Result<(), CommandError> {
    let tasks = ctx.data().queue.list(None, LISTED).await?;
    let reply = CreateReply::default()
        .content(lists::tasks(&tasks))
        .allowed_mentions(CreateAllowedMentions::new());
    ctx.send(reply).await?;
    Ok(())
}
