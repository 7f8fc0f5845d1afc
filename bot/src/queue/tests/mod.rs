//! Unit tests of the queue core against a real SQLite file in a temp dir.

use std::time::Duration;

use openclaw_shared::client::AttachmentInfo;
use openclaw_shared::worker::{HeldLease, LeaseState};
use openclaw_shared::{
    EpochMillis, LeaseId, OutcomeStatus, TaskId, TaskOutcome, TaskSpec, TaskStatus,
};

use super::clock::duration_millis;
use super::*;

/// Fails the test instead of hanging when a wake-up never comes.
const TEST_TIMEOUT: Duration = Duration::from_secs(10);

struct Fixture {
    queue: Queue,
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

fn open() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.sqlite3");
    let queue = Queue::open(&path, QueueSettings::default()).unwrap();
    Fixture {
        queue,
        _dir: dir,
        path,
    }
}

fn command(text: &str) -> NewTask {
    NewTask {
        spec: TaskSpec::Command {
            command: text.into(),
            cwd: None,
        },
        timeout: Duration::from_secs(30),
        target_worker: None,
        origin: None,
    }
}

fn succeeded(stdout: &str) -> TaskOutcome {
    TaskOutcome {
        stdout: stdout.into(),
        exit_code: Some(0),
        ..TaskOutcome::new(OutcomeStatus::Succeeded)
    }
}

async fn claim_one(queue: &Queue, worker: &str) -> Claim {
    let mut claims = queue.claim(worker, 1, Duration::ZERO).await.unwrap();
    assert_eq!(claims.len(), 1, "expected one claimable task");
    claims.remove(0)
}

fn held(claim: &Claim) -> HeldLease {
    HeldLease {
        task_id: claim.task.id,
        lease: claim.lease,
    }
}

async fn within<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(TEST_TIMEOUT, future)
        .await
        .expect("test timed out")
}

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

#[tokio::test]
async fn wait_on_an_unknown_task_fails_at_once() {
    let fx = open();

    let result = within(
        fx.queue
            .wait_finished(TaskId::new(), Duration::from_secs(600)),
    )
    .await;

    assert!(matches!(result, Err(QueueError::NotFound(_))));
}

#[tokio::test(start_paused = true)]
async fn wait_returns_the_unfinished_task_when_time_runs_out() {
    let fx = open();
    let task = fx.queue.enqueue(command("sleep 100")).await.unwrap();

    let seen = fx
        .queue
        .wait_finished(task.id, Duration::from_secs(30))
        .await
        .unwrap();

    assert_eq!(seen.status, TaskStatus::Queued);
}

#[tokio::test]
async fn cancelling_a_queued_task_ends_it_at_once() {
    let fx = open();
    let task = fx.queue.enqueue(command("true")).await.unwrap();

    let cancelled = fx.queue.cancel(task.id).await.unwrap();
    let claims = fx.queue.claim("mac", 1, Duration::ZERO).await.unwrap();

    assert_eq!(cancelled.status, TaskStatus::Cancelled);
    assert!(cancelled.outcome.unwrap().error.is_some());
    assert!(claims.is_empty());
}

#[tokio::test]
async fn cancelling_a_running_task_tells_its_worker_on_heartbeat() {
    let fx = open();
    let task = fx.queue.enqueue(command("sleep 100")).await.unwrap();
    let claim = claim_one(&fx.queue, "mac").await;
    let held = [HeldLease {
        task_id: task.id,
        lease: claim.lease,
    }];
    let before = fx.queue.heartbeat("mac", &held).await.unwrap();

    let flagged = fx.queue.cancel(task.id).await.unwrap();
    let after = fx.queue.heartbeat("mac", &held).await.unwrap();

    assert_eq!(before[0].state, LeaseState::Active);
    assert_eq!(flagged.status, TaskStatus::Running);
    assert!(flagged.cancel_requested);
    assert_eq!(after[0].state, LeaseState::CancelRequested);
}

