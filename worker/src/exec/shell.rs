//! `command` tasks: the command string is ONE argument to the configured shell prefix
//! (`/bin/sh -c <command>`), never re-quoted, so the shell sees exactly what was sent.

use std::time::Duration;

use openclaw_shared::TaskOutcome;
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::process::run_process;
use super::ExecContext;

/// Runs `command` through the shell in `cwd` (or the default directory).
pub async fn run(
    ctx: &ExecContext,
    command: &str,
    cwd: Option<&str>,
    timeout: Duration,
    cancel: &CancellationToken,
) -> TaskOutcome {
    let dir = match ctx.working_dir(cwd) {
        Ok(dir) => dir,
        Err(message) => return TaskOutcome::failure(message),
    };
    let Some((program, prefix)) = ctx.shell.split_first() else {
        return TaskOutcome::failure("no shell configured");
    };
    let mut cmd = Command::new(program);
    cmd.args(prefix).arg(command).current_dir(dir);
    run_process(cmd, ctx.limits, timeout, cancel)
        .await
        .into_outcome(&format!("shell {program}"), timeout)
}
