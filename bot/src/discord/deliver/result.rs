//! The final answer: a finished task's result rendered and sent where it came from — the
//! slash command's original response (or, once its token has died, its channel with a
//! mention), or the channel an API client named — with retries, recorded once delivered.

use std::sync::Arc;

use openclaw_shared::{TaskId, TaskStatus};
use poise::serenity_prelude::{ChannelId, UserId};

use crate::discord::courier::Courier;
use crate::discord::render::{self, FileOut, Rendered, ResultOptions, MESSAGE_LIMIT};
use crate::discord::send::{self, SendError};
use crate::intake::{ChannelVerdict, InteractionOrigin, Origin, Requester};
use crate::queue::{now_millis, Queue, Task};
use crate::telemetry::error_chain;

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

/// Delivers the result of finished task `id` to where it came from, and records the
/// delivery unless it should be tried again later.
pub(super) async fn deliver(courier: &Courier, id: TaskId, token_alive: bool) {
    let task = match courier.queue.get(id).await {
        Ok(task) => task,
        Err(error) => {
            tracing::warn!(task_id = %id, error = %error_chain(&error), "cannot read a finished task to deliver it");
            return;
        }
    };
    let images = images(courier, &task).await;
    let delivered = match task.origin.as_ref().and_then(Origin::from_value) {
        Some(Origin::Interaction(origin)) => {
            answer_interaction(courier, &task, &origin, &images, token_alive).await
        }
        Some(Origin::Channel(channel))
            if courier.channels.verdict(channel.get()) != ChannelVerdict::Allowed =>
        {
            // Named before the allow-list was loaded, or refused by Discord since: no call
            // for a channel the bot does not post in.
            tracing::warn!(task_id = %id, %channel, "the task's channel is not on the callback allow-list; not posting");
            Delivered::Never
        }
        Some(Origin::Channel(channel)) => {
            // A Discord user's task posted in a channel (not an interaction) is a run of
            // their schedule (`/schedule add`); the API's name a channel themselves.
            let from = match task.owner.as_deref().and_then(Requester::from_owner) {
                Some(Requester::DiscordUser(user)) => format!("scheduled by <@{user}>"),
                _ => "from the API".to_owned(),
            };
            let prefix = format!("-# task `{}` {from}", render::lists::short_id(id));
            post(courier, &task, channel, None, &prefix, &images).await
        }
        None => Delivered::Never,
    };
    match delivered {
        Delivered::Yes => {
            tracing::info!(task_id = %id, status = %task.status, "result delivered to Discord");
            mark_delivered(&courier.queue, id).await;
        }
        Delivered::Never => {
            courier.metrics.delivery_failed();
            tracing::warn!(task_id = %id, "Discord refused the result for good; it stays in the store, /tasks and the API");
            mark_delivered(&courier.queue, id).await;
        }
        Delivered::Later => {
            courier.metrics.delivery_failed();
            tracing::warn!(task_id = %id, "result not delivered yet; it will be retried");
        }
    }
}

/// Edits the original response with the result; falls back to the channel when the
/// token has died or Discord will not take the edit.
async fn answer_interaction(
    courier: &Courier,
    task: &Task,
    origin: &InteractionOrigin,
    images: &[FileOut],
    token_alive: bool,
) -> Delivered {
    let fresh = origin.token_is_fresh(now_millis(), courier.settings.interaction_ttl);
    if token_alive && fresh {
        let edited = retrying(
            courier,
            "editing the original response",
            task,
            images,
            MESSAGE_LIMIT,
            |message| {
                let http = Arc::clone(&courier.http);
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
    post(
        courier,
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
    courier: &Courier,
    task: &Task,
    channel: ChannelId,
    mention: Option<UserId>,
    prefix: &str,
    images: &[FileOut],
) -> Delivered {
    let budget = MESSAGE_LIMIT.saturating_sub(prefix.chars().count() + 1);
    let posted = retrying(
        courier,
        "posting the result in its channel",
        task,
        images,
        budget,
        |mut message| {
            let http = Arc::clone(&courier.http);
            message.content = format!("{prefix}\n{}", message.content);
            async move { send::post(&http, channel, &message, mention).await }
        },
    )
    .await;
    match posted {
        Ok(()) => Delivered::Yes,
        Err(SendError::Transient(_) | SendError::Unauthorized) => Delivered::Later,
        Err(error) => {
            tracing::warn!(task_id = %task.id, channel = %channel, %error, "Discord refused the result message; not posting in that channel again");
            courier.channels.refused_by_discord(channel.get());
            Delivered::Never
        }
    }
}

/// Renders the result and sends it with `call`, retrying transient failures, and once
/// more without files if Discord found them too large.
async fn retrying<F, Fut>(
    courier: &Courier,
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
        let mut attempts = 0_u32;
        let sent = send::with_retries(courier.settings.retry, &courier.stop, what, || {
            attempts += 1;
            if attempts > 1 {
                courier.metrics.delivery_retried();
            }
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
async fn images(courier: &Courier, task: &Task) -> Vec<FileOut> {
    if !matches!(task.status, TaskStatus::Succeeded | TaskStatus::Failed) {
        return Vec::new();
    }
    let infos = match courier.queue.attachments(task.id).await {
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
        if let Ok(Some((_, bytes))) = courier.queue.attachment(task.id, &info.name).await {
            images.push(FileOut {
                name: render::attachment_name(&info.name, &bytes),
                bytes,
            });
        }
    }
    images
}

/// Records that `id`'s result needs no more delivery attempts.
pub(super) async fn mark_delivered(queue: &Queue, id: TaskId) {
    if let Err(error) = queue.mark_delivered(id).await {
        tracing::warn!(task_id = %id, error = %error_chain(&error), "cannot record a delivery");
    }
}
