//! Leases: claims offer the oldest claimable tasks and wait for new ones; heartbeats answer
//! each lease; only the holder of the current lease stores a result, once.

use openclaw_shared::worker::LeaseState;
use openclaw_shared::{LeaseId, TaskId, TaskStatus};

use super::*;
use crate::queue::{Completion, QueueError};

#[tokio::test]
async fn enqueued_task_is_claimed_once_with_a_lease() {
    let fx = open();
    let task = fx.queue.enqueue(command("true")).await.unwrap();
    assert_eq!(task.status, TaskStatus::Queued);

    let claim = claim_one(&fx.queue, "mac").await;
    let again = fx.queue.claim("mac", 4, Duration::ZERO).await.unwrap();

    assert_eq!(claim.task.id, task.id);
    assert_eq!(claim.task.status, TaskStatus::Running);
    assert_eq!(claim.task.worker.as_deref(), Some("mac"));
    assert!(claim.task.started_at.is_some());
    assert!(again.is_empty());
}

#[tokio::test]
async fn claim_takes_oldest_first_and_at_most_slots() {
    let fx = open();
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            fx.queue
                .enqueue(command(&format!("echo {n}")))
                .await
                .unwrap()
                .id,
        );
    }

    let first = fx.queue.claim("mac", 3, Duration::ZERO).await.unwrap();
    let rest = fx.queue.claim("mac", 3, Duration::ZERO).await.unwrap();

    let first: Vec<_> = first.iter().map(|c| c.task.id).collect();
    let rest: Vec<_> = rest.iter().map(|c| c.task.id).collect();
    assert_eq!(first, ids[..3]);
    assert_eq!(rest, ids[3..]);
}

#[tokio::test]
async fn claim_waits_until_a_task_is_enqueued() {
    let fx = open();
    let queue = fx.queue.clone();
    let waiting =
        tokio::spawn(async move { queue.claim("mac", 1, Duration::from_secs(600)).await });
    tokio::task::yield_now().await;

    let task = fx.queue.enqueue(command("true")).await.unwrap();

    let claims = within(waiting).await.unwrap().unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].task.id, task.id);
}

#[tokio::test(start_paused = true)]
async fn claim_returns_empty_when_the_wait_runs_out() {
    let fx = open();

    let claims = fx
        .queue
        .claim("mac", 1, Duration::from_secs(25))
        .await
        .unwrap();

    assert!(claims.is_empty());
}

#[tokio::test]
async fn targeted_task_goes_only_to_its_worker() {
    let fx = open();
    let task = fx
        .queue
        .enqueue(NewTask {
            target_worker: Some("laptop".into()),
            ..command("true")
        })
        .await
        .unwrap();

    let other = fx.queue.claim("desktop", 1, Duration::ZERO).await.unwrap();
    let own = claim_one(&fx.queue, "laptop").await;

    assert!(other.is_empty());
    assert_eq!(own.task.id, task.id);
}

#[tokio::test]
async fn heartbeat_for_a_lease_not_held_is_gone() {
    let fx = open();
    let task = fx.queue.enqueue(command("true")).await.unwrap();
    let claim = claim_one(&fx.queue, "mac").await;

    let reports = fx
        .queue
        .heartbeat(
            "intruder",
            &[
                HeldLease {
                    task_id: task.id,
                    lease: claim.lease,
                },
                HeldLease {
                    task_id: TaskId::new(),
                    lease: LeaseId::new(),
                },
            ],
        )
        .await
        .unwrap();

    assert_eq!(reports.len(), 2);
    assert!(reports.iter().all(|r| r.state == LeaseState::Gone));
}

#[tokio::test]
async fn complete_stores_the_result_and_wakes_the_waiter() {
    let fx = open();
    let task = fx.queue.enqueue(command("echo hi")).await.unwrap();
    let claim = claim_one(&fx.queue, "mac").await;
    let queue = fx.queue.clone();
    let waiter =
        tokio::spawn(async move { queue.wait_finished(task.id, Duration::from_secs(600)).await });
    tokio::task::yield_now().await;

    let done = fx
        .queue
        .complete(task.id, "mac", claim.lease, succeeded("hi\n"))
        .await
        .unwrap();

    assert_eq!(done, Completion::Stored);
    let finished = within(waiter).await.unwrap().unwrap();
    assert_eq!(finished.status, TaskStatus::Succeeded);
    assert_eq!(finished.outcome, Some(succeeded("hi\n")));
    assert!(finished.completed_at.is_some());
}

#[tokio::test]
async fn same_result_twice_is_a_duplicate_and_a_different_one_conflicts() {
    let fx = open();
    let task = fx.queue.enqueue(command("echo hi")).await.unwrap();
    let claim = claim_one(&fx.queue, "mac").await;
    fx.queue
        .complete(task.id, "mac", claim.lease, succeeded("hi\n"))
        .await
        .unwrap();

    let again = fx
        .queue
        .complete(task.id, "mac", claim.lease, succeeded("hi\n"))
        .await
        .unwrap();
    let different = fx
        .queue
        .complete(task.id, "mac", claim.lease, succeeded("forged"))
        .await;

    assert_eq!(again, Completion::Duplicate);
    assert!(matches!(
        different,
        Err(QueueError::Conflict {
            status: TaskStatus::Succeeded,
            ..
        })
    ));
    let stored = fx.queue.get(task.id).await.unwrap();
    assert_eq!(stored.outcome, Some(succeeded("hi\n")));
}

#[tokio::test]
async fn results_without_the_current_lease_change_nothing() {
    let fx = open();
    let task = fx.queue.enqueue(command("echo hi")).await.unwrap();
    let claim = claim_one(&fx.queue, "mac").await;

    let unknown = fx
        .queue
        .complete(TaskId::new(), "mac", claim.lease, succeeded("x"))
        .await;
    let other_worker = fx
        .queue
        .complete(task.id, "intruder", claim.lease, succeeded("x"))
        .await;
    let wrong_lease = fx
        .queue
        .complete(task.id, "mac", LeaseId::new(), succeeded("x"))
        .await;

    assert!(matches!(unknown, Err(QueueError::NotFound(_))));
    assert!(matches!(other_worker, Err(QueueError::NotHolder(_))));
    assert!(matches!(wrong_lease, Err(QueueError::LeaseMismatch(_))));
    let stored = fx.queue.get(task.id).await.unwrap();
    assert_eq!(stored.status, TaskStatus::Running);
    assert_eq!(stored.outcome, None);
}

#[tokio::test]
async fn result_for_a_queued_task_is_refused() {
    let fx = open();
    let task = fx.queue.enqueue(command("echo hi")).await.unwrap();

    let forged = fx
        .queue
        .complete(task.id, "mac", LeaseId::new(), succeeded("x"))
        .await;

    assert!(matches!(forged, Err(QueueError::NotHolder(_))));
    assert_eq!(
        fx.queue.get(task.id).await.unwrap().status,
        TaskStatus::Queued
    );
}