#[tokio::test]
async fn cancelling_a_finished_task_conflicts() {
    let fx = open();
    let task = fx.queue.enqueue(command("true")).await.unwrap();
    let claim = claim_one(&fx.queue, "mac").await;
    fx.queue
        .complete(task.id, "mac", claim.lease, succeeded(""))
        .await
        .unwrap();

    let result = fx.queue.cancel(task.id).await;

    assert!(matches!(
        result,
        Err(QueueError::Conflict {
            status: TaskStatus::Succeeded,
            ..
        })
    ));
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
async fn lapsed_lease_marks_the_task_lost_and_refuses_its_late_result() {
    let fx = open();
    let task = fx.queue.enqueue(command("sleep 100")).await.unwrap();
    let claim = claim_one(&fx.queue, "mac").await;
    let accepted = fx.queue.heartbeat("mac", &[held(&claim)]).await.unwrap();
    // The heartbeat set the lease to end `lease_ttl` after it, so no later than this.
    let lease_end = now_millis() + duration_millis(claim.lease_ttl);
    let mut events = fx.queue.subscribe();

    let report = fx.queue.sweep(lease_end).await.unwrap();
    let late = fx
        .queue
        .complete(task.id, "mac", claim.lease, succeeded("late"))
        .await;
    let reclaim = fx.queue.claim("other", 1, Duration::ZERO).await.unwrap();

    assert_eq!(accepted[0].state, LeaseState::Active);
    assert_eq!(report.lost, 1);
    assert_eq!(report.requeued, 0, "an accepted task is never requeued");
    assert_eq!(
        fx.queue.get(task.id).await.unwrap().status,
        TaskStatus::Lost
    );
    assert!(matches!(
        late,
        Err(QueueError::Conflict {
            status: TaskStatus::Lost,
            ..
        })
    ));
    assert!(reclaim.is_empty(), "a lost task is never handed out again");
    assert_eq!(
        events.recv().await.unwrap(),
        TaskEvent::Finished {
            id: task.id,
            status: TaskStatus::Lost
        }
    );
}

#[tokio::test]
async fn finished_tasks_are_pruned_after_retention() {
    let fx = open();
    let task = fx.queue.enqueue(command("true")).await.unwrap();
    fx.queue.cancel(task.id).await.unwrap();
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
async fn tasks_and_results_survive_reopening_the_database() {
    let fx = open();
    let queued = fx.queue.enqueue(command("later")).await.unwrap();
    let done = fx.queue.enqueue(command("echo hi")).await.unwrap();
    let claims = fx.queue.claim("mac", 2, Duration::ZERO).await.unwrap();
    let claim = claims.iter().find(|c| c.task.id == done.id).unwrap();
    fx.queue
        .complete(done.id, "mac", claim.lease, succeeded("hi\n"))
        .await
        .unwrap();
    let other = claims.iter().find(|c| c.task.id == queued.id).unwrap();
    drop(fx.queue);

    let reopened = Queue::open(&fx.path, QueueSettings::default()).unwrap();

    let finished = reopened.get(done.id).await.unwrap();
    assert_eq!(finished.outcome, Some(succeeded("hi\n")));
    let running = reopened.get(queued.id).await.unwrap();
    assert_eq!(running.status, TaskStatus::Running);
    let stored = reopened
        .complete(queued.id, "mac", other.lease, succeeded(""))
        .await
        .unwrap();
    assert_eq!(stored, Completion::Stored, "leases survive a restart");
}

#[tokio::test]
async fn origin_is_stored_opaquely() {
    let fx = open();
    let origin = serde_json::json!({"discord": {"interaction_token": "abc", "channel_id": "1"}});

    let task = fx
        .queue
        .enqueue(NewTask {
            origin: Some(origin.clone()),
            ..command("true")
        })
        .await
        .unwrap();

    assert_eq!(fx.queue.get(task.id).await.unwrap().origin, Some(origin));
}

#[tokio::test]
async fn list_is_most_recent_first_and_filters_by_status() {
    let fx = open();
    let first = fx.queue.enqueue(command("one")).await.unwrap();
    let second = fx.queue.enqueue(command("two")).await.unwrap();
    fx.queue.cancel(first.id).await.unwrap();

    let all = fx.queue.list(None, 10).await.unwrap();
    let queued = fx.queue.list(Some(TaskStatus::Queued), 10).await.unwrap();

    assert_eq!(
        all.iter().map(|t| t.id).collect::<Vec<_>>(),
        [second.id, first.id]
    );
    assert_eq!(queued.iter().map(|t| t.id).collect::<Vec<_>>(), [second.id]);
}

#[tokio::test]
async fn stats_count_statuses_and_running_tasks_per_worker() {
    let fx = open();
    fx.queue.enqueue(command("a")).await.unwrap();
    fx.queue.enqueue(command("b")).await.unwrap();
    claim_one(&fx.queue, "mac").await;

    let stats = fx.queue.stats().await.unwrap();

    let count = |status| {
        stats
            .by_status
            .iter()
            .find(|(s, _)| *s == status)
            .unwrap()
            .1
    };
    assert_eq!(count(TaskStatus::Queued), 1);
    assert_eq!(count(TaskStatus::Running), 1);
    assert_eq!(stats.workers.len(), 1);
    assert_eq!(stats.workers[0].name, "mac");
    assert_eq!(stats.workers[0].running, 1);
}

#[tokio::test]
async fn finished_tasks_with_an_origin_wait_for_delivery_until_marked() {
    let fx = open();
    let plain = fx.queue.enqueue(command("true")).await.unwrap();
    let from_chat = fx
        .queue
        .enqueue(NewTask {
            origin: Some(serde_json::json!({"discord": {"channel_id": "1"}})),
            ..command("true")
        })
        .await
        .unwrap();
    let live = fx
        .queue
        .enqueue(NewTask {
            origin: Some(serde_json::json!({"discord": {"channel_id": "2"}})),
            ..command("sleep 1")
        })
        .await
        .unwrap();
    fx.queue.cancel(plain.id).await.unwrap();
    fx.queue.cancel(from_chat.id).await.unwrap();

    let before = fx.queue.undelivered(10).await.unwrap();
    fx.queue.mark_delivered(from_chat.id).await.unwrap();
    let after = fx.queue.undelivered(10).await.unwrap();

    assert_eq!(
        before.iter().map(|t| t.id).collect::<Vec<_>>(),
        [from_chat.id]
    );
    assert!(after.is_empty());
    assert!(
        !before.iter().any(|t| t.id == live.id),
        "live tasks are not delivered"
    );
    assert!(matches!(
        fx.queue.mark_delivered(TaskId::new()).await,
        Err(QueueError::NotFound(_))
    ));
}

#[tokio::test]
async fn attachments_are_kept_with_their_task_and_pruned_with_it() {
    let fx = open();
    let task = fx.queue.enqueue(command("screencapture")).await.unwrap();
    let claim = claim_one(&fx.queue, "mac").await;
    let info = AttachmentInfo {
        name: "shot.png".into(),
        content_type: "image/png".into(),
        size: 3,
    };
    fx.queue
        .add_attachment(task.id, "mac", claim.lease, info.clone(), b"png")
        .await
        .unwrap();
    fx.queue
        .complete(task.id, "mac", claim.lease, succeeded(""))
        .await
        .unwrap();

    let listed = fx.queue.attachments(task.id).await.unwrap();
    let fetched = fx.queue.attachment(task.id, "shot.png").await.unwrap();
    let late = fx
        .queue
        .add_attachment(task.id, "mac", claim.lease, info.clone(), b"png")
        .await;
    let completed = fx.queue.get(task.id).await.unwrap().completed_at.unwrap();
    fx.queue
        .sweep(completed + duration_millis(fx.queue.settings().retention))
        .await
        .unwrap();

    assert_eq!(listed, std::slice::from_ref(&info));
    assert_eq!(fetched, Some((info, b"png".to_vec())));
    assert!(
        matches!(late, Err(QueueError::Conflict { .. })),
        "finished tasks take no uploads"
    );
    assert!(fx
        .queue
        .attachment(task.id, "shot.png")
        .await
        .unwrap()
        .is_none());
}

mod offers;
