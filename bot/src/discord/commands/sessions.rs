//! `/sessions`: your recent Claude (and agent) sessions; `resume:` makes this channel
//! continue one of them. The reply is ephemeral: prompts are their owner's business.

use super::{reply_privately, Context};
use crate::discord::error::CommandError;
use crate::discord::render::lists;
use crate::intake::{fields, Requester};
use crate::queue::ChannelBinding;

/// Sessions listed by `/sessions`.
const LISTED: usize = 10;

/// List your recent Claude sessions, or continue one here
#[poise::command(slash_command)]
pub async fn sessions(
    ctx: Context<'_>,
    #[description = "Continue this session in this channel (an id from the list)"] resume: Option<
        String,
    >,
) -> Result<(), CommandError> {
    let requester = Requester::DiscordUser(ctx.author().id);
    let queue = &ctx.data().queue;
    let recent = queue
        .recent_sessions(&requester.own_tasks(), None, LISTED)
        .await?;
    let Some(id) = resume.filter(|id| !id.trim().is_empty()) else {
        return reply_privately(ctx, lists::sessions(&recent)).await;
    };
    let id = id.trim();
    fields::session(Some(id.to_owned()), false)?;
    // Only a session of yours: another user's conversation is theirs to continue.
    let owned = queue
        .recent_sessions(&requester.own_tasks(), None, usize::MAX)
        .await?;
    let Some(session) = owned.iter().find(|s| s.session_id == id) else {
        return Err(CommandError::user(format!(
            "⛔ No session `{id}` of yours; /sessions lists them."
        )));
    };
    queue
        .bind_channel_session(ChannelBinding {
            channel_id: ctx.channel_id().to_string(),
            owner: requester.owner(),
            agent: session.agent.clone(),
            session_id: session.session_id.clone(),
        })
        .await?;
    let command = if session.agent == "claude" {
        "/claude".to_owned()
    } else {
        format!("/agent {}", session.agent)
    };
    reply_privately(
        ctx,
        format!(
            "▶️ {command} in this channel now continues session `{}`.",
            session.session_id
        ),
    )
    .await
}
