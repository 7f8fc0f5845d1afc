//! The binary's own checks, which need no server: it refuses to start without a policy it
//! can trust, and `doctor` shows what a task reaches and passes its live sandbox self-test.

use std::os::unix::fs::PermissionsExt;

use crate::helpers::{within_limit, E2eDirs, WorkerProcess};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_refuses_to_start_without_a_policy_it_can_trust() {
    within_limit(async {
        let dirs = E2eDirs::new();
        let url = "http://127.0.0.1:9";

        let mut missing = WorkerProcess::spawn(url, &dirs.home, &[]);
        let missing_exit = missing.exit_status().await;
        dirs.init_worker_starter();
        let policy = dirs.policy_path();
        std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o664)).unwrap();
        let mut writable = WorkerProcess::spawn(url, &dirs.home, &[]);
        let writable_exit = writable.exit_status().await;

        assert!(!missing_exit.success());
        assert!(
            missing.logged("run `openclaw-worker init`"),
            "{}",
            missing.log_text()
        );
        assert!(!writable_exit.success());
        assert!(
            writable.logged("writable by group or others"),
            "{}",
            writable.log_text()
        );
    })
    .await;
}

#[test]
fn doctor_shows_what_a_task_reaches_and_its_live_self_test_passes() {
    let dirs = E2eDirs::new();
    dirs.init_worker_starter();

    let doctor = dirs.cli(&["doctor"]);

    assert_eq!(doctor.code, Some(0), "{doctor:?}");
    let out = &doctor.stdout;
    assert!(out.contains("sandbox    landlock (ABI"), "{out}");
    assert!(out.contains("profile `allowed`, network off"), "{out}");
    assert!(
        out.contains("write  /dev/null, /dev/full, ~/Downloads/openclaw"),
        "{out}"
    );
    assert!(
        out.contains("ok     read") && out.contains("totp.secret"),
        "{out}"
    );
    assert!(out.contains("ok     create"), "{out}");
    assert!(!out.contains("FAILED"), "{out}");
}
