//! Schema migrations: the `.sql` files beside this module, applied in order at open.

use rusqlite::Connection;

use crate::queue::store::StoreError;

/// Schema migrations, applied in order at open. Index `i` brings the schema to version
/// `i + 1` (kept in `PRAGMA user_version`). Never edit a shipped migration: add one.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_tasks.sql"),
    include_str!("migrations/0002_deliveries_attachments.sql"),
    include_str!("migrations/0003_approvals.sql"),
    include_str!("migrations/0004_claim_offers.sql"),
    include_str!("migrations/0005_task_owner.sql"),
    include_str!("migrations/0006_task_summaries.sql"),
    include_str!("migrations/0007_usage.sql"),
    include_str!("migrations/0008_webhooks.sql"),
    include_str!("migrations/0009_agent_sessions.sql"),
    include_str!("migrations/0010_task_priority.sql"),
    include_str!("migrations/0011_schedules.sql"),
];

/// Applies the migrations the database has not seen yet, each in its own transaction.
/// Refuses a database a newer build migrated past what this one knows.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > known {
        return Err(StoreError::SchemaTooNew { found, known });
    }
    for (index, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(index + 1).unwrap_or(i64::MAX),
        )?;
        tx.commit()?;
        tracing::info!(version = index + 1, "applied database migration");
    }
    Ok(())
}
