//! The sweep: unclaimed tasks expire, lapsed accepted leases are lost, old results are
//! pruned. (Offers that lapse unaccepted are in `offers`.)

use openclaw_shared::worker::LeaseState;
use openclaw_shared::{LeaseId, TaskStatus};
use serde_json::json;

use super::*;
use crate::queue::clock::duration_millis;
use crate::queue::task::LATE_RESULT_KEY;
use crate::queue::{now_millis, Completion, QueueError, TaskEvent};

#[tokio::test]
async fn unclaimed_task_expires_after_its_ttl() {
    let fx = open();
    let task = fx.queue.enqueue(command("true")).await.unwrap();
    let ttl = duration_millis(fx.queue.settings().task_ttl);

    let early = fx.queue.sweep(task.created_at + ttl - 1).await.unwrap();
    let late = fx.queue.sweep(task.created_at + ttl).await.unwrap();

    assert_eq!(early.expired, 0);
    assert_eq!(late.expired, 1);
    let expired = fx.queue.get(task.id).await.unwrap();
    assert_eq!(expired.status, TaskStatus::Expired);
    assert!(expired.outcome.unwrap().error.unwrap().contains("expired"));
}

#[tokio::test]
async fn lapsed_lease_marks_the_task_lost_until_its_late_result_ends_it() {
    let fx = open();
    let task = fx.queue.enqueue(command("sleep 100")).await.unwrap();
    let claim = claim_one(&fx.queue, "mac").await;
    let accepted = fx.queue.heartbeat("mac", &[held(&claim)]).await.unwrap();
    // The heartbeat set the lease to end `lease_ttl` after it, so no later than this.
    let lease_end = now_millis() + duration_millis(claim.lease_ttl);
    let mut events = fx.queue.subscribe();

    let report = fx.queue.sweep(lease_end).await.unwrap();
    let lost = fx.queue.get(task.id).await.unwrap();
    let beat = fx.queue.heartbeat("mac", &[held(&claim)]).await.unwrap();
    let reclaim = fx.queue.claim("other", 1, Duration::ZERO).await.unwrap();
    let late = fx
        .queue
        .complete(task.id, "mac", claim.lease, succeeded("late"))
        .await
        .unwrap();
    let again = fx
        .queue
        .complete(task.id, "mac", claim.lease, succeeded("late"))
        .await
        .unwrap();

    assert_eq!(accepted[0].state, LeaseState::Active);
    assert_eq!(report.lost, 1);
    assert_eq!(report.requeued, 0, "an accepted task is never requeued");
    assert_eq!(lost.status, TaskStatus::Lost);
    assert_eq!(beat[0].state, LeaseState::Gone);
    assert!(beat[0].accepts_late_result);
    assert!(reclaim.is_empty(), "a lost task is never handed out again");
    assert_eq!(late, Completion::StoredLate);
    assert_eq!(again, Completion::Duplicate);
    let finished = fx.queue.get(task.id).await.unwrap();
    assert_eq!(finished.status, TaskStatus::Succeeded);
    let outcome = finished.outcome.unwrap();
    assert_eq!(outcome.stdout, "late");
    assert_eq!(outcome.metadata.get(LATE_RESULT_KEY), Some(&json!(true)));
    for status in [TaskStatus::Lost, TaskStatus::Succeeded] {
        assert_eq!(
            events.recv().await.unwrap(),
            TaskEvent::Finished {
                id: task.id,
                status
            }
        );
    }
}

#[tokio::test]
async fn a_lost_task_refuses_other_leases_and_a_second_late_result() {
    let fx = open();
    let task = fx.queue.enqueue(command("sleep 100")).await.unwrap();
    let claim = claim_one(&fx.queue, "mac").await;
    fx.queue.heartbeat("mac", &[held(&claim)]).await.unwrap();
    let lease_end = now_millis() + duration_millis(claim.lease_ttl);
    fx.queue.sweep(lease_end).await.unwrap();

    let stale = fx
        .queue
        .complete(task.id, "mac", LeaseId::new(), succeeded("forged"))
        .await;
    let stranger = fx
        .queue
        .complete(task.id, "laptop", claim.lease, succeeded("forged"))
        .await;
    let stranger_beat = fx.queue.heartbeat("laptop", &[held(&claim)]).await.unwrap();
    fx.queue
        .complete(task.id, "mac", claim.lease, succeeded("real"))
        .await
        .unwrap();
    let second = fx
        .queue
        .complete(task.id, "mac", claim.lease, succeeded("other"))
        .await;

    assert!(matches!(stale, Err(QueueError::LeaseMismatch(_))));
    assert!(matches!(stranger, Err(QueueError::NotHolder(_))));
    assert!(!stranger_beat[0].accepts_late_result);
    assert!(matches!(
        second,
        Err(QueueError::Conflict {
            status: TaskStatus::Succeeded,
            ..
        })
    ));
    assert_eq!(
        fx.queue.get(task.id).await.unwrap().outcome.unwrap().stdout,
        "real"
    );
}

#[tokio::test]
async fn finished_tasks_are_pruned_after_retention() {
    let fx = open();
    let task = fx.queue.enqueue(command("true")).await.unwrap();
    // Succeeded, not cancelled: cancelled tasks go sooner (`quota` tests).
    let claim = claim_one(&fx.queue, "mac").await;
    fx.queue
        .complete(task.id, "mac", claim.lease, succeeded(""))
        .await
        .unwrap();
    let completed = fx.queue.get(task.id).await.unwrap().completed_at.unwrap();
    let retention = duration_millis(fx.queue.settings().retention);

    let kept = fx.queue.sweep(completed + retention - 1).await.unwrap();
    let pruned = fx.queue.sweep(completed + retention).await.unwrap();

    assert_eq!(kept.pruned, 0);
    assert_eq!(pruned.pruned, 1);
    assert!(matches!(
        fx.queue.get(task.id).await,
        Err(QueueError::NotFound(_))
    ));
}

#[tokio::test]
async fn a_reopened_queue_gives_lapsed_leases_one_ttl_to_be_heard_from() {
    let settings = QueueSettings {
        lease_ttl: Duration::from_millis(300),
        ..QueueSettings::default()
    };
    let Fixture { queue, _dir, path } = open();
    let task = queue.enqueue(command("sleep 100")).await.unwrap();
    let claim = claim_one(&queue, "mac").await;
    drop(queue);
    let queue = Queue::open(&path, settings.clone()).unwrap();
    queue.heartbeat("mac", &[held(&claim)]).await.unwrap();
    drop(queue);
    // The bot is down for longer than the lease.
    tokio::time::sleep(Duration::from_millis(400)).await;

    let reopened = Queue::open(&path, settings).unwrap();
    let at_start = reopened.sweep(now_millis()).await.unwrap();
    let after_grace = reopened
        .sweep(now_millis() + duration_millis(Duration::from_millis(300)))
        .await
        .unwrap();

    assert_eq!(
        at_start.lost, 0,
        "its worker may not have been heard from yet"
    );
    assert_eq!(after_grace.lost, 1);
    assert_eq!(
        reopened.get(task.id).await.unwrap().status,
        TaskStatus::Lost
    );
}
