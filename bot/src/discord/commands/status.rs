//! `/status`: workers and queue depth.

use poise::serenity_prelude::CreateAllowedMentions;
use poise::CreateReply;

use super::Context;
use crate::discord::error::CommandError;
use crate::discord::render::lists;
use crate::queue::now_millis;

/// Show your workers and the queue
#[poise::command(slash_command)]
pub async fn status(ctx: Context<'_>) -> Result<(), CommandError> {
    let stats = ctx.data().queue.stats().await?;
    let reply = CreateReply::default()
        .content(lists::status(&stats, now_millis()))
        .allowed_mentions(CreateAllowedMentions::new());
    ctx.send(reply).await?;
    Ok(())
}
