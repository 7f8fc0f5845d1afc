//! Quotas: the queue counts what it keeps, exactly, through every change; refuses a task or
//! attachment past a quota without storing anything; stores an oversized result cut to
//! fit; and frees what cancelled and expired tasks held.

use openclaw_shared::client::AttachmentInfo;
use openclaw_shared::{TaskSpec, TaskStatus};

use super::*;
use crate::queue::clock::duration_millis;
use crate::queue::{Completion, QueueError, Quota, QuotaSettings, Usage, TRUNCATION_NOTE};

fn open_with(quota: QuotaSettings) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue.sqlite3");
    let settings = QueueSettings {
        quota,
        ..QueueSettings::default()
    };
    Fixture {
        queue: Queue::open(&path, settings).unwrap(),
        _dir: dir,
        path,
    }
}

fn write(bytes: usize) -> NewTask {
    NewTask {
        spec: TaskSpec::FileWrite {
            path: "/tmp/f".into(),
            content: "x".repeat(bytes),
            encoding: Default::default(),
        },
        ..command("unused")
    }
}

fn spec_bytes(task: &NewTask) -> u64 {
    serde_json::to_string(&task.spec).unwrap().len() as u64
}

fn png(name: &str, size: usize) -> (AttachmentInfo, Vec<u8>) {
    let info = AttachmentInfo {
        name: name.into(),
        content_type: "image/png".into(),
        size: size as u64,
    };
    (info, vec![7; size])
}

async fn usage(fx: &Fixture) -> Usage {
    fx.queue.usage().await.unwrap()
}

#[tokio::test]
async fn usage_follows_every_change_and_is_back_to_zero_after_pruning() {
    let fx = open();
    let new = write(1000);
    let spec = spec_bytes(&new);

    let task = fx.queue.enqueue(new).await.unwrap();
    let queued = usage(&fx).await;
    let claim = claim_one(&fx.queue, "mac").await;
    let (info, data) = png("a.png", 300);
    fx.queue
        .add_attachment(task.id, "mac", claim.lease, info.clone(), &data)
        .await
        .unwrap();
    let (_, smaller) = png("a.png", 100);
    fx.queue
        .add_attachment(task.id, "mac", claim.lease, info, &smaller)
        .await
        .unwrap();
    let attached = usage(&fx).await;
    fx.queue
        .complete(task.id, "mac", claim.lease, succeeded("out"))
        .await
        .unwrap();
    let finished = usage(&fx).await;
    let completed = fx.queue.get(task.id).await.unwrap().completed_at.unwrap();
    fx.queue
        .sweep(completed + duration_millis(fx.queue.settings().retention))
        .await
        .unwrap();

    assert_eq!(
        queued,
        Usage {
            stored_bytes: spec,
            live_tasks: 1
        }
    );
    assert_eq!(
        attached.stored_bytes,
        spec + 100,
        "a replaced file counts once"
    );
    assert_eq!(finished.live_tasks, 0);
    // "out" and the metadata `{}` of the result.
    assert_eq!(finished.stored_bytes, spec + 100 + 3 + 2);
    assert_eq!(usage(&fx).await, Usage::default());
}

#[tokio::test]
async fn a_task_past_the_live_tasks_quota_is_refused_and_nothing_is_stored() {
    let fx = open_with(QuotaSettings {
        max_live_tasks: 2,
        ..QuotaSettings::default()
    });
    let first = fx.queue.enqueue(command("a")).await.unwrap();
    fx.queue.enqueue(command("b")).await.unwrap();

    let refused = fx.queue.enqueue(command("c")).await;
    fx.queue.cancel(first.id).await.unwrap();
    let after_cancel = fx.queue.enqueue(command("d")).await;

    assert!(
        matches!(refused, Err(QueueError::QuotaExceeded(Quota::LiveTasks(2)))),
        "{refused:?}"
    );
    assert!(after_cancel.is_ok(), "a finished task no longer counts");
    let listed = fx.queue.list(&crate::queue::Scope::All, None, 10).await;
    assert_eq!(listed.unwrap().len(), 3);
}

#[tokio::test]
async fn a_task_past_the_byte_budget_is_refused_and_nothing_is_stored() {
    let budget = 3 * spec_bytes(&write(1000));
    let fx = open_with(QuotaSettings {
        max_stored_bytes: budget,
        ..QuotaSettings::default()
    });
    for _ in 0..3 {
        fx.queue.enqueue(write(1000)).await.unwrap();
    }

    let refused = fx.queue.enqueue(write(1)).await;

    assert!(
        matches!(refused, Err(QueueError::QuotaExceeded(Quota::StoredBytes(b))) if b == budget),
        "{refused:?}"
    );
    assert_eq!(usage(&fx).await.stored_bytes, budget);
    assert_eq!(usage(&fx).await.live_tasks, 3);
}

