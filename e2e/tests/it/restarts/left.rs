//! Spool entries a worker left at each point before a supervisor ran its task: handed to
//! none (or to one that never took it), and taken by one that died with it. The next worker
//! reports them, saying what is known, and runs neither.

use std::fs;
use std::path::Path;

use openclaw_shared::client::TaskView;
use openclaw_shared::worker::ClaimedTask;
use openclaw_worker::exec::job::{ProcessJob, JOB_VERSION};
use openclaw_worker::policy::Verdict;
use openclaw_worker::sandbox::Invocation;
use openclaw_worker::spool::TaskRecord;

use super::{spool_is_empty, stack};
use crate::helpers::{wait_for, within_limit, E2eDirs, WorkerProcess};

/// Writes task `task`'s spool directory in `dirs`'s state as a worker that stopped at a
/// given point would have left it: the record, a job that would create `marker`, and a lock
/// file holding `pid` (empty: no supervisor ever took the task).
fn leave_in_spool(dirs: &E2eDirs, task: &ClaimedTask, marker: &Path, pid: &str) {
    let dir = dirs.state_dir().join("spool").join(task.id.to_string());
    fs::create_dir_all(&dir).unwrap();
    let record = TaskRecord {
        task: task.clone(),
        verdict: Verdict::Allow,
        rule: "commands.allow[0]".into(),
        reason: "allowed".into(),
        approval: None,
    };
    fs::write(dir.join("task.json"), serde_json::to_vec(&record).unwrap()).unwrap();
    let job = ProcessJob {
        version: JOB_VERSION,
        invocation: Invocation {
            program: "/usr/bin/touch".into(),
            arg0: None,
            args: vec![marker.as_os_str().to_owned()],
        },
        env: Vec::new(),
        cwd: "/".into(),
        sandbox: None,
        max_output_bytes: 1024,
        kill_grace_ms: 1_000,
        timeout_ms: 10_000,
        what: "/usr/bin/touch".into(),
        live_output_bytes: 0,
    };
    fs::write(dir.join("job.json"), serde_json::to_vec(&job).unwrap()).unwrap();
    fs::write(dir.join("lock"), pid).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_left_before_its_process_started_or_with_its_supervisor_gone_never_runs() {
    within_limit(async {
        let (dirs, bot) = stack(60).await;
        let never = bot.command("true").await;
        let lost = bot.command("true").await;
        let claimed = bot.claim_and_accept("e2e-mac").await;
        let task = |id| claimed.iter().find(|t| t.id == id).unwrap();
        let (never_marker, lost_marker) = (dirs.home.join("never"), dirs.home.join("lost"));
        // Handed to a supervisor that never took it; taken by one that died with it.
        leave_in_spool(&dirs, task(never), &never_marker, "");
        leave_in_spool(&dirs, task(lost), &lost_marker, "999999\n");

        let mut worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        let never = bot.finished(never).await;
        let lost = bot.finished(lost).await;

        assert_eq!(never.status, "failed", "{never:?}");
        let why = |view: &TaskView| view.error.clone().flatten().unwrap_or_default();
        assert!(why(&never).contains("nothing ran"), "{never:?}");
        assert_eq!(lost.status, "failed", "{lost:?}");
        assert!(why(&lost).contains("unknown"), "{lost:?}");
        assert!(never.metadata.unwrap()["audit"]["count"].is_u64());
        assert!(
            !never_marker.exists() && !lost_marker.exists(),
            "nothing ran again"
        );
        wait_for("the spool to empty", || spool_is_empty(&dirs)).await;
        worker.terminate();
        assert!(worker.exit_status().await.success());
        bot.stop().await;
    })
    .await;
}
