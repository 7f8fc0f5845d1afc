//! Claim offers: a claimed task the worker never accepts goes back to the queue; an
//! accepted one whose lease lapses is lost; a stale lease is refused either way.

use openclaw_shared::worker::LeaseState;
use openclaw_shared::{EpochMillis, TaskStatus};

use super::*;
use crate::queue::clock::duration_millis;
use crate::queue::{Completion, QueueError, SweepReport, TaskEvent};

/// When the offer of `claim` runs out.
fn offer_end(claim: &Claim) -> EpochMillis {
    claim.task.started_at.unwrap() + duration_millis(claim.offer_ttl)
}

#[tokio::test]
async fn an_unaccepted_claim_goes_back_to_the_queue_when_its_offer_runs_out() {
    let fx = open();
    let task = fx.queue.enqueue(command("sleep 100")).await.unwrap();
    let claim = claim_one(&fx.queue, "mac").await;
    let mut events = fx.queue.subscribe();

    let early = fx.queue.sweep(offer_end(&claim) - 1).await.unwrap();
    let late = fx.queue.sweep(offer_end(&claim)).await.unwrap();
    let requeued = fx.queue.get(task.id).await.unwrap();
    let again = claim_one(&fx.queue, "laptop").await;

    assert_eq!(early, SweepReport::default());
    assert_eq!(late.requeued, 1);
    assert_eq!(late.lost, 0, "the worker never started it: not lost");
    assert_eq!(requeued.status, TaskStatus::Queued);
    assert_eq!(requeued.worker, None);
    assert_eq!(requeued.started_at, None);
    assert_eq!(requeued.outcome, None);
    assert_eq!(
        events.recv().await.unwrap(),
        TaskEvent::Queued { id: task.id }
    );
    assert_eq!(again.task.id, task.id);
    assert_ne!(again.lease, claim.lease);
    assert_eq!(again.task.worker.as_deref(), Some("laptop"));
}

#[tokio::test]
async fn a_requeued_task_can_be_claimed_again_by_the_same_worker() {
    let fx = open();
    let task = fx.queue.enqueue(command("true")).await.unwrap();
    let first = claim_one(&fx.queue, "mac").await;
    fx.queue.sweep(offer_end(&first)).await.unwrap();

    let second = claim_one(&fx.queue, "mac").await;
    let beat = fx
        .queue
        .heartbeat("mac", &[held(&first), held(&second)])
        .await
        .unwrap();

    assert_eq!(second.task.id, task.id);
    assert_eq!(
        beat[0].state,
        LeaseState::Gone,
        "the old offer is withdrawn"
    );
    assert_eq!(beat[1].state, LeaseState::Active);
}

#[tokio::test]
async fn a_requeue_wakes_a_waiting_claim() {
    within(async {
        let fx = open();
        let task = fx.queue.enqueue(command("true")).await.unwrap();
        let first = claim_one(&fx.queue, "mac").await;
        let waiting = {
            let queue = fx.queue.clone();
            tokio::spawn(async move { queue.claim("laptop", 1, TEST_TIMEOUT).await })
        };
        // Let the claim start waiting; if it has not yet, it finds the task right away.
        tokio::task::yield_now().await;

        fx.queue.sweep(offer_end(&first)).await.unwrap();
        let claims = waiting.await.unwrap().unwrap();

        assert_eq!(claims.len(), 1);
        assert_eq!(claims[0].task.id, task.id);
    })
    .await
}

#[tokio::test]
async fn an_accepted_claim_is_not_requeued_when_the_offer_would_have_run_out() {
    let fx = open();
    let task = fx.queue.enqueue(command("sleep 100")).await.unwrap();
    let claim = claim_one(&fx.queue, "mac").await;
    fx.queue.heartbeat("mac", &[held(&claim)]).await.unwrap();

    let report = fx.queue.sweep(offer_end(&claim)).await.unwrap();

    assert_eq!(report, SweepReport::default());
    assert_eq!(
        fx.queue.get(task.id).await.unwrap().status,
        TaskStatus::Running
    );
}

