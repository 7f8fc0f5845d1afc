//! [`WebhookStore`] on SQLite: the `webhook_deliveries` outbox and the subscriptions its
//! triggers (migration 0008) fan task events out from.

use openclaw_shared::{EpochMillis, TaskId};
use rusqlite::{params, OptionalExtension, Row};

use super::rows::{from_i64, to_i64};
use super::SqliteStore;
use crate::queue::outbox::{
    AttemptResult, OutboxCounts, WebhookDelivery, WebhookEvent, WebhookState, WebhookTarget,
};
use crate::queue::store::{StoreError, WebhookStore};

/// The columns `row_to_delivery` reads, in its order.
const DELIVERY_COLUMNS: &str = "id, target, url, event, task_id, payload, created_at, state, \
     attempts, next_attempt_at, last_attempt_at, last_status, last_error";

impl WebhookStore for SqliteStore {
    fn set_webhook_subscriptions(&self, subs: &[(String, WebhookEvent)]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM webhook_subscriptions", [])?;
        for (url, event) in subs {
            tx.execute(
                "INSERT OR IGNORE INTO webhook_subscriptions (url, event) VALUES (?1, ?2)",
                params![url, event.as_str()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn add_webhook_message(
        &self,
        event: WebhookEvent,
        data: &serde_json::Value,
        now: EpochMillis,
    ) -> Result<usize, StoreError> {
        let data = serde_json::to_string(data)?;
        let added = self.conn().prepare_cached(
            "INSERT INTO webhook_deliveries (id, target, url, event, payload, created_at, next_attempt_at) \
             SELECT 'msg_' || lower(hex(randomblob(16))), 'endpoint', url, ?1, \
                 json_object('type', ?1, 'timestamp', strftime('%Y-%m-%dT%H:%M:%fZ', ?3 / 1000.0, 'unixepoch'), \
                     'data', json(?2)), ?3, ?3 \
             FROM webhook_subscriptions WHERE event = ?1",
        )?
        .execute(params![event.as_str(), data, to_i64(now)])?;
        Ok(added)
    }

    fn take_due_webhooks(
        &self,
        now: EpochMillis,
        held_until: EpochMillis,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let taken = {
            let mut stmt = tx.prepare_cached(&format!(
                "UPDATE webhook_deliveries SET next_attempt_at = ?2 WHERE seq IN ( \
                     SELECT seq FROM webhook_deliveries \
                     WHERE state = 'pending' AND next_attempt_at <= ?1 \
                     ORDER BY next_attempt_at, seq LIMIT ?3) \
                 RETURNING {DELIVERY_COLUMNS}"
            ))?;
            let rows = stmt.query_map(
                params![
                    to_i64(now),
                    to_i64(held_until),
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                row_to_delivery,
            )?;
            rows.map(|row| row?).collect::<Result<Vec<_>, _>>()?
        };
        tx.commit()?;
        Ok(taken)
    }

    fn record_webhook_attempt(
        &self,
        id: &str,
        result: &AttemptResult,
        now: EpochMillis,
    ) -> Result<bool, StoreError> {
        let (state, status, error, next) = match result {
            AttemptResult::Delivered { status } => {
                (WebhookState::Delivered, Some(*status), None, now)
            }
            AttemptResult::Retry {
                status,
                error,
                retry_at,
            } => (
                WebhookState::Pending,
                *status,
                Some(error.as_str()),
                *retry_at,
            ),
            AttemptResult::Failed { status, error } => {
                (WebhookState::Failed, *status, Some(error.as_str()), now)
            }
        };
        let changed = self
            .conn()
            .prepare_cached(
                "UPDATE webhook_deliveries SET state = ?2, attempts = attempts + 1, \
             last_attempt_at = ?3, last_status = ?4, last_error = ?5, next_attempt_at = ?6 \
             WHERE id = ?1",
            )?
            .execute(params![
                id,
                state.as_str(),
                to_i64(now),
                status,
                error,
                to_i64(next)
            ])?;
        Ok(changed > 0)
    }

    fn webhook_deliveries(
        &self,
        task: Option<TaskId>,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let conn = self.conn();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = match task {
            Some(task) => {
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE task_id = ?1 \
                     ORDER BY seq DESC LIMIT ?2"
                ))?;
                let rows = stmt.query_map(params![task.to_string(), limit], row_to_delivery)?;
                rows.collect::<Result<Vec<_>, _>>()?
            }
            None => {
                let mut stmt = conn.prepare_cached(&format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries ORDER BY seq DESC LIMIT ?1"
                ))?;
                let rows = stmt.query_map(params![limit], row_to_delivery)?;
                rows.collect::<Result<Vec<_>, _>>()?
            }
        };
        rows.into_iter().collect()
    }

    fn redeliver_webhook(&self, id: &str, now: EpochMillis) -> Result<bool, StoreError> {
        let changed = self.conn().execute(
            "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?2 \
             WHERE id = ?1",
            params![id, to_i64(now)],
        )?;
        Ok(changed > 0)
    }

    fn next_webhook_due(&self) -> Result<Option<EpochMillis>, StoreError> {
        let next: Option<i64> = self
            .conn()
            .prepare_cached(
                "SELECT min(next_attempt_at) FROM webhook_deliveries WHERE state = 'pending'",
            )?
            .query_row([], |row| row.get(0))
            .optional()?
            .flatten();
        Ok(next.map(from_i64))
    }

    fn webhook_counts(&self) -> Result<OutboxCounts, StoreError> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT state, count(*) FROM webhook_deliveries GROUP BY state")?;
        let mut counts = OutboxCounts::default();
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (state, count) = row?;
            let count = u64::try_from(count).unwrap_or(0);
            match WebhookState::parse(&state) {
                Some(WebhookState::Pending) => counts.pending = count,
                Some(WebhookState::Delivered) => counts.delivered = count,
                Some(WebhookState::Failed) => counts.failed = count,
                None => {
                    return Err(StoreError::Corrupt {
                        column: "webhook_deliveries.state",
                        value: state,
                    })
                }
            }
        }
        Ok(counts)
    }

