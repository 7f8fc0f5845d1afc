//! Priorities: claims take the most urgent task first, the oldest among equals, and a task
//! waiting behind a flood of urgent work is taken within the aging bound.

use openclaw_shared::EpochMillis;

use super::*;
use crate::queue::Priority;

fn at(priority: u8, text: &str) -> NewTask {
    NewTask {
        priority: Priority::new(i64::from(priority)).unwrap(),
        ..command(text)
    }
}

fn text_of(claim: &Claim) -> String {
    match &claim.task.spec {
        TaskSpec::Command { command, .. } => command.clone(),
        other => panic!("not a command: {other:?}"),
    }
}

#[tokio::test]
async fn claims_take_the_most_urgent_task_first_and_the_oldest_among_equals() {
    let fx = open();
    for (priority, text) in [
        (9, "last"),
        (5, "api-1"),
        (0, "urgent"),
        (5, "api-2"),
        (3, "discord"),
    ] {
        fx.queue.enqueue(at(priority, text)).await.unwrap();
    }

    let mut order = Vec::new();
    for _ in 0..5 {
        order.push(text_of(&claim_one(&fx.queue, "mac").await));
    }

    assert_eq!(order, ["urgent", "discord", "api-1", "api-2", "last"]);
}

#[tokio::test]
async fn a_flood_of_urgent_work_delays_a_lowest_priority_task_only_by_the_aging_bound() {
    let dir = tempfile::tempdir().unwrap();
    let aging = Duration::from_millis(20);
    let settings = QueueSettings {
        priority_aging: aging,
        ..QueueSettings::default()
    };
    let queue = Queue::open(&dir.path().join("q.sqlite3"), settings).unwrap();
    let low = queue.enqueue(at(9, "low")).await.unwrap();
    // The bound: everything enqueued more than 9 levels × aging after it goes behind it.
    let bound_ms: EpochMillis = 9 * 20;

    // Twice as much urgent work arrives as the worker takes: without aging the low task
    // would wait for ever.
    let mut taken_before_low = Vec::new();
    let low_claimed = within(async {
        loop {
            queue.enqueue(at(0, "urgent")).await.unwrap();
            queue.enqueue(at(0, "urgent")).await.unwrap();
            let claim = claim_one(&queue, "mac").await;
            if claim.task.id == low.id {
                break claim;
            }
            taken_before_low.push(claim.task.created_at);
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;

    assert_eq!(low_claimed.task.priority, Priority::LOWEST);
    assert!(
        !taken_before_low.is_empty(),
        "urgent work went first at all"
    );
    let latest = taken_before_low.iter().max().copied().unwrap_or(0);
    assert!(
        latest <= low.created_at + bound_ms,
        "an urgent task enqueued {} ms after the low one went ahead of it (bound {bound_ms} ms)",
        latest - low.created_at
    );
}
