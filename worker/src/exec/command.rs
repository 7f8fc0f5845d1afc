//! `command` tasks, run as the policy planned them. A simple command spawns its resolved
//! program directly with the checked argv (no shell: no alias, function or startup file
//! can change what runs). Shell syntax, which only ever runs after the owner approved it,
//! goes to the configured shell as ONE argument, never re-quoted.

use std::time::Duration;

use openclaw_shared::TaskOutcome;
use tokio_util::sync::CancellationToken;

use std::path::Path;

use super::process::run_process;
use super::ExecContext;
use crate::policy::{Exec, Plan};

/// Runs the plan's command in its working directory (or the default one), in its sandbox.
pub async fn run(
    ctx: &ExecContext,
    plan: &Plan,
    timeout: Duration,
    cancel: &CancellationToken,
) -> TaskOutcome {
    let Some(exec) = &plan.exec else {
        return TaskOutcome::failure("the policy planned nothing to run");
    };
    let dir = match ctx.working_dir(plan.cwd.as_deref()) {
        Ok(dir) => dir,
        Err(message) => return TaskOutcome::failure(message),
    };
    let built = match exec {
        Exec::Direct { program, argv } => {
            let Some((arg0, args)) = argv.split_first() else {
                return TaskOutcome::failure("the planned command is empty");
            };
            // argv[0] as typed: a multi-call binary behaves by it, and the check matched it.
            ctx.command(plan, program, Some(arg0), args)
                .map(|cmd| (cmd, program.display().to_string()))
        }
        Exec::Shell { command } => {
            let Some((program, prefix)) = ctx.shell.split_first() else {
                return TaskOutcome::failure("no shell configured");
            };
            let mut args: Vec<&str> = prefix.iter().map(String::as_str).collect();
            args.push(command);
            ctx.command(plan, Path::new(program), None, &args)
                .map(|cmd| (cmd, format!("shell {program}")))
        }
    };
    let (mut cmd, what) = match built {
        Ok(built) => built,
        Err(message) => return TaskOutcome::failure(format!("{message}; nothing ran")),
    };
    cmd.current_dir(dir);
    run_process(cmd, plan.sandbox.as_ref(), ctx.limits, timeout, cancel)
        .await
        .into_outcome(&what, timeout)
}
