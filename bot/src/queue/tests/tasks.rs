//! Tasks through the handle: waiting, cancelling, listing, stats, an opaque origin, and
//! everything surviving a reopen.

use openclaw_shared::worker::LeaseState;
use openclaw_shared::{TaskId, TaskStatus};

use super::*;
use crate::queue::{Completion, QueueError, Scope};

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

    let all = fx.queue.list(&Scope::All, None, 10).await.unwrap();
    let queued = fx
        .queue
        .list(&Scope::All, Some(TaskStatus::Queued), 10)
        .await
        .unwrap();

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

    let stats = fx.queue.stats(&Scope::All).await.unwrap();

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
async fn a_task_stored_before_summaries_is_listed_with_one_made_from_its_spec() {
    let fx = open();
    let task = fx
        .queue
        .enqueue(command("echo from an older release"))
        .await
        .unwrap();
    let conn = rusqlite::Connection::open(&fx.path).unwrap();
    conn.execute("UPDATE tasks SET summary = NULL", []).unwrap();
    drop(conn);

    let listed = fx.queue.list(&Scope::All, None, 10).await.unwrap();

    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, task.id);
    assert_eq!(listed[0].summary, "echo from an older release");
}