#[tokio::test]
async fn an_oversized_result_is_stored_cut_keeps_its_status_and_repeats_as_a_duplicate() {
    let fx = open_with(QuotaSettings {
        max_result_bytes: 64,
        ..QuotaSettings::default()
    });
    let task = fx.queue.enqueue(command("yes")).await.unwrap();
    let claim = claim_one(&fx.queue, "mac").await;
    let mut outcome = succeeded(&"y\n".repeat(1000));
    outcome.status = openclaw_shared::OutcomeStatus::Failed;
    outcome.exit_code = Some(3);

    let stored = fx
        .queue
        .complete(task.id, "mac", claim.lease, outcome.clone())
        .await
        .unwrap();
    let again = fx
        .queue
        .complete(task.id, "mac", claim.lease, outcome)
        .await
        .unwrap();
    let task = fx.queue.get(task.id).await.unwrap();
    let kept = task.outcome.unwrap();

    assert_eq!(stored, Completion::Stored);
    assert_eq!(
        again,
        Completion::Duplicate,
        "the worker's retry is recognised"
    );
    assert_eq!(task.status, TaskStatus::Failed);
    assert_eq!(kept.exit_code, Some(3));
    assert_eq!(kept.stdout.len(), 64);
    assert!(kept.stdout_truncated);
    assert_eq!(kept.metadata[TRUNCATION_NOTE]["droppedBytes"], 2000 - 64);
}

#[tokio::test]
async fn attachments_past_a_tasks_quota_are_refused_and_a_replacement_counts_once() {
    let fx = open_with(QuotaSettings {
        max_attachments_per_task: 2,
        max_attachment_bytes_per_task: 1000,
        ..QuotaSettings::default()
    });
    let task = fx.queue.enqueue(command("screencapture")).await.unwrap();
    let lease = claim_one(&fx.queue, "mac").await.lease;
    let put = |name: &'static str, size: usize| {
        let queue = fx.queue.clone();
        async move {
            let (info, data) = png(name, size);
            queue
                .add_attachment(task.id, "mac", lease, info, &data)
                .await
        }
    };
    put("a.png", 400).await.unwrap();
    put("b.png", 400).await.unwrap();

    let third = put("c.png", 1).await;
    let too_big = put("b.png", 601).await;
    let replaced = put("b.png", 600).await;

    assert!(
        matches!(
            third,
            Err(QueueError::QuotaExceeded(Quota::AttachmentsPerTask(2)))
        ),
        "{third:?}"
    );
    assert!(
        matches!(
            too_big,
            Err(QueueError::QuotaExceeded(Quota::AttachmentBytesPerTask(
                1000
            )))
        ),
        "{too_big:?}"
    );
    assert!(replaced.is_ok(), "{replaced:?}");
    let names: Vec<_> = fx
        .queue
        .attachments(task.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.name, a.size))
        .collect();
    assert_eq!(names, [("a.png".into(), 400), ("b.png".to_string(), 600)]);
}

#[tokio::test]
async fn cancelled_and_expired_tasks_are_pruned_after_the_shorter_retention() {
    let fx = open();
    let done = fx.queue.enqueue(command("true")).await.unwrap();
    let claim = claim_one(&fx.queue, "mac").await;
    fx.queue
        .complete(done.id, "mac", claim.lease, succeeded(""))
        .await
        .unwrap();
    let kept = usage(&fx).await;
    let cancelled = fx.queue.enqueue(write(1000)).await.unwrap();
    let expired = fx.queue.enqueue(write(1000)).await.unwrap();
    fx.queue.cancel(cancelled.id).await.unwrap();
    let ttl_end = expired.created_at + duration_millis(fx.queue.settings().task_ttl);
    let at_expiry = fx.queue.sweep(ttl_end).await.unwrap();
    let abandoned = duration_millis(fx.queue.settings().abandoned_retention);

    let later = fx.queue.sweep(ttl_end + abandoned).await.unwrap();

    assert_eq!((at_expiry.expired, at_expiry.pruned), (1, 0));
    assert_eq!(later.pruned, 2, "the cancelled and the expired task");
    assert!(matches!(
        fx.queue.get(cancelled.id).await,
        Err(QueueError::NotFound(_))
    ));
    assert_eq!(
        fx.queue.get(done.id).await.unwrap().status,
        TaskStatus::Succeeded,
        "a finished task is kept for the whole retention"
    );
    assert_eq!(usage(&fx).await, kept, "their bytes are free again");
}

#[tokio::test]
async fn a_database_from_before_quotas_counts_what_it_holds_at_the_upgrade() {
    let fx = open();
    let new = write(500);
    let spec = spec_bytes(&new);
    fx.queue.enqueue(new).await.unwrap();
    drop(fx.queue);
    let conn = rusqlite::Connection::open(&fx.path).unwrap();
    conn.execute_batch(super::UNDO_WEBHOOKS).unwrap();
    conn.execute_batch(
        "DROP TABLE usage; PRAGMA user_version = 6; \
         DROP TRIGGER usage_task_inserted; DROP TRIGGER usage_task_status; \
         DROP TRIGGER usage_task_bytes; DROP TRIGGER usage_task_deleted; \
         DROP TRIGGER usage_attachment_inserted; DROP TRIGGER usage_attachment_replaced; \
         DROP TRIGGER usage_attachment_deleted;",
    )
    .unwrap();
    drop(conn);

    let upgraded = Queue::open(&fx.path, QueueSettings::default()).unwrap();

    assert_eq!(
        upgraded.usage().await.unwrap(),
        Usage {
            stored_bytes: spec,
            live_tasks: 1
        }
    );
}
