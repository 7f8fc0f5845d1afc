//! Delivery: follows the queue's [`TaskEvent`]s and answers in Discord. Slash commands get a
//! live progress line and their result in the original response (or, once the interaction
//! token has died, in a channel message that mentions the user); tasks from the HTTP API
//! that named a channel get their result posted there. Results that could not be delivered
//! stay in the store and are retried at start, on a timer, and after missed events.

use std::collections::HashMap;
use std::sync::Arc;

use openclaw_shared::{TaskId, TaskStatus};
use poise::serenity_prelude::{ChannelId, Http, UserId};
use tokio::sync::{broadcast, watch, Mutex};
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::progress::{self, Stage};
use super::render::{self, FileOut, Rendered, ResultOptions, MESSAGE_LIMIT};
use super::send::{self, SendError};
use super::Settings;
use crate::intake::{InteractionOrigin, Origin};
use crate::queue::{now_millis, Queue, Task, TaskEvent};
use crate::telemetry::error_chain;

/// Most undelivered results picked up by one redelivery pass.
const REDELIVER_BATCH: usize = 100;
/// Longest screenshot Discord takes (its per-file upload limit for bots).
const MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024;

/// How a delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivered {
    /// The result reached Discord.
    Yes,
    /// Discord was unreachable or refused the bot token: try again later.
    Later,
    /// Discord refused it for good (no access, unknown channel): stop trying. The result
    /// stays in the store, `/tasks` and the API.
    Never,
}

