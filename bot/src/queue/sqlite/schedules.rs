//! [`ScheduleStore`] on SQLite: schedules as rows, and the one transaction that fires a run.

use openclaw_shared::client::ScheduleId;
use openclaw_shared::{EpochMillis, TaskId};
use rusqlite::{params, OptionalExtension, Row, TransactionBehavior};
use uuid::Uuid;

use super::rows::{from_i64, get_task, parse_id, to_i64};
use super::tasks::insert_task;
use super::SqliteStore;
use crate::queue::quota::{Quota, QuotaSettings};
use crate::queue::schedule::{Fired, Firing, NewSchedule, Schedule};
use crate::queue::store::{Refusal, ScheduleStore, StoreError};
use crate::queue::task::Scope;

/// The columns `row_to_schedule` reads, in its order.
const SCHEDULE_COLUMNS: &str = "id, owner, name, cron, tz, task, paused, created_at, \
     next_run_at, last_run_at, last_task_id, runs, last_error";

impl ScheduleStore for SqliteStore {
    fn insert_schedule(
        &self,
        id: ScheduleId,
        schedule: &NewSchedule,
        now: EpochMillis,
        max_per_owner: u64,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let task = serde_json::to_string(&schedule.task)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let owned: i64 = tx.query_row(
            "SELECT COUNT(*) FROM schedules WHERE owner = ?1",
            params![schedule.owner],
            |row| row.get(0),
        )?;
        if from_i64(owned) >= max_per_owner {
            return Ok(Err(Refusal::OverQuota(Quota::SchedulesPerOwner(
                max_per_owner,
            ))));
        }
        tx.execute(
            "INSERT INTO schedules (id, owner, name, cron, tz, task, created_at, next_run_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id.to_string(),
                schedule.owner,
                schedule.name,
                schedule.cron,
                schedule.tz,
                task,
                to_i64(now),
                schedule.next_run_at.map(to_i64),
            ],
        )?;
        tx.commit()?;
        Ok(Ok(()))
    }

    fn schedule(&self, id: ScheduleId) -> Result<Option<Schedule>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE id = ?1"
        ))?;
        stmt.query_row(params![id.to_string()], row_to_schedule)
            .optional()?
            .transpose()
    }

    fn schedules(&self, scope: &Scope, limit: usize) -> Result<Vec<Schedule>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE ?1 IS NULL OR owner = ?1 \
             ORDER BY created_at, id LIMIT ?2"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![scope.owner(), limit], row_to_schedule)?;
        rows.map(|row| row?).collect()
    }

    fn set_paused(
        &self,
        id: ScheduleId,
        paused: bool,
        next_run_at: Option<EpochMillis>,
    ) -> Result<bool, StoreError> {
        let changed = self.conn().execute(
            "UPDATE schedules SET paused = ?2, next_run_at = ?3 WHERE id = ?1",
            params![id.to_string(), paused, next_run_at.map(to_i64)],
        )?;
        Ok(changed == 1)
    }

    fn delete_schedule(&self, id: ScheduleId) -> Result<bool, StoreError> {
        let deleted = self.conn().execute(
            "DELETE FROM schedules WHERE id = ?1",
            params![id.to_string()],
        )?;
        Ok(deleted == 1)
    }

    fn due_schedules(&self, now: EpochMillis, limit: usize) -> Result<Vec<Schedule>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules \
             WHERE next_run_at IS NOT NULL AND next_run_at <= ?1 AND paused = 0 \
             ORDER BY next_run_at LIMIT ?2"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![to_i64(now), limit], row_to_schedule)?;
        rows.map(|row| row?).collect()
    }

    fn fire(
        &self,
        firing: &Firing,
        id: TaskId,
        now: EpochMillis,
        expires_at: EpochMillis,
        ranked_at: EpochMillis,
        quota: &QuotaSettings,
    ) -> Result<Fired, StoreError> {
        let mut conn = self.conn();
        // Immediate: the write lock first, so another process's firer waits for this one's
        // commit and then finds the slot moved.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let schedule_id = firing.id.to_string();
        let taken = tx
            .prepare_cached(
                "UPDATE schedules SET next_run_at = ?3 \
                 WHERE id = ?1 AND next_run_at = ?2 AND paused = 0",
            )?
            .execute(params![
                schedule_id,
                to_i64(firing.slot),
                firing.next_run_at.map(to_i64)
            ])?;
        if taken != 1 {
            return Ok(Fired::Taken);
        }
        let task = match &firing.run {
            Err(why) => {
                record_error(&tx, &schedule_id, why)?;
                tx.commit()?;
                return Ok(Fired::Skipped);
            }
            Ok(task) => task,
        };
        if let Err(refusal) = insert_task(&tx, id, task, now, expires_at, ranked_at, quota)? {
            let why = format!("no task created: {refusal:?}");
            let (why, fired) = match refusal {
                Refusal::OverQuota(quota) => {
                    (format!("no task created: {quota}"), Fired::Refused(quota))
                }
                _ => (why, Fired::Skipped),
            };
            record_error(&tx, &schedule_id, &why)?;
            tx.commit()?;
            return Ok(fired);
        }
        tx.prepare_cached("UPDATE tasks SET schedule_id = ?2, scheduled_for = ?3 WHERE id = ?1")?
            .execute(params![id.to_string(), schedule_id, to_i64(firing.slot)])?;
        tx.prepare_cached(
            "UPDATE schedules SET last_run_at = ?2, last_task_id = ?3, runs = runs + 1, \
             last_error = NULL WHERE id = ?1",
        )?
        .execute(params![schedule_id, to_i64(firing.slot), id.to_string()])?;
        let stored = get_task(&tx, id)?;
        tx.commit()?;
        Ok(stored.map_or(Fired::Skipped, |task| Fired::Queued(Box::new(task))))
    }
}

fn record_error(conn: &rusqlite::Connection, id: &str, why: &str) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE schedules SET last_error = ?2 WHERE id = ?1")?
        .execute(params![id, why])?;
    Ok(())
}

/// Reads one row of `SCHEDULE_COLUMNS`; the inner result carries decoding failures (ours).
fn row_to_schedule(row: &Row<'_>) -> rusqlite::Result<Result<Schedule, StoreError>> {
    let id: String = row.get(0)?;
    let task: String = row.get(5)?;
    let next_run_at: Option<i64> = row.get(8)?;
    let last_run_at: Option<i64> = row.get(9)?;
    let last_task_id: Option<String> = row.get(10)?;
    let runs: i64 = row.get(11)?;
    let owner: String = row.get(1)?;
    let name: Option<String> = row.get(2)?;
    let cron: String = row.get(3)?;
    let tz: String = row.get(4)?;
    let paused: bool = row.get(6)?;
    let created_at: i64 = row.get(7)?;
    let last_error: Option<String> = row.get(12)?;
    Ok((|| {
        Ok(Schedule {
            id: Uuid::parse_str(&id)
                .map(ScheduleId)
                .map_err(|_| StoreError::Corrupt {
                    column: "schedules.id",
                    value: id.clone(),
                })?,
            owner,
            name,
            cron,
            tz,
            task: serde_json::from_str(&task)?,
            paused,
            created_at: from_i64(created_at),
            next_run_at: next_run_at.map(from_i64),
            last_run_at: last_run_at.map(from_i64),
            last_task_id: last_task_id.as_deref().map(parse_id).transpose()?,
            runs: from_i64(runs),
            last_error,
        })
    })())
}
