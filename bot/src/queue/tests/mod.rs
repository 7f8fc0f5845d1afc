//! Unit tests of the queue core against a real SQLite file in a temp dir: the fixtures
//! here, the tests by noun in the modules below.

use std::time::Duration;

use openclaw_shared::worker::HeldLease;
use openclaw_shared::{OutcomeStatus, TaskOutcome, TaskSpec};

use super::{Claim, NewTask, Queue, QueueSettings};

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
        owner: None,
        callback_url: None,
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

/// Undoes migration 0008 (webhooks), for tests that take a database back to an older schema
/// (its `callback_url` column would otherwise be added twice).
const UNDO_WEBHOOKS: &str = "DROP TRIGGER webhook_task_finished; \
     DROP TRIGGER webhook_task_awaiting_approval; DROP TABLE webhook_deliveries; \
     DROP TABLE webhook_subscriptions; ALTER TABLE tasks DROP COLUMN callback_url;";

async fn within<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(TEST_TIMEOUT, future)
        .await
        .expect("test timed out")
}

mod leases;
mod offers;
mod owners;
mod quota;
mod results;
mod storage;
mod sweep;
mod tasks;
mod waiting;
