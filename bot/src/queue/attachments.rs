//! Attachments: files a worker uploads with a live task it holds (screenshots), kept with
//! the task and pruned with it.

use openclaw_shared::client::AttachmentInfo;
use openclaw_shared::{LeaseId, TaskId};

use super::clock::now_millis;
use super::error::{refused, QueueError};
use super::handle::Queue;

impl Queue {
    /// Stores an image the worker uploads with a live task it holds (a screenshot), replacing
    /// one of the same name. The same lease rules as [`Queue::complete`] apply. Past the
    /// quota (attachments per task, their bytes, bytes stored in total) it is refused with
    /// [`QueueError::QuotaExceeded`] and nothing is stored.
    pub async fn add_attachment(
        &self,
        id: TaskId,
        worker: &str,
        lease: LeaseId,
        attachment: AttachmentInfo,
        data: &[u8],
    ) -> Result<(), QueueError> {
        match self.inner.store.put_attachment(
            id,
            worker,
            lease,
            &attachment,
            data,
            now_millis(),
            &self.inner.settings.quota,
        )? {
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
