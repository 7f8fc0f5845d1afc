//! The webhook sender: works through the queue's durable outbox, signing each message per
//! the Standard Webhooks spec and retrying with backoff until the receiver takes it or the
//! attempts run out (at-least-once, one stable `webhook-id` per message). It also notices
//! workers coming and going and writes their events.
//!
//! # Layout
//! - `sign`: the `webhook-signature` value.
//! - `guard`: the resolver that keeps clients' callbacks off internal addresses.
//! - `send`: one attempt, and the retry rule.
//!
//! An adapter like `api` and `discord`: it uses the queue, never another adapter. No payload
//! carries a secret: task events name the task, its kind, status and worker, never its
//! output, an interaction token or an API token.

mod guard;
mod send;
mod sign;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::{secret_key, WebhookDeliveryConfig, WebhookEndpointConfig};
use crate::metrics::Metrics;
use crate::queue::{now_millis, AttemptResult, Queue, TaskEvent, WebhookEvent};
use crate::telemetry::error_chain;

pub use guard::{GuardedResolver, Refused};
pub use sign::signature;

/// How often the sender looks for due messages and for workers come or gone when nothing
/// woke it sooner.
const TICK: Duration = Duration::from_millis(500);
/// Most messages sent at once.
const BATCH: usize = 16;
/// Margin on top of an attempt's timeout before a taken message is due again (a sender
/// that died mid-attempt).
const HOLD_MARGIN: Duration = Duration::from_secs(30);
/// Delivered and failed messages deleted per pass.
const PRUNE_BATCH: usize = 500;
/// How often old messages are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// The sender's timing rules, from `[webhook_delivery]`.
#[derive(Debug, Clone, Copy)]
struct Settings {
    max_attempts: u32,
    retry_base: Duration,
    max_retry_delay: Duration,
    timeout: Duration,
    retention: Duration,
}

/// What an attempt needs: the clients, the keys and the rules. Cheap to share.
struct Sender {
    /// For configured endpoints: the operator's own URLs, any address.
    endpoint_client: reqwest::Client,
    /// For clients' callbacks: resolves through [`GuardedResolver`].
    callback_client: reqwest::Client,
    /// Each configured endpoint's key, by url (never logged).
    endpoint_keys: HashMap<String, Vec<u8>>,
    /// The key callbacks are signed with.
    callback_key: Option<Vec<u8>>,
    allow_loopback: bool,
    settings: Settings,
}

/// Builds the sender and runs it until `stop`: writes the subscriptions, then sends what
/// is due whenever a task event, a tick or a finished attempt says so. A failing store is
/// logged and retried next tick.
pub async fn run(
    queue: Queue,
    endpoints: Vec<WebhookEndpointConfig>,
    delivery: WebhookDeliveryConfig,
    metrics: Metrics,
    stop: CancellationToken,
) {
    let sender = match Sender::new(&endpoints, &delivery) {
        Ok(sender) => Arc::new(sender),
        Err(err) => {
            tracing::error!(error = %error_chain(&err), "webhooks disabled: no HTTP client");
            return;
        }
    };
    let subs: Vec<(String, WebhookEvent)> = endpoints
        .iter()
        .flat_map(|e| e.event_list().into_iter().map(|ev| (e.url.clone(), ev)))
        .collect();
    if let Err(err) = queue.set_webhook_subscriptions(subs).await {
        tracing::error!(error = %error_chain(&err), "could not record webhook subscriptions");
    }
    let mut events = queue.subscribe();
    let mut workers = BTreeSet::new();
    let mut in_flight = JoinSet::new();
    let mut pruned_at = tokio::time::Instant::now();
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = ticker.tick() => {
                note_workers(&queue, &mut workers).await;
                if pruned_at.elapsed() >= PRUNE_EVERY {
                    pruned_at = tokio::time::Instant::now();
                    prune(&queue, sender.settings.retention).await;
                }
                // A read, so an idle outbox costs no write per tick.
                match queue.next_webhook_due().await {
                    Ok(Some(due)) if due <= now_millis() => {}
                    Ok(_) => continue,
                    Err(err) => {
                        tracing::warn!(error = %error_chain(&err), "could not read the webhook outbox");
                        continue;
                    }
                }
            }
            event = events.recv() => match event {
                Ok(TaskEvent::Finished { .. } | TaskEvent::AwaitingApproval { .. })
                | Err(RecvError::Lagged(_)) => {}
                Ok(_) => continue,
                Err(RecvError::Closed) => break,
            },
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
        }
        if in_flight.len() >= BATCH {
            continue;
        }
        let now = now_millis();
        let hold = sender.settings.timeout + HOLD_MARGIN;
        let held_until = now.saturating_add(u64::try_from(hold.as_millis()).unwrap_or(u64::MAX));
        let due = match queue
            .take_due_webhooks(now, held_until, BATCH - in_flight.len())
            .await
        {
            Ok(due) => due,
            Err(err) => {
                tracing::warn!(error = %error_chain(&err), "could not read due webhooks");
                continue;
            }
        };
        for delivery in due {
            let sender = Arc::clone(&sender);
            let queue = queue.clone();
            let metrics = metrics.clone();
            in_flight.spawn(async move {
                let attempt = sender.attempt(&delivery).await;
                let result = sender.result(attempt, delivery.attempts, now_millis());
                let outcome = match &result {
                    AttemptResult::Delivered { .. } => "delivered",
                    AttemptResult::Retry { .. } => "retried",
                    AttemptResult::Failed { .. } => "failed",
                };
                metrics.webhook(outcome);
                match &result {
                    AttemptResult::Delivered { status } => tracing::info!(
                        webhook_id = %delivery.id, event = %delivery.event, status, "webhook delivered"
                    ),
                    AttemptResult::Retry { error, .. } | AttemptResult::Failed { error, .. } => {
                        tracing::warn!(webhook_id = %delivery.id, event = %delivery.event, outcome, %error, "webhook not delivered");
                    }
                }
                if let Err(err) = queue
                    .record_webhook_attempt(delivery.id.clone(), result, now_millis())
                    .await
                {
                    // The message stays held, and is sent again once the hold runs out.
                    tracing::warn!(webhook_id = %delivery.id, error = %error_chain(&err), "could not record a webhook attempt");
                }
            });
        }
    }
    // Attempts under way are dropped: their messages are due again after the hold.
    in_flight.abort_all();
}

