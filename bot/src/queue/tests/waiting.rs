//! Waiting claims: a new task wakes one claim that can take it, never one that cannot, and
//! a wake-up its claim does not use is passed on, so no task is left queued while a claim
//! that could take it waits.

use openclaw_shared::TaskStatus;

use super::*;
use crate::queue::QueueError;

/// A task only `worker` may claim.
fn for_worker(text: &str, worker: &str) -> NewTask {
    NewTask {
        target_worker: Some(worker.into()),
        ..command(text)
    }
}

/// Starts a claim by `worker` for one task, waiting up to [`TEST_TIMEOUT`], and lets it
/// register before returning.
async fn waiting_claim(
    queue: &Queue,
    worker: &'static str,
) -> tokio::task::JoinHandle<Result<Vec<Claim>, QueueError>> {
    let queue = queue.clone();
    let claim = tokio::spawn(async move { queue.claim(worker, 1, TEST_TIMEOUT).await });
    // The tests run on one thread: this lets the claim run up to its wait.
    tokio::task::yield_now().await;
    claim
}

#[tokio::test]
async fn a_task_for_one_worker_wakes_that_worker_not_a_newer_claim_of_another() {
    within(async {
        let fx = open();
        let mac = waiting_claim(&fx.queue, "mac").await;
        let mini = waiting_claim(&fx.queue, "mini").await;

        let task = fx.queue.enqueue(for_worker("true", "mac")).await.unwrap();

        let claims = mac.await.unwrap().unwrap();
        assert_eq!(claims.len(), 1);
        assert_eq!(claims[0].task.id, task.id);
        assert!(!mini.is_finished(), "mini cannot take it and keeps waiting");
        mini.abort();
    })
    .await;
}

#[tokio::test]
async fn a_woken_claim_that_goes_away_passes_its_wake_up_on() {
    within(async {
        let fx = open();
        let older = waiting_claim(&fx.queue, "mac").await;
        let newer = waiting_claim(&fx.queue, "mac").await;

        // The newer claim is woken, but its long poll dies before it looks at the store.
        let task = fx.queue.enqueue(command("true")).await.unwrap();
        newer.abort();

        let claims = older.await.unwrap().unwrap();
        assert_eq!(claims.len(), 1, "the task must not sit queued");
        assert_eq!(claims[0].task.id, task.id);
        assert_eq!(
            fx.queue.get(task.id).await.unwrap().status,
            TaskStatus::Running
        );
    })
    .await;
}

#[tokio::test]
async fn a_claim_that_fills_its_slots_passes_on_what_it_could_not_take() {
    within(async {
        let fx = open();
        let first = waiting_claim(&fx.queue, "mac").await;
        let second = waiting_claim(&fx.queue, "mini").await;

        // Both land before either claim runs: each wakes one claim, and whichever looks
        // first takes one task (one slot) and leaves the other to the other claim.
        let a = fx.queue.enqueue(command("a")).await.unwrap();
        let b = fx.queue.enqueue(command("b")).await.unwrap();

        let mut ids: Vec<_> = [first.await, second.await]
            .into_iter()
            .flat_map(|claims| claims.unwrap().unwrap())
            .map(|claim| claim.task.id)
            .collect();
        ids.sort();
        let mut expected = vec![a.id, b.id];
        expected.sort();
        assert_eq!(ids, expected);
    })
    .await;
}

#[tokio::test]
async fn a_worker_past_its_open_claims_is_refused_and_others_are_not() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let settings = QueueSettings {
            max_waiting_claims_per_worker: 2,
            ..QueueSettings::default()
        };
        let queue = Queue::open(&dir.path().join("q.sqlite3"), settings).unwrap();
        let held = [
            waiting_claim(&queue, "mac").await,
            waiting_claim(&queue, "mac").await,
        ];

        let refused = queue.claim("mac", 1, TEST_TIMEOUT).await;
        let other = queue.claim("mini", 1, Duration::ZERO).await;

        assert!(
            matches!(refused, Err(QueueError::TooManyClaims { limit: 2, .. })),
            "{refused:?}"
        );
        assert!(other.unwrap().is_empty());
        let task = queue.enqueue(command("true")).await.unwrap();
        let [older, newer] = held;
        let claimed = newer.await.unwrap().unwrap();
        assert_eq!(claimed[0].task.id, task.id, "the held claims still work");
        older.abort();
    })
    .await;
}
