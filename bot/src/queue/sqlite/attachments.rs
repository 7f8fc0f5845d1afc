//! [`AttachmentStore`] on SQLite: uploaded files in `task_attachments`, deleted with their
//! task by a foreign key.

use openclaw_shared::client::AttachmentInfo;
use openclaw_shared::{EpochMillis, LeaseId, TaskId};
use rusqlite::{params, Connection, OptionalExtension};

use super::leases::held_status;
use super::rows::{from_i64, to_i64};
use super::tasks::read_usage;
use super::SqliteStore;
use crate::queue::quota::{Quota, QuotaSettings};
use crate::queue::store::{AttachmentStore, Refusal, StoreError};

impl AttachmentStore for SqliteStore {
    fn put_attachment(
        &self,
        id: TaskId,
        worker: &str,
        lease: LeaseId,
        attachment: &AttachmentInfo,
        data: &[u8],
        now: EpochMillis,
        quota: &QuotaSettings,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let status = match held_status(&tx, id, worker, lease)? {
            Ok(status) => status,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if status.is_terminal() {
            return Ok(Err(Refusal::Conflict(status)));
        }
        if let Err(quota) = fits(&tx, id, &attachment.name, data.len() as u64, quota)? {
            return Ok(Err(Refusal::OverQuota(quota)));
        }
        tx.prepare_cached(
            "INSERT INTO task_attachments (task_id, name, content_type, data, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (task_id, name) DO UPDATE SET \
             content_type = excluded.content_type, data = excluded.data",
        )?
        .execute(params![
            id.to_string(),
            attachment.name,
            attachment.content_type,
            data,
            to_i64(now)
        ])?;
        tx.commit()?;
        Ok(Ok(()))
    }

    fn attachments(&self, id: TaskId) -> Result<Vec<AttachmentInfo>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT name, content_type, length(data) FROM task_attachments \
             WHERE task_id = ?1 ORDER BY name",
        )?;
        let rows = stmt.query_map(params![id.to_string()], |row| {
            Ok(AttachmentInfo {
                name: row.get(0)?,
                content_type: row.get(1)?,
                size: from_i64(row.get(2)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn attachment(
        &self,
        id: TaskId,
        name: &str,
    ) -> Result<Option<(AttachmentInfo, Vec<u8>)>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT content_type, data FROM task_attachments WHERE task_id = ?1 AND name = ?2",
        )?;
        Ok(stmt
            .query_row(params![id.to_string(), name], |row| {
                let data: Vec<u8> = row.get(1)?;
                Ok((
                    AttachmentInfo {
                        name: name.to_owned(),
                        content_type: row.get(0)?,
                        size: data.len() as u64,
                    },
                    data,
                ))
            })
            .optional()?)
    }
}

/// Whether an attachment of `size` bytes named `name` fits task `id`'s quota and the total,
/// counting the attachment it would replace (same name) as gone.
fn fits(
    conn: &Connection,
    id: TaskId,
    name: &str,
    size: u64,
    quota: &QuotaSettings,
) -> Result<Result<(), Quota>, StoreError> {
    let (others, other_bytes, replaced): (i64, i64, i64) = conn
        .prepare_cached(
            "SELECT count(*) FILTER (WHERE name <> ?2), \
             coalesce(sum(length(data)) FILTER (WHERE name <> ?2), 0), \
             coalesce(sum(length(data)) FILTER (WHERE name = ?2), 0) \
             FROM task_attachments WHERE task_id = ?1",
        )?
        .query_row(params![id.to_string(), name], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?;
    if from_i64(others) >= quota.max_attachments_per_task {
        return Ok(Err(Quota::AttachmentsPerTask(
            quota.max_attachments_per_task,
        )));
    }
    if from_i64(other_bytes).saturating_add(size) > quota.max_attachment_bytes_per_task {
        return Ok(Err(Quota::AttachmentBytesPerTask(
            quota.max_attachment_bytes_per_task,
        )));
    }
    let stored = read_usage(conn)?
        .stored_bytes
        .saturating_sub(from_i64(replaced));
    if stored.saturating_add(size) > quota.max_stored_bytes {
        return Ok(Err(Quota::StoredBytes(quota.max_stored_bytes)));
    }
    Ok(Ok(()))
}