impl Sender {
    fn new(
        endpoints: &[WebhookEndpointConfig],
        delivery: &WebhookDeliveryConfig,
    ) -> Result<Sender, reqwest::Error> {
        let base = || {
            reqwest::Client::builder()
                // A receiver's redirect is not followed: it could lead anywhere, and the
                // callback rules judged only the URL given.
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .timeout(delivery.timeout())
                .user_agent(concat!("openclaw-bot/", env!("CARGO_PKG_VERSION")))
        };
        let allow_loopback = delivery.allow_loopback_callbacks;
        Ok(Sender {
            endpoint_client: base().build()?,
            callback_client: base()
                .dns_resolver(Arc::new(GuardedResolver { allow_loopback }))
                .build()?,
            endpoint_keys: endpoints
                .iter()
                .filter_map(|e| Some((e.url.clone(), secret_key(&e.secret)?)))
                .collect(),
            callback_key: delivery.callback_secret.as_ref().and_then(secret_key),
            allow_loopback,
            settings: Settings {
                max_attempts: delivery.max_attempts,
                retry_base: Duration::from_millis(delivery.retry_base_ms),
                max_retry_delay: Duration::from_secs(delivery.max_retry_delay_secs),
                timeout: delivery.timeout(),
                retention: Duration::from_secs(delivery.retention_secs),
            },
        })
    }
}

/// Writes `worker.online` for each worker live now that was not at the last look, and
/// `worker.offline` for each gone since. The registry is in memory, so after a restart a
/// worker's first poll counts as coming online.
async fn note_workers(queue: &Queue, known: &mut BTreeSet<String>) {
    let live: BTreeSet<String> = queue.live_worker_names();
    let now = now_millis();
    let came = live
        .difference(known)
        .map(|w| (WebhookEvent::WorkerOnline, w));
    let went = known
        .difference(&live)
        .map(|w| (WebhookEvent::WorkerOffline, w));
    for (event, worker) in came.chain(went) {
        let data = serde_json::json!({ "worker": worker });
        match queue.add_webhook_message(event, data, now).await {
            Ok(_) => tracing::info!(worker = %worker, event = event.as_str(), "worker event"),
            Err(err) => {
                // Presence is in memory: retried at the next look, not lost.
                tracing::warn!(error = %error_chain(&err), "could not record a worker event");
                return;
            }
        }
    }
    *known = live;
}

/// Deletes delivered and failed messages older than `retention`.
async fn prune(queue: &Queue, retention: Duration) {
    let cutoff = now_millis().saturating_sub(u64::try_from(retention.as_millis()).unwrap_or(0));
    if let Err(err) = queue.prune_webhooks(cutoff, PRUNE_BATCH).await {
        tracing::warn!(error = %error_chain(&err), "could not prune webhook messages");
    }
}
