//! `/deny fingerprint`: tells the worker holding the task that awaits that fingerprint not to
//! run it. The worker ends the task `denied`, which its message then shows.

use openclaw_shared::worker::ApprovalDecision;

use super::approve::{awaiting, relay, which_task};
use super::{reply_privately, Context};
use crate::discord::error::CommandError;
use crate::discord::render::{self, text::inline_code};

/// Refuse a task your Mac is holding for approval
#[poise::command(slash_command)]
pub async fn deny(
    ctx: Context<'_>,
    #[description = "The fingerprint your Mac showed, e.g. ABCD2345"] fingerprint: String,
) -> Result<(), CommandError> {
    let (fingerprint, task) = awaiting(ctx, &fingerprint).await?;
    relay(ctx, &task, ApprovalDecision::Deny).await?;
    tracing::info!(task_id = %task.id, %fingerprint, user_id = %ctx.author().id, "denial relayed from Discord");
    let message = format!(
        "⛔ Denial sent for {} · {}{}.\n\
         The worker will not run it; the task's message, or `/tasks`, will show it denied.",
        inline_code(&fingerprint, 40),
        render::summary(&task.spec),
        which_task(&task),
    );
    reply_privately(ctx, message).await
}
