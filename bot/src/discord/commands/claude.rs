//! `/claude`: a prompt for the Claude Code CLI on the Mac, continuing your conversation in
//! this channel unless `new:true` (or another `session:`) says otherwise.

use openclaw_shared::task::CLAUDE_AGENT;

use super::conversation::{ask, Prompt};
use super::Context;
use crate::discord::error::CommandError;

/// Ask Claude Code on your Mac (continues this channel's conversation)
#[poise::command(slash_command)]
pub async fn claude(
    ctx: Context<'_>,
    #[description = "What to ask"] prompt: String,
    #[description = "Start a new conversation instead of continuing this channel's"] new: Option<
        bool,
    >,
    #[description = "Continue this session instead (see /sessions)"] session: Option<String>,
    #[description = "Seconds before it is stopped (default 120)"]
    #[rename = "timeout"]
    #[min = 1]
    timeout_secs: Option<u64>,
    #[description = "Run it on this worker (default: any)"]
    #[rename = "worker"]
    worker_name: Option<String>,
) -> Result<(), CommandError> {
    let prompt = Prompt {
        agent: CLAUDE_AGENT.to_owned(),
        prompt,
        new: new.unwrap_or(false),
        session,
        timeout_secs,
        worker: worker_name,
    };
    ask(ctx, prompt).await
}
