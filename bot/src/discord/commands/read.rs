//! `/read`: a file from the Mac, shown inline when it is short text, attached otherwise.

use openclaw_shared::TaskSpec;

use super::{request, submit, Context};
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
    submit(
        ctx,
        request(ctx, TaskSpec::FileRead { path }, None, worker_name),
    )
    .await
}