    fn prune_webhooks(&self, cutoff: EpochMillis, limit: usize) -> Result<usize, StoreError> {
        let deleted = self.conn().execute(
            "DELETE FROM webhook_deliveries WHERE seq IN ( \
                 SELECT seq FROM webhook_deliveries \
                 WHERE state IN ('delivered', 'failed') AND created_at <= ?1 \
                 ORDER BY seq LIMIT ?2)",
            params![to_i64(cutoff), i64::try_from(limit).unwrap_or(i64::MAX)],
        )?;
        Ok(deleted)
    }
}

/// Reads one row of `DELIVERY_COLUMNS`. The inner result carries decoding failures (ours).
fn row_to_delivery(row: &Row<'_>) -> rusqlite::Result<Result<WebhookDelivery, StoreError>> {
    let target: String = row.get(1)?;
    let task_id: Option<String> = row.get(4)?;
    let state: String = row.get(7)?;
    let attempts: i64 = row.get(8)?;
    let last_attempt_at: Option<i64> = row.get(10)?;
    let last_status: Option<i64> = row.get(11)?;
    let target = match target.as_str() {
        "endpoint" => WebhookTarget::Endpoint,
        "callback" => WebhookTarget::Callback,
        _ => {
            return Ok(Err(StoreError::Corrupt {
                column: "webhook_deliveries.target",
                value: target,
            }))
        }
    };
    let Some(state_value) = WebhookState::parse(&state) else {
        return Ok(Err(StoreError::Corrupt {
            column: "webhook_deliveries.state",
            value: state,
        }));
    };
    let task_id = match task_id.map(|id| id.parse::<TaskId>().map_err(|_| id)) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(value)) => {
            return Ok(Err(StoreError::Corrupt {
                column: "webhook_deliveries.task_id",
                value,
            }))
        }
    };
    Ok(Ok(WebhookDelivery {
        id: row.get(0)?,
        target,
        url: row.get(2)?,
        event: row.get(3)?,
        task_id,
        payload: row.get(5)?,
        created_at: from_i64(row.get(6)?),
        state: state_value,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        next_attempt_at: from_i64(row.get(9)?),
        last_attempt_at: last_attempt_at.map(from_i64),
        last_status: last_status.and_then(|s| u16::try_from(s).ok()),
        last_error: row.get(12)?,
    }))
}
