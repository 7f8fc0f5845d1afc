//! [`LeaseStore`] on SQLite: offering tasks under fresh leases, heartbeats, results, and the
//! one check every worker write goes through ([`held_status`]).

use openclaw_shared::worker::{HeldLease, LeaseReport, LeaseState};
use openclaw_shared::{EpochMillis, LeaseId, TaskId, TaskOutcome, TaskStatus};
use rusqlite::{params, Connection, OptionalExtension};

use super::rows::{get_task, parse_id, parse_status, to_i64, write_outcome};
use super::SqliteStore;
use crate::queue::store::{LeaseStore, Refusal, StoreError};
use crate::queue::task::{flagged_late, Completion, Task, LATE_RESULT_KEY};

/// The tasks a claim takes, in rank order (priority, then age: see `Priority::rank`).
/// Served by the partial index `tasks_claim_order` without a sort, so a claim costs the
/// same with ten or ten thousand tasks queued (see the test below). `INDEXED BY`: without
/// statistics the planner prefers `tasks_by_status` and sorts every queued task.
const CLAIMABLE: &str = "SELECT id FROM tasks INDEXED BY tasks_claim_order WHERE status = 'queued' AND expires_at > ?1 \
     AND (target_worker IS NULL OR target_worker = ?2) ORDER BY ranked_at, seq LIMIT ?3";

impl LeaseStore for SqliteStore {
    fn claim(
        &self,
        worker: &str,
        slots: u32,
        now: EpochMillis,
        offer_expires_at: EpochMillis,
    ) -> Result<Vec<(Task, LeaseId)>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let ids: Vec<String> = {
            let mut stmt = tx.prepare_cached(CLAIMABLE)?;
            let rows = stmt.query_map(params![to_i64(now), worker, slots], |row| row.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut claimed = Vec::with_capacity(ids.len());
        for id in ids {
            let lease = LeaseId::new();
            // Cached: the `usage` triggers are compiled into the statement, once.
            tx.prepare_cached(
                "UPDATE tasks SET status = 'running', worker = ?2, lease_id = ?3, \
                 lease_expires_at = ?4, started_at = ?5, accepted_at = NULL WHERE id = ?1",
            )?
            .execute(params![
                id,
                worker,
                lease.to_string(),
                to_i64(offer_expires_at),
                to_i64(now)
            ])?;
            let task_id = parse_id(&id)?;
            if let Some(task) = get_task(&tx, task_id)? {
                claimed.push((task, lease));
            }
        }
        tx.commit()?;
        Ok(claimed)
    }

    fn heartbeat(
        &self,
        worker: &str,
        leases: &[HeldLease],
        now: EpochMillis,
        lease_expires_at: EpochMillis,
    ) -> Result<Vec<LeaseReport>, StoreError> {
        let conn = self.conn();
        let mut read = conn.prepare_cached(
            "SELECT status, cancel_requested, approval_decision FROM tasks WHERE id = ?1 \
             AND worker = ?2 AND lease_id = ?3",
        )?;
        let mut extend = conn.prepare_cached(
            "UPDATE tasks SET lease_expires_at = ?2, approval_decision = NULL, \
             accepted_at = COALESCE(accepted_at, ?3) WHERE id = ?1",
        )?;
        let answers: Vec<(LeaseState, bool, Option<String>)> = leases
            .iter()
            .map(|held| {
                let id = held.task_id.to_string();
                let found: Option<(String, bool, Option<String>)> = read
                    .query_row(params![id, worker, held.lease.to_string()], |row| {
                        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                    })
                    .optional()?;
                let Some((status, cancel, decision)) = found else {
                    return Ok((LeaseState::Gone, false, None));
                };
                match parse_status(&status)? {
                    TaskStatus::Running | TaskStatus::AwaitingApproval => {}
                    // Lost under this very lease: the worker was out of touch, and its
                    // result is still taken (see `complete`).
                    TaskStatus::Lost => return Ok((LeaseState::Gone, true, None)),
                    _ => return Ok((LeaseState::Gone, false, None)),
                }
                // Same connection, same lock: nothing changes between the read and this.
                extend.execute(params![id, to_i64(lease_expires_at), to_i64(now)])?;
                let state = if cancel {
                    LeaseState::CancelRequested
                } else {
                    LeaseState::Active
                };
                Ok((state, false, decision))
            })
            .collect::<Result<_, StoreError>>()?;
        // Decoded only once every lease is extended: a corrupt decision fails the heartbeat
        // but must not leave the leases after it to lapse.
        leases
            .iter()
            .zip(answers)
            .map(|(held, (state, accepts_late_result, decision))| {
                Ok(LeaseReport {
                    task_id: held.task_id,
                    state,
                    approval: decision.as_deref().map(serde_json::from_str).transpose()?,
                    accepts_late_result,
                })
            })
            .collect()
    }

    fn complete(
        &self,
        id: TaskId,
        worker: &str,
        lease: LeaseId,
        outcome: &TaskOutcome,
        now: EpochMillis,
    ) -> Result<Result<Completion, Refusal>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if let Err(refusal) = held_status(&tx, id, worker, lease)? {
            return Ok(Err(refusal));
        }
        let Some(task) = get_task(&tx, id)? else {
            return Ok(Err(Refusal::NotFound));
        };
        if task.status == TaskStatus::Lost {
            // Only the sweep makes a task `lost`, and it keeps the worker and lease: this is
            // the worker that held it, back after being out of touch (asleep, offline,
            // restarted). Its real result replaces the guess, flagged late, and is
            // delivered again like any result.
            write_outcome(
                &tx,
                id,
                TaskStatus::from(outcome.status),
                &flagged_late(outcome),
                now,
            )?;
            tx.execute(
                "UPDATE tasks SET delivered_at = NULL WHERE id = ?1",
                params![id.to_string()],
            )?;
            tx.commit()?;
            return Ok(Ok(Completion::StoredLate));
        }
        if task.status.is_terminal() {
            let same = task.outcome.as_ref().is_some_and(|stored| {
                stored == outcome
                    || (stored.metadata.contains_key(LATE_RESULT_KEY)
                        && *stored == flagged_late(outcome))
            });
            return Ok(if same {
                Ok(Completion::Duplicate)
            } else {
                Err(Refusal::Conflict(task.status))
            });
        }
        write_outcome(&tx, id, TaskStatus::from(outcome.status), outcome, now)?;
        tx.commit()?;
        Ok(Ok(Completion::Stored))
    }

