//! `/run`: a shell command on the Mac.

use openclaw_shared::client::DEFAULT_COMMAND_TIMEOUT_MS;
use openclaw_shared::TaskSpec;

use super::{checked, submit, timeout, worker, Context};
use crate::api::validate;
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
    let limits = ctx.data().state.limits();
    checked(validate::non_blank(
        "command",
        &command,
        limits.max_command_bytes,
    ))?;
    let cwd = checked(validate::optional_path("cwd", cwd, limits.max_path_bytes))?;
    let timeout = timeout(ctx, timeout_secs, DEFAULT_COMMAND_TIMEOUT_MS)?;
    let worker = worker(worker_name)?;
    submit(ctx, TaskSpec::Command { command, cwd }, timeout, worker).await
}
