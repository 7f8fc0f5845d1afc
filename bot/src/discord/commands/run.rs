//! `/run`: a shell command on the Mac.

use openclaw_shared::TaskSpec;

use super::{request, submit, Context};
use crate::discord::error::CommandError;

/// Run a shell command on your Mac
#[poise::command(slash_command)]
pub async fn run(
    ctx: Context<'_>,
    #[description = "The command, run by your shell as you typed it"] command: String,
    #[description = "Seconds before it is stopped (default 30)"]
    #[rename = "timeout"]
    #[min = 1]
    timeout_secs: Option<u64>,
    #[description = "Run it on this worker (default: any)"]
    #[rename = "worker"]
    worker_name: Option<String>,
    #[description = "Working directory"] cwd: Option<String>,
) -> Result<(), CommandError> {
    let spec = TaskSpec::Command { command, cwd };
    submit(ctx, request(ctx, spec, timeout_secs, worker_name)).await
}