    fn running_by_worker(&self) -> Result<Vec<(String, usize)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT worker, COUNT(*) FROM tasks WHERE status IN ('running', 'awaiting_approval') \
             AND worker IS NOT NULL GROUP BY worker",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        rows.map(|row| {
            let (worker, count) = row?;
            Ok((worker, usize::try_from(count).unwrap_or(0)))
        })
        .collect()
    }

    fn held(
        &self,
        id: TaskId,
        worker: &str,
        lease: LeaseId,
    ) -> Result<Result<TaskStatus, Refusal>, StoreError> {
        held_status(&self.conn(), id, worker, lease)
    }
}

/// The status of task `id` if `worker` holds it under `lease`; otherwise why not. Every
/// worker write (result, attachment, approval progress) goes through this one check.
pub(super) fn held_status(
    conn: &Connection,
    id: TaskId,
    worker: &str,
    lease: LeaseId,
) -> Result<Result<TaskStatus, Refusal>, StoreError> {
    let held: Option<(String, Option<String>, Option<String>)> = conn
        .query_row(
            "SELECT status, worker, lease_id FROM tasks WHERE id = ?1",
            params![id.to_string()],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let Some((status, holder, current_lease)) = held else {
        return Ok(Err(Refusal::NotFound));
    };
    if holder.as_deref() != Some(worker) {
        return Ok(Err(Refusal::NotHolder));
    }
    if current_lease.as_deref() != Some(lease.to_string().as_str()) {
        return Ok(Err(Refusal::LeaseMismatch));
    }
    Ok(Ok(parse_status(&status)?))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use openclaw_shared::{TaskId, TaskSpec};

    use super::*;
    use crate::queue::quota::QuotaSettings;
    use crate::queue::settings::StorageSettings;
    use crate::queue::store::TaskStore;
    use crate::queue::task::NewTask;
    use crate::queue::Priority;

    #[test]
    fn the_claim_reads_its_index_in_rank_order_without_sorting_thousands_of_queued_tasks() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            SqliteStore::open(&dir.path().join("q.sqlite3"), &StorageSettings::default()).unwrap();
        let quota = QuotaSettings {
            max_live_tasks: 100_000,
            ..QuotaSettings::default()
        };
        for n in 0..5_000_u64 {
            let task = NewTask {
                spec: TaskSpec::Command {
                    command: format!("echo {n}"),
                    cwd: None,
                },
                timeout: Duration::from_secs(30),
                target_worker: (n % 7 == 0).then(|| "mini".to_owned()),
                origin: None,
                owner: None,
                priority: Priority::new(i64::try_from(n % 10).unwrap()).unwrap(),
                callback_url: None,
            };
            let rank = task.priority.rank(n, Duration::from_secs(30));
            store
                .insert(TaskId::new(), &task, n, u64::MAX / 2, rank, &quota)
                .unwrap()
                .unwrap();
        }

        let plan: Vec<String> = {
            let conn = store.conn();
            let mut stmt = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {CLAIMABLE}"))
                .unwrap();
            let rows = stmt
                .query_map(params![0, "mac", 1], |row| row.get::<_, String>(3))
                .unwrap();
            rows.map(Result::unwrap).collect()
        };
        let started = Instant::now();
        let claimed = store.claim("mac", 1, 10, 20).unwrap();
        let took = started.elapsed();

        assert!(
            plan.iter()
                .any(|step| step.contains("USING INDEX tasks_claim_order")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|step| step.contains("TEMP B-TREE")),
            "{plan:?}"
        );
        assert_eq!(claimed[0].0.priority, Priority::HIGHEST);
        tracing::debug!(?took, "claim with 5000 queued");
        assert!(took < Duration::from_millis(200), "a claim took {took:?}");
    }
}
