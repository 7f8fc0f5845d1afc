//! `/claude`: a prompt for the Claude Code CLI on the Mac.

use openclaw_shared::TaskSpec;

use super::{request, submit, Context};
use crate::discord::error::CommandError;

/// Ask Claude Code on your Mac
#[poise::command(slash_command)]
pub async fn claude(
    ctx: Context<'_>,
    #[description = "What to ask"] prompt: String,
    #[description = "Seconds before it is stopped (default 120)"]
    #[rename = "timeout"]
    #[min = 1]
    timeout_secs: Option<u64>,
    #[description = "Continue this Claude session"] session: Option<String>,
    #[description = "Run it on this worker (default: any)"]
    #[rename = "worker"]
    worker_name: Option<String>,
) -> Result<(), CommandError> {
    let spec = TaskSpec::Claude {
        prompt,
        session_id: session,
        cwd: None,
    };
    submit(ctx, request(ctx, spec, timeout_secs, worker_name)).await
}
