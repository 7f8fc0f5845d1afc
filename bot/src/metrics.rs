//! Metrics for `GET /metrics` (admin token), in the OpenMetrics text format Prometheus
//! scrapes: tasks created and finished, queue depth, time from submit to start and run time,
//! workers online, long polls held, Discord deliveries retried and failed, webhook attempts by
//! outcome, and HTTP requests by route and status. Counters are updated where things happen;
//! the queue's depth and the workers online are read from the queue at scrape time.

use std::sync::Arc;

use openclaw_shared::{TaskKind, TaskStatus};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::queue::{Queue, QueueStats, TaskEvent};
use crate::telemetry::error_chain;

/// Where a task came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The HTTP API (scripts, agents).
    Api,
    /// A Discord slash command.
    Discord,
    /// An MCP tool call on the bot's `/mcp`.
    Mcp,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Created {
    kind: &'static str,
    source: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Finished {
    kind: &'static str,
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Status {
    status: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Delivery {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Request {
    method: String,
    route: String,
    status: u16,
}

/// Every metric the bot keeps: a cheap `Clone` handle.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    created: Family<Created, Counter>,
    finished: Family<Finished, Counter>,
    queue_depth: Family<Status, Gauge>,
    wait_seconds: Histogram,
    run_seconds: Histogram,
    workers_online: Gauge,
    long_polls: Gauge,
    deliveries: Family<Delivery, Counter>,
    webhooks: Family<Delivery, Counter>,
    requests: Family<Request, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Every metric at zero, registered under the `openclaw` prefix.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("openclaw");
        let created = Family::<Created, Counter>::default();
        let finished = Family::<Finished, Counter>::default();
        let queue_depth = Family::<Status, Gauge>::default();
        // 10 ms to ~3 h: a task starts at once on an awake Mac, or after a night's sleep.
        let wait_seconds = Histogram::new(exponential_buckets(0.01, 4.0, 12));
        let run_seconds = Histogram::new(exponential_buckets(0.01, 4.0, 12));
        let workers_online = Gauge::default();
        let long_polls = Gauge::default();
        let deliveries = Family::<Delivery, Counter>::default();
        let requests = Family::<Request, Counter>::default();
        let webhooks = Family::<Delivery, Counter>::default();
        registry.register(
            "tasks_created",
            "Tasks created, by kind and where they came from",
            created.clone(),
        );
        registry.register(
            "tasks_finished",
            "Tasks that reached a final status, by kind and status",
            finished.clone(),
        );
        registry.register(
            "queue_depth",
            "Tasks in the queue now, by status",
            queue_depth.clone(),
        );
        registry.register(
            "task_wait_seconds",
            "Time from submit to a worker starting the task",
            wait_seconds.clone(),
        );
        registry.register(
            "task_run_seconds",
            "Time from a worker starting the task to its result",
            run_seconds.clone(),
        );
        registry.register(
            "workers_online",
            "Workers heard from recently",
            workers_online.clone(),
        );
        registry.register(
            "long_polls",
            "Worker claims waiting for a task now",
            long_polls.clone(),
        );
        registry.register(
            "discord_deliveries",
            "Discord delivery attempts that failed, by outcome (retried, failed)",
            deliveries.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Webhook attempts, by outcome (delivered, retried, failed)",
            webhooks.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route and status",
            requests.clone(),
        );
        Metrics {
            inner: Arc::new(Inner {
                registry,
                created,
                finished,
                queue_depth,
                wait_seconds,
                run_seconds,
                workers_online,
                long_polls,
                deliveries,
                webhooks,
                requests,
            }),
        }
    }

    /// Counts a task put on the queue.
    pub fn task_created(&self, kind: TaskKind, source: Source) {
        let source = match source {
            Source::Api => "api",
            Source::Discord => "discord",
            Source::Mcp => "mcp",
        };
        self.inner
            .created
            .get_or_create(&Created {
                kind: kind.as_str(),
                source,
            })
            .inc();
    }

    /// Counts a Discord delivery attempt that failed and will be retried.
    pub fn delivery_retried(&self) {
        self.delivery("retried");
    }

    /// Counts a Discord delivery that failed for good or ran out of attempts.
    pub fn delivery_failed(&self) {
        self.delivery("failed");
    }

    fn delivery(&self, outcome: &'static str) {
        self.inner
            .deliveries
            .get_or_create(&Delivery { outcome })
            .inc();
    }

    /// Counts a webhook attempt by its `outcome`: `delivered`, `retried` (failed, will be
    /// tried again) or `failed` (given up).
    pub fn webhook(&self, outcome: &'static str) {
        self.inner
            .webhooks
            .get_or_create(&Delivery { outcome })
            .inc();
    }

    /// Counts an answered HTTP request; `route` is the route template, never the raw path.
    pub fn request(&self, method: &str, route: &str, status: u16) {
        self.inner
            .requests
            .get_or_create(&Request {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
    }

    /// A waiting claim: counted in `long_polls` until the guard is dropped.
    pub fn long_poll(&self) -> LongPoll {
        self.inner.long_polls.inc();
        LongPoll {
            gauge: self.inner.long_polls.clone(),
        }
    }

    /// The metrics as OpenMetrics text, with the queue's depth and workers from `stats`.
    pub fn render(&self, stats: &QueueStats) -> String {
        for status in TaskStatus::ALL {
            let count = stats
                .by_status
                .iter()
                .find(|(s, _)| *s == status)
                .map_or(0, |(_, count)| *count);
            self.inner
                .queue_depth
                .get_or_create(&Status {
                    status: status.as_str(),
                })
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        self.inner
            .workers_online
            .set(i64::try_from(stats.workers.len()).unwrap_or(i64::MAX));
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.inner.registry);
        text
    }

    /// Records finished tasks and their timings from the queue's events until `stop`.
    pub async fn follow(
        self,
        queue: Queue,
        mut events: broadcast::Receiver<TaskEvent>,
        stop: CancellationToken,
    ) {
        loop {
            let event = tokio::select! {
                () = stop.cancelled() => return,
                event = events.recv() => event,
            };
            let id = match event {
                Ok(TaskEvent::Finished { id, .. }) => id,
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "metrics missed task events");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            match queue.get(id).await {
                Ok(task) => {
                    self.inner
                        .finished
                        .get_or_create(&Finished {
                            kind: task.spec.kind().as_str(),
                            status: task.status.as_str(),
                        })
                        .inc();
                    if let Some(started) = task.started_at {
                        let wait = started.saturating_sub(task.created_at);
                        self.inner.wait_seconds.observe(wait as f64 / 1000.0);
                        if let Some(done) = task.completed_at {
                            let run = done.saturating_sub(started);
                            self.inner.run_seconds.observe(run as f64 / 1000.0);
                        }
                    }
                }
                Err(error) => {
                    tracing::debug!(task_id = %id, error = %error_chain(&error), "metrics cannot read a finished task");
                }
            }
        }
    }
}

/// A claim waiting for work; leaves `long_polls` when dropped.
pub struct LongPoll {
    gauge: Gauge,
}

impl Drop for LongPoll {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}
