//! Attachments: files a worker uploads with a live task it holds (screenshots), kept with
//! the task and pruned with it.

use openclaw_shared::client::AttachmentInfo;
use openclaw_shared::{EpochMillis, LeaseId, TaskId};
use rusqlite::{params, OptionalExtension};

use super::clock::now_millis;
use super::error::{refused, QueueError};
use super::handle::Queue;
use super::sqlite::{from_i64, held_status, to_i64, Refusal, Store, StoreError};

impl Queue {
    /// Stores an image the worker uploads with a live task it holds (a screenshot), replacing
    /// one of the same name. The same lease rules as [`Queue::complete`] apply.
    pub async fn add_attachment(
        &self,
        id: TaskId,
        worker: &str,
        lease: LeaseId,
        attachment: AttachmentInfo,
        data: &[u8],
    ) -> Result<(), QueueError> {
        match self
            .inner
            .store
            .put_attachment(id, worker, lease, &attachment, data, now_millis())?
        {
            Ok(()) => {
                tracing::debug!(task_id = %id, name = %attachment.name, size = data.len(), "attachment stored");
                Ok(())
            }
            Err(refusal) => Err(refused(id, refusal)),
        }
    }

    /// The attachments of a task (names, types, sizes).
    pub async fn attachments(&self, id: TaskId) -> Result<Vec<AttachmentInfo>, QueueError> {
        Ok(self.inner.store.attachments(id)?)
    }

    /// One attachment of a task, with its bytes.
    pub async fn attachment(
        &self,
        id: TaskId,
        name: &str,
    ) -> Result<Option<(AttachmentInfo, Vec<u8>)>, QueueError> {
        Ok(self.inner.store.attachment(id, name)?)
    }
}

impl Store {
    /// Stores (or replaces) an attachment of a live task held by `worker` under `lease`.
    pub fn put_attachment(
        &self,
        id: TaskId,
        worker: &str,
        lease: LeaseId,
        attachment: &AttachmentInfo,
        data: &[u8],
        now: EpochMillis,
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
        tx.execute(
            "INSERT INTO task_attachments (task_id, name, content_type, data, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (task_id, name) DO UPDATE SET \
             content_type = excluded.content_type, data = excluded.data",
            params![
                id.to_string(),
                attachment.name,
                attachment.content_type,
                data,
                to_i64(now)
            ],
        )?;
        tx.commit()?;
        Ok(Ok(()))
    }

    /// The attachments of a task, without their bytes, by name.
    pub fn attachments(&self, id: TaskId) -> Result<Vec<AttachmentInfo>, StoreError> {
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

    /// One attachment with its bytes.
    pub fn attachment(
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
