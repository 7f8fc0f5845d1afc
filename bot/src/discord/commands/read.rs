//! `/read`: a file from the Mac, shown inline when it is short text, attached otherwise.

use std::time::Duration;

use openclaw_shared::client::DEFAULT_COMMAND_TIMEOUT_MS;
use openclaw_shared::TaskSpec;

use super::{checked, submit, worker, Context};
use crate::api::validate;
use crate::discord::error::CommandError;

/// Read a file on your Mac
#[poise::command(slash_command)]
pub async fn read(
    ctx: Context<'_>,
    #[description = "Path of the file (~ is your home)"] path: String,
    #[description = "Read it on this worker (default: any)"]
    #[rename = "worker"]
    worker_name: Option<String>,
) -> Result<(), CommandError> {
    let limits = ctx.data().state.limits();
    checked(validate::non_blank("path", &path, limits.max_path_bytes))?;
    let worker = worker(worker_name)?;
    // File operations get the command default, as over HTTP.
    let timeout = Duration::from_millis(DEFAULT_COMMAND_TIMEOUT_MS);
    submit(ctx, TaskSpec::FileRead { path }, timeout, worker).await
}
