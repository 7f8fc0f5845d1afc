//! What a hostile or broken server can do to the claim loop, against a scripted fake
//! server and the real worker binary: results it never acknowledges stop the claims once
//! they fill the worker's slots, a streak of denied tasks slows the claims down, and an
//! answer larger than any real one is refused before it fills the worker's memory.

use std::time::Duration;

use openclaw_shared::TaskSpec;
use openclaw_worker::poll::DENIED_STREAK_SLOWDOWN;

use crate::helpers::{
    command, wait_for, within_limit, E2eDirs, FakeServer, Results, WorkerProcess, OPEN_POLICY,
};

/// A task [`OPEN_POLICY`] denies at once (a built-in deny path), running nothing.
fn denied_task() -> TaskSpec {
    TaskSpec::FileRead {
        path: "~/.ssh/id_rsa".into(),
    }
}

/// The real worker in a fresh home under [`OPEN_POLICY`], polling `fake`, with
/// `max_concurrent` slots.
fn worker_for(fake: &FakeServer, max_concurrent: &str) -> (E2eDirs, WorkerProcess) {
    let dirs = E2eDirs::worker_outside_home();
    dirs.init_worker(OPEN_POLICY);
    let worker = WorkerProcess::spawn(
        fake.url(),
        &dirs.home,
        &[("OPENCLAW_WORKER_MAX_CONCURRENT", max_concurrent)],
    );
    (dirs, worker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_acknowledges_gets_no_more_claims_once_the_results_fill_the_slots() {
    within_limit(async {
        let tasks = vec![command("true"); 50];
        let fake = FakeServer::start(tasks, Results::NeverAcknowledged).await;
        let (_dirs, worker) = worker_for(&fake, "2");

        wait_for("two results being retried", || fake.result_posts() >= 4).await;
        // At full speed a claim takes milliseconds: three seconds is many rounds.
        tokio::time::sleep(Duration::from_secs(3)).await;

        assert_eq!(fake.handed_out().len(), 2, "{}", worker.log_text());
        assert!(fake.slots_asked().iter().all(|&slots| slots <= 2));
        assert!(worker.logged("result delivery failed"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streak_of_denied_tasks_slows_claims_until_a_task_is_not_denied() {
    within_limit(async {
        let streak = usize::try_from(DENIED_STREAK_SLOWDOWN).unwrap();
        let mut tasks = vec![denied_task(); streak + 1];
        tasks.extend([command("true"), command("true")]);
        let fake = FakeServer::start(tasks, Results::Acknowledged).await;
        let (_dirs, worker) = worker_for(&fake, "1");

        wait_for("every task handed out", || {
            fake.handed_out().len() == streak + 3
        })
        .await;
        worker.wait_for_log("claiming at full speed again").await;

        let times = fake.handed_out();
        let gap = |n: usize| times[n] - times[n - 1];
        let before = (1..streak).map(gap).max().unwrap();
        assert!(
            before < Duration::from_millis(900),
            "{before:?} before the streak"
        );
        // After the 10th denial: 1 s; after the 11th: 2 s; after a task that ran: none.
        assert!(gap(streak) >= Duration::from_secs(1), "{:?}", gap(streak));
        assert!(
            gap(streak + 1) >= Duration::from_secs(2),
            "{:?}",
            gap(streak + 1)
        );
        assert!(
            gap(streak + 2) < Duration::from_millis(900),
            "{:?}",
            gap(streak + 2)
        );
        let logs = worker.log_text();
        assert_eq!(logs.matches("slowing claims").count(), 1, "{logs}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_answer_larger_than_any_real_one_is_refused_unread() {
    within_limit(async {
        // Valid JSON, padded past what one slot may receive: a server that can send this can
        // send gigabytes, and the worker would hold them all in memory before parsing.
        let padding = openclaw_worker::client::MAX_CLAIM_BYTES_PER_SLOT + 1;
        let dirs = E2eDirs::worker_outside_home();
        dirs.file("inbox/.keep", b"");
        let marker = dirs.home.join("inbox/padded-task-ran");
        let tasks = vec![
            command(&format!("touch {}", marker.display())),
            command("true"),
        ];
        let fake = FakeServer::start_padded(tasks, Results::Acknowledged, padding).await;
        dirs.init_worker(OPEN_POLICY);
        let worker = WorkerProcess::spawn(
            fake.url(),
            &dirs.home,
            &[("OPENCLAW_WORKER_MAX_CONCURRENT", "1")],
        );

        // The worker goes on claiming, and runs the next, ordinary, task.
        wait_for("the next task's result", || fake.result_posts() >= 1).await;

        assert!(!marker.exists(), "the padded task ran");
        assert!(worker.logged("an answer over"), "{}", worker.log_text());
        assert_eq!(fake.result_posts(), 1);
    })
    .await;
}
