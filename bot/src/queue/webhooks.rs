//! The webhook outbox's [`Queue`] methods: what the webhook sender takes and records, what
//! `/ui` shows, and the manual redeliver. Task events need no method: the store writes
//! them with the change of status itself.

use openclaw_shared::{EpochMillis, TaskId};

use super::error::QueueError;
use super::handle::Queue;
use super::outbox::{AttemptResult, OutboxCounts, WebhookDelivery, WebhookEvent};

impl Queue {
    /// The names of the workers live now (heard from within `worker_expiry`), read from
    /// memory: cheap enough to look at every tick.
    pub fn live_worker_names(&self) -> std::collections::BTreeSet<String> {
        self.inner
            .workers
            .workers(Vec::new())
            .into_iter()
            .map(|w| w.name)
            .collect()
    }

    /// Replaces the configured endpoints' subscriptions (url and event pairs), at start.
    pub async fn set_webhook_subscriptions(
        &self,
        subs: Vec<(String, WebhookEvent)>,
    ) -> Result<(), QueueError> {
        Ok(self
            .write(move |store| store.set_webhook_subscriptions(&subs))
            .await?)
    }

    /// Writes a message about `event` with `data` for every endpoint subscribed to it.
    /// Returns how many were written.
    pub async fn add_webhook_message(
        &self,
        event: WebhookEvent,
        data: serde_json::Value,
        now: EpochMillis,
    ) -> Result<usize, QueueError> {
        Ok(self
            .write(move |store| store.add_webhook_message(event, &data, now))
            .await?)
    }

    /// Takes up to `limit` messages due at `now`, holding each until `held_until` (when it
    /// is due again if no attempt is recorded: at-least-once across a crash).
    pub async fn take_due_webhooks(
        &self,
        now: EpochMillis,
        held_until: EpochMillis,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, QueueError> {
        Ok(self
            .write(move |store| store.take_due_webhooks(now, held_until, limit))
            .await?)
    }

    /// Records an attempt at message `id`.
    pub async fn record_webhook_attempt(
        &self,
        id: String,
        result: AttemptResult,
        now: EpochMillis,
    ) -> Result<bool, QueueError> {
        Ok(self
            .write(move |store| store.record_webhook_attempt(&id, &result, now))
            .await?)
    }

    /// The `limit` most recent messages, newest first (only those about `task` if given).
    pub async fn webhook_deliveries(
        &self,
        task: Option<TaskId>,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, QueueError> {
        Ok(self
            .read(move |store| store.webhook_deliveries(task, limit))
            .await?)
    }

    /// Makes message `id` pending and due now, its attempts counted afresh. Returns
    /// whether it exists.
    pub async fn redeliver_webhook(
        &self,
        id: String,
        now: EpochMillis,
    ) -> Result<bool, QueueError> {
        Ok(self
            .write(move |store| store.redeliver_webhook(&id, now))
            .await?)
    }

    /// When the next pending message is due, if any is.
    pub async fn next_webhook_due(&self) -> Result<Option<EpochMillis>, QueueError> {
        Ok(self.read(|store| store.next_webhook_due()).await?)
    }

    /// How many messages are pending, delivered and failed.
    pub async fn webhook_counts(&self) -> Result<OutboxCounts, QueueError> {
        Ok(self.read(|store| store.webhook_counts()).await?)
    }

    /// Deletes up to `limit` delivered or failed messages written at or before `cutoff`.
    pub async fn prune_webhooks(
        &self,
        cutoff: EpochMillis,
        limit: usize,
    ) -> Result<usize, QueueError> {
        Ok(self
            .write(move |store| store.prune_webhooks(cutoff, limit))
            .await?)
    }
}
