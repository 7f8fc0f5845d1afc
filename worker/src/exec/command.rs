//! `command` tasks, run as the policy planned them. A simple command spawns its resolved
//! program directly with the checked argv (no shell: no alias, function or startup file
//! can change what runs). Shell syntax, which only ever runs after the owner approved it,
//! goes to the configured shell as ONE argument, never re-quoted.

use std::path::Path;
use std::time::Duration;

use openclaw_shared::TaskOutcome;
use tokio_util::sync::CancellationToken;

use super::ExecContext;
use crate::policy::{Exec, Plan};
use crate::spool::TaskSpool;

/// Runs the plan's command in its working directory (or the default one), in its sandbox;
/// under a supervisor when the task is spooled.
pub async fn run(
    ctx: &ExecContext,
    plan: &Plan,
    timeout: Duration,
    cancel: &CancellationToken,
    spool: Option<&TaskSpool>,
) -> TaskOutcome {
    let Some(exec) = &plan.exec else {
        return TaskOutcome::failure("the policy planned nothing to run");
    };
    let dir = match ctx.working_dir(plan.cwd.as_deref()) {
        Ok(dir) => dir,
        Err(message) => return TaskOutcome::failure(message),
    };
    let job = match exec {
        Exec::Direct { program, argv } => {
            let Some((arg0, args)) = argv.split_first() else {
                return TaskOutcome::failure("the planned command is empty");
            };
            // argv[0] as typed: a multi-call binary behaves by it, and the check matched it.
            let what = program.display().to_string();
            ctx.job(plan, program, Some(arg0), args, dir, what, timeout)
        }
        Exec::Shell { command } => {
            let Some((program, prefix)) = ctx.shell.split_first() else {
                return TaskOutcome::failure("no shell configured");
            };
            let mut args: Vec<&str> = prefix.iter().map(String::as_str).collect();
            args.push(command);
            let what = format!("shell {program}");
            ctx.job(plan, Path::new(program), None, &args, dir, what, timeout)
        }
    };
    let job = match job {
        Ok(job) => job,
        Err(message) => return TaskOutcome::failure(format!("{message}; nothing ran")),
    };
    ctx.run_job(&job, spool, cancel)
        .await
        .into_outcome(&job.what, timeout, ctx.redactor.as_deref())
}
