//! The store at open and under faults: a database SQLite cannot write is refused, a write
//! SQLite refuses is a read-only fault, and a whole database checks out at open.

use openclaw_shared::TaskId;

use super::*;
use crate::queue::sqlite::SqliteStore;
use crate::queue::store::{StoreError, StoreFault, TaskStore};

#[tokio::test]
async fn a_database_sqlite_opened_read_only_is_refused_as_not_writable() {
    let fx = open();
    let reader = SqliteStore::open_reader(&fx.path).unwrap();

    let checked = reader.check_writable();

    assert!(
        matches!(checked, Err(StoreError::NotWritable(_))),
        "{checked:?}"
    );
    assert_eq!(checked.unwrap_err().fault(), StoreFault::ReadOnly);
}

#[tokio::test]
async fn a_write_sqlite_refuses_is_a_read_only_fault() {
    let fx = open();
    let reader = SqliteStore::open_reader(&fx.path).unwrap();

    let quota = crate::queue::QuotaSettings::default();
    let written = reader.insert(TaskId::new(), &command("true"), 1, 2, 1, &quota);

    assert_eq!(written.unwrap_err().fault(), StoreFault::ReadOnly);
}

#[tokio::test]
async fn the_writable_database_a_queue_opens_checks_out_whole() {
    let fx = open();
    fx.queue.enqueue(command("true")).await.unwrap();

    let health = fx.queue.storage_health();

    assert!(matches!(
        health.integrity,
        crate::queue::IntegrityCheck::Ok { .. }
    ));
    assert_eq!(health.fault(crate::queue::now_millis()), None);
    assert_eq!(health.last_write_failure, None);
}
