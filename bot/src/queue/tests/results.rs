//! What happens around a stored result: delivery back to the task's origin, and the
//! attachments uploaded with it.

use openclaw_shared::client::AttachmentInfo;
use openclaw_shared::TaskId;

use super::*;
use crate::queue::clock::duration_millis;
use crate::queue::QueueError;

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
