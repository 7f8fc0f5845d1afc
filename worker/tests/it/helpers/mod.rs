//! Shared test helpers: executor context over a temp dir and claimed tasks for the
//! in-process tests; for the binary's tests, a scripted fake server ([`fake_server`]) and
//! the worker-binary harness shared with the end-to-end tests ([`openclaw_e2e`]).

mod fake_server;

pub use fake_server::*;
pub use openclaw_e2e::{
    process_running, unique_sleep, wait_for, within_limit, write_script, E2eDirs, WorkerProcess,
    OPEN_POLICY,
};

use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration;

use openclaw_shared::worker::ClaimedTask;
use openclaw_shared::{LeaseId, TaskId, TaskOutcome, TaskSpec};
use openclaw_worker::exec::{self, ExecContext};
use openclaw_worker::pipeline::denied;
use openclaw_worker::policy::{check, CheckEnv, Plan, Policy};
use openclaw_worker::Config;
use tokio_util::sync::CancellationToken;

/// `TEST_LOG=1` shows the in-process worker's logs (the binary's are echoed by
/// [`WorkerProcess`]).
static LOGS: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        openclaw_worker::telemetry::init("debug");
    }
});

/// Turns on logs when `TEST_LOG` is set.
pub fn init_logs() {
    LazyLock::force(&LOGS);
}

/// Executor context whose default directory is `dir`, with a short kill grace.
pub fn exec_ctx(dir: &Path) -> ExecContext {
    init_logs();
    let mut ctx = ExecContext::from_config(&Config::default());
    ctx.shell = vec!["/bin/sh".into(), "-c".into()];
    ctx.default_cwd = dir.to_owned();
    ctx.limits.kill_grace = Duration::from_secs(1);
    ctx
}

/// The plan the default policy makes of `spec`, with `~` and relative paths meaning the
/// context's default directory. The executor tests run plans whatever the verdict: they
/// test execution; the verdicts are tested end to end and in the policy's unit tests.
pub fn plan_for(ctx: &ExecContext, spec: &TaskSpec) -> Plan {
    let env = CheckEnv {
        home: ctx.default_cwd.clone(),
        default_cwd: ctx.default_cwd.clone(),
        path: std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect(),
    };
    check(&Policy::default(), spec, &env).plan
}

/// A task as the server would hand it out.
pub fn claimed(spec: TaskSpec, timeout_ms: u64) -> ClaimedTask {
    ClaimedTask {
        id: TaskId::new(),
        lease: LeaseId::new(),
        spec,
        timeout_ms,
        lease_ttl_ms: 60_000,
        offer_ttl_ms: 10_000,
        created_at: 0,
    }
}

/// Runs `spec`, as planned by [`plan_for`], through the real executor seam. A spec the
/// check could not plan at all (e.g. undecodable content) is refused as the pipeline
/// would, without running anything.
pub async fn run(ctx: &ExecContext, spec: TaskSpec, timeout_ms: u64) -> TaskOutcome {
    let task = claimed(spec, timeout_ms);
    let plan = plan_for(ctx, &task.spec);
    if plan == Plan::default() {
        return denied("the policy could not plan this task");
    }
    within_limit(exec::execute(ctx, &task, &plan, CancellationToken::new())).await
}

/// A shell command task.
pub fn command(command: &str) -> TaskSpec {
    TaskSpec::Command {
        command: command.into(),
        cwd: None,
    }
}
