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
        let (holder, size, now) = (worker.to_owned(), data.len(), now_millis());
        // A copy the store's thread owns: the request's buffer may be gone before it runs.
        let data = data.to_vec();
        let quota = self.inner.settings.quota;
        let stored = self
            .write(move |store| {
                let stored =
                    store.put_attachment(id, &holder, lease, &attachment, &data, now, &quota)?;
                Ok(stored.map(|()| attachment.name))
            })
            .await?;
        match stored {
            Ok(name) => {
                tracing::debug!(task_id = %id, %name, size, "attachment stored");
                Ok(())
            }
            Err(refusal) => Err(refused(id, refusal)),
        }
    }

    /// The attachments of a task (names, types, sizes).
    pub async fn attachments(&self, id: TaskId) -> Result<Vec<AttachmentInfo>, QueueError> {
        Ok(self.read(move |store| store.attachments(id)).await?)
    }

    /// One attachment of a task, with its bytes.
    pub async fn attachment(
        &self,
        id: TaskId,
        name: &str,
    ) -> Result<Option<(AttachmentInfo, Vec<u8>)>, QueueError> {
        let name = name.to_owned();
        Ok(self.read(move |store| store.attachment(id, &name)).await?)
    }
}
