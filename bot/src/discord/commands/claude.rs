//! `/claude`: a prompt for the Claude Code CLI on the Mac.

use openclaw_shared::client::DEFAULT_CLAUDE_TIMEOUT_MS;
use openclaw_shared::TaskSpec;

use super::{checked, submit, timeout, worker, Context};
use crate::api::validate;
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
    let limits = ctx.data().state.limits();
    checked(validate::non_blank(
        "prompt",
        &prompt,
        limits.max_prompt_bytes,
    ))?;
    let session_id = checked(validate::session_id(session))?;
    let timeout = timeout(ctx, timeout_secs, DEFAULT_CLAUDE_TIMEOUT_MS)?;
    let worker = worker(worker_name)?;
    let spec = TaskSpec::Claude {
        prompt,
        session_id,
        cwd: None,
    };
    submit(ctx, spec, timeout, worker).await
}