/// What deliveries share: a cheap handle behind an `Arc`.
pub struct Delivery {
    queue: Queue,
    http: Arc<Http>,
    settings: Arc<Settings>,
    stop: CancellationToken,
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
        stop: CancellationToken,
    ) -> Arc<Delivery> {
        Arc::new(Delivery {
            queue,
            http,
            settings,
            stop,
            active: Mutex::new(HashMap::new()),
            followers: TaskTracker::new(),
        })
    }

    /// The queue the tasks live in.
    pub fn queue(&self) -> &Queue {
        &self.queue
    }

    /// The REST client deliveries use.
    pub fn http(&self) -> &Http {
        &self.http
    }

    /// The Discord settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Cancelled when the app stops.
    pub fn stop(&self) -> &CancellationToken {
        &self.stop
    }

    /// Runs until the app stops: redelivers what an earlier run left undelivered, then
    /// reacts to every task event, and retries undelivered results on a timer. `events`
    /// must be subscribed before anything could be missed (before the queue is used).
    pub async fn run(self: Arc<Self>, mut events: broadcast::Receiver<TaskEvent>) {
        self.redeliver().await;
        let mut retry = tokio::time::interval(self.settings.redeliver_interval);
        retry.set_missed_tick_behavior(MissedTickBehavior::Delay);
        retry.reset();
        loop {
            tokio::select! {
                () = self.stop.cancelled() => break,
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
        let task = match self.queue.get(id).await {
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
            match origin {
                Some(Origin::Interaction(origin)) => {
                    progress::follow(Arc::clone(&delivery), id, origin, stages).await;
                }
                _ => delivery.deliver_final(id, false).await,
            }
            delivery.active.lock().await.remove(&id);
        });
    }

    /// Starts a delivery for every finished, undelivered task nobody is following.
    async fn redeliver(self: &Arc<Self>) {
        let mut active = self.active.lock().await;
        let tasks = match self.queue.undelivered(REDELIVER_BATCH).await {
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
                self.mark_delivered(task.id).await;
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
                if let Ok(task) = self.queue.get(*id).await {
                    if task.status.is_terminal() {
                        let _ = follower.send(Stage::Finished);
                    }
                }
            }
        }
        self.redeliver().await;
    }

    /// Delivers the result of finished task `id` to where it came from, and records the
    /// delivery unless it should be tried again later.
    pub(super) async fn deliver_final(&self, id: TaskId, token_alive: bool) {
        let task = match self.queue.get(id).await {
            Ok(task) => task,
            Err(error) => {
                tracing::warn!(task_id = %id, error = %error_chain(&error), "cannot read a finished task to deliver it");
                return;
            }
        };
        let images = self.images(&task).await;
        let delivered = match task.origin.as_ref().and_then(Origin::from_value) {
            Some(Origin::Interaction(origin)) => {
                self.answer_interaction(&task, &origin, &images, token_alive)
                    .await
            }
            Some(Origin::Channel(channel)) => {
                let prefix = format!("-# task `{}` from the API", render::lists::short_id(id));
                self.post(&task, channel, None, &prefix, &images).await
            }
            None => Delivered::Never,
        };
        match delivered {
            Delivered::Yes => {
                tracing::info!(task_id = %id, status = %task.status, "result delivered to Discord");
                self.mark_delivered(id).await;
            }
            Delivered::Never => {
                tracing::warn!(task_id = %id, "Discord refused the result for good; it stays in the store, /tasks and the API");
                self.mark_delivered(id).await;
            }
            Delivered::Later => {
                tracing::warn!(task_id = %id, "result not delivered yet; it will be retried");
            }
        }
    }

    /// Edits the original response with the result; falls back to the channel when the
    /// token has died or Discord will not take the edit.
    async fn answer_interaction(
        &self,
        task: &Task,
        origin: &InteractionOrigin,
        images: &[FileOut],
        token_alive: bool,
    ) -> Delivered {
        let fresh = origin.token_is_fresh(now_millis(), self.settings.interaction_ttl);
        if token_alive && fresh {
            let edited = self
                .retrying(
                    "editing the original response",
                    task,
                    images,
                    MESSAGE_LIMIT,
                    |message| {
                        let http = Arc::clone(&self.http);
                        let origin = origin.clone();
                        async move { send::edit_original(&http, &origin, &message).await }
                    },
                )
                .await;
            match edited {
                Ok(()) => return Delivered::Yes,
                Err(SendError::Transient(_) | SendError::Unauthorized) => return Delivered::Later,
                Err(error) => {
                    tracing::info!(task_id = %task.id, %error, "answering in the channel instead");
                }
            }
        }
        let prefix = format!(
            "<@{}> result of your `/{}`:",
            origin.user_id, origin.command
        );
        self.post(
            task,
            origin.channel_id,
            Some(origin.user_id),
            &prefix,
            images,
        )
        .await
    }

    /// Posts the result in `channel` under `prefix`, mentioning only `mention`.
    async fn post(
        &self,
        task: &Task,
        channel: ChannelId,
        mention: Option<UserId>,
        prefix: &str,
        images: &[FileOut],
    ) -> Delivered {
        let budget = MESSAGE_LIMIT.saturating_sub(prefix.chars().count() + 1);
        let posted = self
            .retrying(
                "posting the result in its channel",
                task,
                images,
                budget,
                |mut message| {
                    let http = Arc::clone(&self.http);
                    message.content = format!("{prefix}\n{}", message.content);
                    async move { send::post(&http, channel, &message, mention).await }
                },
            )
            .await;
        match posted {
            Ok(()) => Delivered::Yes,
            Err(SendError::Transient(_) | SendError::Unauthorized) => Delivered::Later,
            Err(error) => {
                tracing::warn!(task_id = %task.id, channel = %channel, %error, "Discord refused the result message");
                Delivered::Never
            }
        }
    }

    /// Renders the result and sends it with `call`, retrying transient failures, and once
    /// more without files if Discord found them too large.
    async fn retrying<F, Fut>(
        &self,
        what: &str,
        task: &Task,
        images: &[FileOut],
        budget: usize,
        mut call: F,
    ) -> Result<(), SendError>
    where
        F: FnMut(Rendered) -> Fut,
        Fut: std::future::Future<Output = Result<poise::serenity_prelude::MessageId, SendError>>,
    {
        let mut options = ResultOptions {
            budget,
            files_allowed: true,
        };
        loop {
            let message = render::result(task, images.to_vec(), options);
            let sent = send::with_retries(self.settings.retry, &self.stop, what, || {
                call(message.clone())
            })
            .await;
            match sent {
                Err(SendError::TooLarge) if options.files_allowed => {
                    tracing::info!(task_id = %task.id, "Discord refused the files as too large; sending without them");
                    options.files_allowed = false;
                }
                other => return other.map(|_| ()),
            }
        }
    }

    /// The images (screenshots) the worker uploaded with the task, within Discord's limits.
    async fn images(&self, task: &Task) -> Vec<FileOut> {
        if !matches!(task.status, TaskStatus::Succeeded | TaskStatus::Failed) {
            return Vec::new();
        }
        let infos = match self.queue.attachments(task.id).await {
            Ok(infos) => infos,
            Err(error) => {
                tracing::warn!(task_id = %task.id, error = %error_chain(&error), "cannot list the task's attachments");
                return Vec::new();
            }
        };
        let mut images = Vec::new();
        for info in infos.iter().take(render::MAX_FILES - 1) {
            if !info.content_type.starts_with("image/") || info.size > MAX_IMAGE_BYTES {
                continue;
            }
            if let Ok(Some((_, bytes))) = self.queue.attachment(task.id, &info.name).await {
                images.push(FileOut {
                    name: info.name.clone(),
                    bytes,
                });
            }
        }
        images
    }

    async fn mark_delivered(&self, id: TaskId) {
        if let Err(error) = self.queue.mark_delivered(id).await {
            tracing::warn!(task_id = %id, error = %error_chain(&error), "cannot record a delivery");
        }
    }
}
