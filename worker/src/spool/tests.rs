//! The spool's files and what a starting worker reads from them, on a real directory.

use std::os::unix::fs::PermissionsExt;

use openclaw_shared::worker::ClaimedTask;
use openclaw_shared::{LeaseId, TaskId, TaskOutcome, TaskSpec};

use super::*;

fn record(id: TaskId) -> TaskRecord {
    TaskRecord {
        task: ClaimedTask {
            id,
            lease: LeaseId::new(),
            spec: TaskSpec::Command {
                command: "true".into(),
                cwd: None,
            },
            timeout_ms: 1_000,
            lease_ttl_ms: 60_000,
            offer_ttl_ms: 10_000,
            created_at: 0,
        },
        verdict: Verdict::Allow,
        rule: "commands.allow[0]".into(),
        reason: "allowed".into(),
        approval: None,
    }
}

#[test]
fn a_task_directory_is_private_and_read_back_by_id() {
    let state = tempfile::tempdir().unwrap();
    let spool = Spool::open(state.path()).unwrap();
    let id = TaskId::new();
    let task = spool.task(id);
    let written = record(id);

    task.begin(&written).unwrap();
    std::fs::create_dir(state.path().join("spool/not-a-task")).unwrap();

    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&state.path().join("spool")), 0o700);
    assert_eq!(mode(task.dir()), 0o700);
    assert_eq!(mode(&task.dir().join("task.json")), 0o600);
    assert_eq!(task.record(), Some(written));
    let found: Vec<TaskId> = spool.tasks().unwrap().iter().map(TaskSpool::id).collect();
    assert_eq!(found, vec![id]);
    assert!(task.begin(&record(id)).is_err(), "never reused");
    spool.remove(id);
    assert!(!task.dir().exists());
}

#[test]
fn the_state_follows_the_files_a_task_left() {
    let state = tempfile::tempdir().unwrap();
    let spool = Spool::open(state.path()).unwrap();
    let id = TaskId::new();
    let task = spool.task(id);
    task.begin(&record(id)).unwrap();

    let interrupted = task.state();
    std::fs::write(task.lock_file(), b"").unwrap();
    let locked_by_nobody = task.state();
    std::fs::write(task.lock_file(), b"4242\n").unwrap();
    let lost = task.state();
    let held = File::open(task.lock_file()).unwrap();
    rustix::fs::flock(&held, rustix::fs::FlockOperation::LockExclusive).unwrap();
    let running = task.state();
    drop(held);
    std::fs::write(task.result_file(), b"whatever").unwrap();
    let ended = task.state();
    task.keep_outcome(&TaskOutcome::failure("x")).unwrap();
    let reported = task.state();

    assert!(matches!(interrupted, SpoolState::Interrupted));
    assert!(matches!(locked_by_nobody, SpoolState::Interrupted));
    assert!(matches!(lost, SpoolState::SupervisorLost));
    assert!(matches!(running, SpoolState::Running));
    assert_eq!(task.supervisor_pid(), Some(4242));
    assert!(matches!(ended, SpoolState::Ended));
    assert!(
        matches!(reported, SpoolState::Reported(outcome) if outcome == TaskOutcome::failure("x"))
    );
}

#[test]
fn a_file_cut_short_counts_as_absent() {
    let state = tempfile::tempdir().unwrap();
    let spool = Spool::open(state.path()).unwrap();
    let id = TaskId::new();
    let task = spool.task(id);
    task.begin(&record(id)).unwrap();
    std::fs::write(task.dir().join("outcome.json"), b"{\"status\":").unwrap();

    let state = task.state();

    assert!(matches!(state, SpoolState::Interrupted));
    std::fs::write(task.dir().join("task.json"), b"{\"task\":").unwrap();
    assert_eq!(task.record(), None);
}
