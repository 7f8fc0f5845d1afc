//! Delivery: follows the queue's [`TaskEvent`]s and answers in Discord. Slash commands get a
//! live progress line and their result in the original response (or, once the interaction
//! token has died, in a channel message that mentions the user); tasks from the HTTP API
//! that named a channel get their result posted there. Results that could not be delivered
//! stay in the store and are retried at start, on a timer, and after missed events.

mod result;

use std::collections::HashMap;
use std::sync::Arc;

use openclaw_shared::TaskId;
use poise::serenity_prelude::Http;
use tokio::sync::{broadcast, watch, Mutex};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::courier::Courier;
use super::progress::{self, Followed, Stage};
use super::Settings;
use crate::intake::{CallbackChannels, Origin};
use crate::metrics::Metrics;
use crate::queue::{Queue, Task, TaskEvent};
use crate::telemetry::error_chain;

/// Most undelivered results picked up by one redelivery pass.
const REDELIVER_BATCH: usize = 100;

/// The delivery service: which tasks are being followed, and their followers.
pub struct Delivery {
    courier: Courier,
    /// Tasks being followed, each with the channel its follower reads stages from. A tokio
    /// mutex: the redelivery pass holds it across its read of the store, so a follower that
    /// finishes meanwhile cannot be started a second time.
    active: Mutex<HashMap<TaskId, watch::Sender<Stage>>>,
    /// Followers, so shutdown waits for them (they return at once when `stop` fires).
    followers: TaskTracker,
}

impl Delivery {
    /// A delivery service over `queue`, answering through `http`.
    pub fn new(
        queue: Queue,
        http: Arc<Http>,
        settings: Arc<Settings>,
        channels: CallbackChannels,
        metrics: Metrics,
        stop: CancellationToken,
    ) -> Arc<Delivery> {
        Arc::new(Delivery {
            courier: Courier {
                queue,
                http,
                settings,
                channels,
                metrics,
                stop,
            },
            active: Mutex::new(HashMap::new()),
            followers: TaskTracker::new(),
        })
    }

    /// Runs until the app stops: redelivers what an earlier run left undelivered, then
    /// reacts to every task event, and retries undelivered results on a timer. `events`
    /// must be subscribed before anything could be missed (before the queue is used).
    pub async fn run(self: Arc<Self>, mut events: broadcast::Receiver<TaskEvent>) {
        self.redeliver().await;
        let mut retry = tokio::time::interval(self.courier.settings.redeliver_interval);
        retry.set_missed_tick_behavior(MissedTickBehavior::Delay);
        retry.reset();
        loop {
            tokio::select! {
                () = self.courier.stop.cancelled() => break,
                event = events.recv() => match event {
                    Ok(event) => self.on_event(event).await,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "Discord delivery fell behind the queue's events; resyncing");
                        self.resync().await;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = retry.tick() => self.redeliver().await,
            }
        }
        self.followers.close();
        self.followers.wait().await;
    }

    /// Passes a stage to the task's follower, or starts one if the task came from Discord.
    async fn on_event(self: &Arc<Self>, event: TaskEvent) {
        let id = event.task_id();
        let stage = Stage::of(&event);
        let mut active = self.active.lock().await;
        if let Some(follower) = active.get(&id) {
            // A follower that already returned is about to leave the map; nothing to tell it.
            let _ = follower.send(stage);
            return;
        }
        let task = match self.courier.queue.get(id).await {
            Ok(task) => task,
            Err(error) => {
                tracing::warn!(task_id = %id, error = %error_chain(&error), "cannot read an event's task");
                return;
            }
        };
        match task.origin.as_ref().map(Origin::from_value) {
            Some(Some(Origin::Interaction(_))) => self.start(&mut active, task, stage),
            Some(Some(Origin::Channel(_))) if stage == Stage::Finished => {
                self.start(&mut active, task, stage);
            }
            _ => {}
        }
    }

    /// Starts following `task` from `stage`. The caller holds the `active` lock.
    fn start(
        self: &Arc<Self>,
        active: &mut HashMap<TaskId, watch::Sender<Stage>>,
        task: Task,
        stage: Stage,
    ) {
        let id = task.id;
        let (sender, stages) = watch::channel(stage);
        active.insert(id, sender);
        let delivery = Arc::clone(self);
        let origin = task.origin.as_ref().and_then(Origin::from_value);
        self.followers.spawn(async move {
            let courier = &delivery.courier;
            let token_alive = match origin {
                Some(Origin::Interaction(origin)) => {
                    match progress::follow(courier, id, &origin, stages).await {
                        Followed::Finished { token_alive } => Some(token_alive),
                        Followed::Stopped => None,
                    }
                }
                _ => Some(false),
            };
            if let Some(token_alive) = token_alive {
                result::deliver(courier, id, token_alive).await;
            }
            delivery.active.lock().await.remove(&id);
        });
    }

    /// Starts a delivery for every finished, undelivered task nobody is following.
    async fn redeliver(self: &Arc<Self>) {
        let mut active = self.active.lock().await;
        let tasks = match self.courier.queue.undelivered(REDELIVER_BATCH).await {
            Ok(tasks) => tasks,
            Err(error) => {
                tracing::error!(error = %error_chain(&error), "cannot list undelivered results");
                return;
            }
        };
        for task in tasks {
            if active.contains_key(&task.id) {
                continue;
            }
            if task.origin.as_ref().and_then(Origin::from_value).is_none() {
                // Discord is the only adapter that sets origins; one it cannot read (e.g. a
                // channel id of 0) would sit at the head of the list forever.
                tracing::warn!(task_id = %task.id, "task origin names no Discord target; not delivering it");
                result::mark_delivered(&self.courier.queue, task.id).await;
                continue;
            }
            tracing::info!(task_id = %task.id, "delivering a result left undelivered");
            self.start(&mut active, task, Stage::Finished);
        }
    }

    /// After missed events: tells followers of tasks that finished meanwhile, and picks up
    /// results whose events were missed.
    async fn resync(self: &Arc<Self>) {
        {
            let active = self.active.lock().await;
            for (id, follower) in active.iter() {
                if let Ok(task) = self.courier.queue.get(*id).await {
                    if task.status.is_terminal() {
                        let _ = follower.send(Stage::Finished);
                    }
                }
            }
        }
        self.redeliver().await;
    }
}
