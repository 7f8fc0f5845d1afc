//! `command` tasks, run as the policy planned them. A simple command spawns its resolved
//! program directly with the checked argv (no shell: no alias, function or startup file
//! can change what runs). Shell syntax, which only ever runs after the owner approved it,
//! goes to the configured shell as ONE argument, never re-quoted.

use std::path::Path;
use std::time::Duration;

use openclaw_shared::TaskOutcome;
use tokio_util::sync::CancellationToken;

use super::process::run_process;
use super::ExecContext;
use crate::policy::Exec;

/// Runs `exec` in `cwd` (or the default directory).
pub async fn run(
    ctx: &ExecContext,
    exec: &Exec,
    cwd: Option<&Path>,
    timeout: Duration,
    cancel: &CancellationToken,
) -> TaskOutcome {
    let dir = match ctx.working_dir(cwd) {
        Ok(dir) => dir,
        Err(message) => return TaskOutcome::failure(message),
    };
    let (mut cmd, what) = match exec {
        Exec::Direct { program, argv } => {
            let Some((arg0, args)) = argv.split_first() else {
                return TaskOutcome::failure("the planned command is empty");
            };
            let mut cmd = ctx.command(program);
            // argv[0] as typed: a multi-call binary behaves by it, and the check matched it.
            cmd.arg0(arg0).args(args);
            (cmd, program.display().to_string())
        }
        Exec::Shell { command } => {
            let Some((program, prefix)) = ctx.shell.split_first() else {
                return TaskOutcome::failure("no shell configured");
            };
            let mut cmd = ctx.command(program);
            cmd.args(prefix).arg(command);
            (cmd, format!("shell {program}"))
        }
    };
    cmd.current_dir(dir);
    run_process(cmd, ctx.limits, timeout, cancel)
        .await
        .into_outcome(&what, timeout)
}
