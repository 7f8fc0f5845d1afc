//! `/approve fingerprint code`: relays the owner's TOTP code to the worker holding the task
//! that awaits that fingerprint. The bot cannot check the code (the secret lives only on the
//! Mac): the worker verifies it and reports back on the task's own message.

use super::{reply_privately, Context};
use crate::discord::error::CommandError;
use crate::discord::render::{self, lists::short_id, status_words, text::inline_code};
use crate::intake::fields;
use crate::queue::{QueueError, Task};
use openclaw_shared::worker::ApprovalDecision;

/// Approve a task your Mac is holding, with your authenticator code
#[poise::command(slash_command)]
pub async fn approve(
    ctx: Context<'_>,
    #[description = "The fingerprint your Mac showed, e.g. ABCD2345"] fingerprint: String,
    #[description = "The 6-digit code from your authenticator app"] code: String,
) -> Result<(), CommandError> {
    // Never echoed or logged: a code is valid for the rest of its time step, and only the
    // worker's one-use rule stands between a leaked code and a second approval.
    let code = fields::approval_code(&code)?;
    let (fingerprint, task) = awaiting(ctx, &fingerprint).await?;
    let decision = ApprovalDecision::Approve {
        fingerprint: fingerprint.clone(),
        code,
    };
    relay(ctx, &task, decision).await?;
    tracing::info!(task_id = %task.id, %fingerprint, user_id = %ctx.author().id, "approval code relayed from Discord");
    let message = format!(
        "🔐 Code sent for {} · {}{}.\n\
         Your Mac checks the code itself (the bot cannot); the task's message, or `/tasks`, \
         will show whether it runs.",
        inline_code(&fingerprint, 40),
        render::summary(&task.spec),
        which_task(&task),
    );
    // The first response to the interaction is ephemeral (no public defer before it), so
    // the options typed, the code among them, are never shown to the channel.
    reply_privately(ctx, message).await
}

/// The one task awaiting the fingerprint the owner typed, with that fingerprint normalized
/// as the HTTP API does it. None, or several (which only a misbehaving worker could cause),
/// is a user error: nothing is relayed on a guess.
pub(super) async fn awaiting(
    ctx: Context<'_>,
    raw_fingerprint: &str,
) -> Result<(String, Task), CommandError> {
    let fingerprint = fields::fingerprint(raw_fingerprint)?;
    let tasks = ctx
        .data()
        .queue
        .find_awaiting_approval(&fingerprint)
        .await?;
    let task = only_one(&fingerprint, tasks)?;
    Ok((fingerprint, task))
}

/// `tasks` must hold exactly one task.
fn only_one(fingerprint: &str, tasks: Vec<Task>) -> Result<Task, CommandError> {
    let shown = inline_code(fingerprint, 40);
    let mut tasks = tasks.into_iter();
    match (tasks.next(), tasks.next()) {
        (Some(task), None) => Ok(task),
        (None, _) => Err(CommandError::user(format!(
            "⚠️ No task is awaiting approval with fingerprint {shown}."
        ))),
        (Some(first), Some(second)) => {
            tracing::warn!(%fingerprint, first = %first.id, second = %second.id, "several tasks await one fingerprint; nothing relayed");
            Err(CommandError::user(format!(
                "⚠️ More than one task is awaiting fingerprint {shown}, so nothing was sent. \
                 Check your Mac's own notifications, then answer over the API by task id."
            )))
        }
    }
}

/// Queues the owner's answer for the worker's next heartbeat. A task that stopped waiting
/// since it was found is a user error, not a failure of the bot.
pub(super) async fn relay(
    ctx: Context<'_>,
    task: &Task,
    decision: ApprovalDecision,
) -> Result<(), CommandError> {
    let queue = &ctx.data().queue;
    match queue.submit_approval(task.id, decision).await {
        Ok(_) => Ok(()),
        Err(QueueError::Conflict { status, .. }) => Err(CommandError::user(format!(
            "⚠️ `{}` is no longer waiting for approval: it is {}.",
            short_id(task.id),
            status_words(status)
        ))),
        Err(QueueError::FingerprintMismatch(_)) => Err(CommandError::user(
            "⚠️ The task now awaits another fingerprint; check your Mac's latest notification.",
        )),
        Err(QueueError::NotFound(_)) => Err(CommandError::user(format!(
            "⚠️ `{}` is gone.",
            short_id(task.id)
        ))),
        Err(other) => Err(other.into()),
    }
}

/// ` (task `1a2b3c4d` on `mac`)`: which task the answer went to.
pub(super) fn which_task(task: &Task) -> String {
    match &task.worker {
        Some(worker) => format!(" (task `{}` on `{worker}`)", short_id(task.id)),
        None => format!(" (task `{}`)", short_id(task.id)),
    }
}

#[cfg(test)]
mod tests {
    use openclaw_shared::{TaskSpec, TaskStatus};

    use super::*;
    use crate::discord::render::tests::sample_task;

    fn task(id: &str) -> Task {
        let mut task = sample_task(
            TaskSpec::FileRead { path: "p".into() },
            TaskStatus::AwaitingApproval,
        );
        task.id = id.parse().unwrap();
        task
    }

    #[test]
    fn exactly_one_waiting_task_is_answered() {
        let one = task("6f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11");

        assert_eq!(only_one("ABCD2345", vec![one.clone()]).unwrap().id, one.id);
    }

    #[test]
    fn no_task_or_several_are_refused_naming_the_fingerprint() {
        let none = only_one("ABCD2345", Vec::new());
        let several = only_one(
            "ABCD2345",
            vec![
                task("6f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11"),
                task("7f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11"),
            ],
        );

        assert!(
            matches!(&none, Err(CommandError::User(m)) if m.contains("No task is awaiting approval with fingerprint `ABCD2345`")),
            "{none:?}"
        );
        assert!(
            matches!(&several, Err(CommandError::User(m)) if m.contains("More than one")),
            "{several:?}"
        );
    }
}
