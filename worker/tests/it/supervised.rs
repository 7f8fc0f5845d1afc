//! Processes under a supervisor (the real worker binary as `openclaw-worker supervise`)
//! end exactly as they do in the worker: same output, caps, exit codes, timeouts and
//! cancels; and the supervisor leaves its record in the task's spool directory.

use std::time::Duration;

use openclaw_shared::{OutcomeStatus, TaskOutcome, TaskSpec};
use openclaw_worker::exec::supervisor::Supervisor;
use openclaw_worker::exec::{self, ExecContext};
use openclaw_worker::policy::Verdict;
use openclaw_worker::spool::{Spool, SpoolState, TaskRecord, TaskSpool};
use tokio_util::sync::CancellationToken;

use crate::helpers::{
    claimed, command, exec_ctx, plan_for, process_running, run, unique_sleep, wait_for,
    within_limit,
};

/// Runs `spec` under a supervisor with `ctx` (a new one, unless `ctx` has supervisors
/// already), its spool in `state`; returns the outcome and the task's spool directory.
async fn supervised(
    ctx: &ExecContext,
    state: &std::path::Path,
    spec: TaskSpec,
    timeout_ms: u64,
    cancel: CancellationToken,
) -> (TaskOutcome, TaskSpool) {
    let mut ctx = ctx.clone();
    if ctx.supervisor.is_none() {
        ctx.supervisor = Some(Supervisor::at(openclaw_e2e::worker_bin()));
    }
    let task = claimed(spec, timeout_ms);
    let plan = plan_for(&ctx, &task.spec);
    let spool = Spool::open(state).unwrap().task(task.id);
    spool
        .begin(&TaskRecord {
            task: task.clone(),
            verdict: Verdict::Allow,
            rule: "test".into(),
            reason: "test".into(),
            approval: None,
        })
        .unwrap();
    let outcome = within_limit(exec::execute_spooled(
        &ctx,
        &task,
        &plan,
        cancel,
        Some(&spool),
    ))
    .await;
    (outcome, spool)
}

/// The outcome without what differs from run to run.
fn comparable(mut outcome: TaskOutcome) -> TaskOutcome {
    outcome.duration_ms = 0;
    outcome
}

#[tokio::test]
async fn a_supervised_process_ends_exactly_as_one_run_in_the_worker() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let mut ctx = exec_ctx(dir.path());
    ctx.limits.max_output_bytes = 1_000;
    let cases = [
        (command("echo hello; echo oops >&2; exit 3"), 10_000),
        (command("printf ok"), 10_000),
        (command("head -c 50000 /dev/zero | tr '\\0' x"), 10_000),
        (command("kill -9 $$"), 10_000),
        (command("echo started; sleep 5"), 300),
    ];

    for (spec, timeout_ms) in cases {
        let plain = run(&ctx, spec.clone(), timeout_ms).await;
        let (under, spool) = supervised(
            &ctx,
            state.path(),
            spec.clone(),
            timeout_ms,
            CancellationToken::new(),
        )
        .await;

        assert_eq!(comparable(under), comparable(plain), "{spec:?}");
        // It said `done` just before it exits (and lets go of the lock).
        wait_for("the supervisor to exit", || {
            matches!(spool.state(), SpoolState::Ended)
        })
        .await;
        assert!(spool.supervisor_pid().is_some_and(|pid| pid > 1));
    }
}

#[tokio::test]
async fn a_cancel_reaches_the_supervised_process_and_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let ctx = exec_ctx(dir.path());
    let marker = unique_sleep();
    let cancel = CancellationToken::new();

    let running = tokio::spawn({
        let (ctx, state, cancel) = (ctx.clone(), state.path().to_owned(), cancel.clone());
        let spec = command(&format!("sleep {marker} & wait"));
        async move { supervised(&ctx, &state, spec, 60_000, cancel).await }
    });
    wait_for("the process to start", || process_running(&marker)).await;
    cancel.cancel();
    let (outcome, _spool) = running.await.unwrap();

    assert_eq!(outcome.status, OutcomeStatus::Cancelled, "{outcome:?}");
    assert!(!process_running(&marker));
}

#[tokio::test]
async fn the_supervisor_leaves_the_workers_session_and_outlives_it() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let ctx = exec_ctx(dir.path());
    let marker = unique_sleep();

    // The worker's side gives up at once (as a worker killed would): the supervisor and
    // its process go on, and the result is recorded all the same.
    let gate = dir.path().join("gate");
    let spec = command(&format!(
        ": {marker}; while [ ! -f {} ]; do sleep 0.02; done; echo survived",
        gate.display()
    ));
    let abandoned = tokio::time::timeout(
        Duration::from_millis(300),
        supervised(&ctx, state.path(), spec, 60_000, CancellationToken::new()),
    )
    .await;
    assert!(abandoned.is_err(), "the process should still run");
    let spool = Spool::open(state.path())
        .unwrap()
        .tasks()
        .unwrap()
        .remove(0);
    let pid = spool.supervisor_pid().unwrap();
    let session = |pid: i32| nix::unistd::getsid(Some(nix::unistd::Pid::from_raw(pid))).unwrap();

    assert_ne!(session(pid), nix::unistd::getsid(None).unwrap());
    assert!(matches!(spool.state(), SpoolState::Running));
    assert!(process_running(&marker));
    std::fs::write(&gate, "").unwrap();
    wait_for("the supervisor to record the end", || {
        matches!(spool.state(), SpoolState::Ended)
    })
    .await;
    let (output, _ran) = exec::supervisor::adopted_output(&spool).unwrap();
    assert_eq!(output.stdout.bytes, b"survived\n");
}

#[tokio::test]
async fn a_supervisor_takes_the_next_task_and_leaves_with_its_worker() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let mut ctx = exec_ctx(dir.path());
    ctx.supervisor = Some(Supervisor::at(openclaw_e2e::worker_bin()));
    let token = CancellationToken::new;

    let (first, one) = supervised(&ctx, state.path(), command("echo 1"), 10_000, token()).await;
    let (second, two) = supervised(&ctx, state.path(), command("echo 2"), 10_000, token()).await;
    let pid = one.supervisor_pid().unwrap();
    // The worker goes (its end of the supervisor's stdin closes with it).
    drop(ctx);

    assert_eq!(
        (first.stdout.as_str(), second.stdout.as_str()),
        ("1\n", "2\n")
    );
    assert_eq!(
        two.supervisor_pid(),
        Some(pid),
        "the same supervisor ran both"
    );
    let alive = || nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
    wait_for("the supervisor to leave", || !alive() || zombie(pid)).await;
}

/// Whether `pid` has exited and only waits to be reaped.
fn zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            stat.split(") ")
                .nth(1)
                .is_some_and(|rest| rest.starts_with('Z'))
        })
        .unwrap_or(true)
}
