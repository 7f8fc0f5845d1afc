//! Task owners: stored with the task, listed and counted by scope, and NULL (the admin's)
//! for tasks from before owners were recorded.

use openclaw_shared::TaskStatus;

use super::*;
use crate::queue::Scope;

fn owned_by(owner: &str, text: &str) -> NewTask {
    NewTask {
        owner: Some(owner.into()),
        ..command(text)
    }
}

fn mine() -> Scope {
    Scope::OwnedBy("discord:1".into())
}

#[tokio::test]
async fn a_scope_lists_and_counts_only_its_owners_tasks() {
    let fx = open();
    let own = fx
        .queue
        .enqueue(owned_by("discord:1", "mine"))
        .await
        .unwrap();
    let other = fx
        .queue
        .enqueue(owned_by("discord:2", "theirs"))
        .await
        .unwrap();
    let api = fx.queue.enqueue(owned_by("api", "scripted")).await.unwrap();
    let legacy = fx
        .queue
        .enqueue(command("from before owners"))
        .await
        .unwrap();
    fx.queue.cancel(other.id).await.unwrap();

    let listed = fx.queue.list(&mine(), None, 10).await.unwrap();
    let everything = fx.queue.list(&Scope::All, None, 10).await.unwrap();
    let my_counts = fx.queue.stats(&mine()).await.unwrap().by_status;
    let all_counts = fx.queue.stats(&Scope::All).await.unwrap().by_status;

    assert_eq!(listed.iter().map(|t| t.id).collect::<Vec<_>>(), [own.id]);
    assert_eq!(listed[0].owner.as_deref(), Some("discord:1"));
    assert_eq!(
        everything.iter().map(|t| t.id).collect::<Vec<_>>(),
        [legacy.id, api.id, other.id, own.id]
    );
    assert!(my_counts.contains(&(TaskStatus::Queued, 1)));
    assert!(my_counts.contains(&(TaskStatus::Cancelled, 0)));
    assert!(all_counts.contains(&(TaskStatus::Queued, 3)));
    assert!(all_counts.contains(&(TaskStatus::Cancelled, 1)));
}

#[tokio::test]
async fn a_scope_covers_its_owners_tasks_and_only_all_covers_ownerless_ones() {
    let fx = open();
    let own = fx
        .queue
        .enqueue(owned_by("discord:1", "mine"))
        .await
        .unwrap();
    let other = fx
        .queue
        .enqueue(owned_by("discord:2", "theirs"))
        .await
        .unwrap();
    let legacy = fx
        .queue
        .enqueue(command("from before owners"))
        .await
        .unwrap();

    assert!(mine().covers(&own));
    assert!(!mine().covers(&other));
    assert!(!mine().covers(&legacy));
    assert!([&own, &other, &legacy].iter().all(|t| Scope::All.covers(t)));
}

#[tokio::test]
async fn tasks_stored_before_owners_existed_become_the_admins() {
    let fx = open();
    let task = fx
        .queue
        .enqueue(owned_by("discord:1", "old"))
        .await
        .unwrap();
    drop(fx.queue);
    // Back to the schema before owners, as a database from the previous release.
    let conn = rusqlite::Connection::open(&fx.path).unwrap();
    conn.execute_batch(super::UNDO_WEBHOOKS).unwrap();
    conn.execute_batch(
        "DROP INDEX tasks_by_owner; ALTER TABLE tasks DROP COLUMN owner; \
         ALTER TABLE tasks DROP COLUMN summary; PRAGMA user_version = 4;",
    )
    .unwrap();
    drop(conn);

    let upgraded = Queue::open(&fx.path, QueueSettings::default()).unwrap();

    let stored = upgraded.get(task.id).await.unwrap();
    assert_eq!(stored.owner, None);
    assert!(upgraded.list(&mine(), None, 10).await.unwrap().is_empty());
    assert_eq!(upgraded.list(&Scope::All, None, 10).await.unwrap().len(), 1);
}