#[tokio::test]
async fn a_result_under_the_lease_of_a_requeued_offer_is_refused_and_changes_nothing() {
    let fx = open();
    let task = fx.queue.enqueue(command("echo hi")).await.unwrap();
    let stale = claim_one(&fx.queue, "mac").await;
    fx.queue.sweep(offer_end(&stale)).await.unwrap();

    let while_queued = fx
        .queue
        .complete(task.id, "mac", stale.lease, succeeded("forged"))
        .await;
    let queued = fx.queue.get(task.id).await.unwrap();
    let current = claim_one(&fx.queue, "mac").await;
    let while_reclaimed = fx
        .queue
        .complete(task.id, "mac", stale.lease, succeeded("forged"))
        .await;
    let reclaimed = fx.queue.get(task.id).await.unwrap();

    assert!(matches!(while_queued, Err(QueueError::NotHolder(_))));
    assert_eq!(queued.status, TaskStatus::Queued);
    assert_eq!(queued.outcome, None);
    assert!(matches!(while_reclaimed, Err(QueueError::LeaseMismatch(_))));
    assert_eq!(reclaimed.status, TaskStatus::Running);
    assert_eq!(reclaimed.outcome, None);
    assert_ne!(current.lease, stale.lease);
}

#[tokio::test]
async fn a_result_from_the_holder_of_a_standing_offer_is_stored() {
    let fx = open();
    let task = fx.queue.enqueue(command("echo hi")).await.unwrap();
    let claim = claim_one(&fx.queue, "mac").await;

    let stored = fx
        .queue
        .complete(task.id, "mac", claim.lease, succeeded("hi\n"))
        .await
        .unwrap();
    let report = fx.queue.sweep(offer_end(&claim)).await.unwrap();

    assert_eq!(stored, Completion::Stored);
    assert_eq!(report.requeued, 0, "a finished task is never requeued");
    assert_eq!(
        fx.queue.get(task.id).await.unwrap().status,
        TaskStatus::Succeeded
    );
}

#[tokio::test]
async fn an_unaccepted_claim_cancelled_meanwhile_ends_cancelled_instead_of_requeued() {
    let fx = open();
    let task = fx.queue.enqueue(command("sleep 100")).await.unwrap();
    let claim = claim_one(&fx.queue, "mac").await;
    fx.queue.cancel(task.id).await.unwrap();

    let report = fx.queue.sweep(offer_end(&claim)).await.unwrap();
    let ended = fx.queue.get(task.id).await.unwrap();

    assert_eq!(report.requeued, 0);
    assert_eq!(ended.status, TaskStatus::Cancelled);
    assert!(ended.outcome.unwrap().error.unwrap().contains("cancelled"));
    assert!(fx
        .queue
        .claim("mac", 1, Duration::ZERO)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn tasks_running_at_the_upgrade_to_offers_count_as_accepted() {
    let fx = open();
    let task = fx.queue.enqueue(command("sleep 100")).await.unwrap();
    let claim = claim_one(&fx.queue, "mac").await;
    drop(fx.queue);
    // Back to the schema and lease before offers, as a database from the previous release.
    let conn = rusqlite::Connection::open(&fx.path).unwrap();
    conn.execute_batch(super::UNDO_WEBHOOKS).unwrap();
    conn.execute_batch(
        "ALTER TABLE tasks DROP COLUMN accepted_at; ALTER TABLE tasks DROP COLUMN summary; \
         PRAGMA user_version = 3; \
         DROP INDEX tasks_by_owner; ALTER TABLE tasks DROP COLUMN owner; \
         UPDATE tasks SET lease_expires_at = started_at + 60000;",
    )
    .unwrap();
    drop(conn);

    let upgraded = Queue::open(&fx.path, QueueSettings::default()).unwrap();
    let at_offer_end = upgraded.sweep(offer_end(&claim)).await.unwrap();
    // Past its lease, and past the one TTL a reopened queue gives workers to be heard from.
    let lease_end = crate::queue::now_millis() + duration_millis(claim.lease_ttl);
    let at_lease_end = upgraded.sweep(lease_end).await.unwrap();

    assert_eq!(
        at_offer_end,
        SweepReport::default(),
        "its worker may be running it"
    );
    assert_eq!(at_lease_end.lost, 1);
    assert_eq!(
        upgraded.get(task.id).await.unwrap().status,
        TaskStatus::Lost
    );
}
