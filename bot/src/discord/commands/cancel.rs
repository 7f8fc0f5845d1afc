//! `/cancel`: stop one of your tasks (an admin: anyone's), named by its id or the first
//! characters of it (as `/tasks` shows). Another user's task is "no task", as if it did not
//! exist, and stays as it is. The reply is ephemeral.

use openclaw_shared::{TaskId, TaskStatus};

use super::{is_admin, reach, reply_privately, Context};
use crate::discord::error::CommandError;
use crate::discord::render::{self, lists::short_id, status_words};
use crate::queue::{QueueError, TaskBrief};

/// Shortest id prefix `/cancel` accepts.
const MIN_PREFIX: usize = 4;
/// How many recent tasks a prefix is matched against.
const PREFIX_SEARCH: usize = 200;

/// Cancel one of your tasks
#[poise::command(slash_command)]
pub async fn cancel(
    ctx: Context<'_>,
    #[description = "The task's id, or its first characters as /tasks shows them"] task: String,
) -> Result<(), CommandError> {
    let queue = &ctx.data().queue;
    // An admin acts on any task; everyone else only on their own.
    let scope = reach(ctx, is_admin(ctx))?;
    let recent = queue.list(&scope, None, PREFIX_SEARCH).await?;
    let id = resolve(&task, &recent)?;
    // A full id skips the search: check it is in reach before touching it. The owner never
    // changes, so the check holds for the cancel.
    match queue.get(id).await {
        Ok(found) if scope.covers(&found) => {}
        Ok(_) | Err(QueueError::NotFound(_)) => return Err(not_found(&task)),
        Err(other) => return Err(other.into()),
    }
    let message = match queue.cancel(id).await {
        Ok(task) if task.status == TaskStatus::Cancelled => format!(
            "🛑 Cancelled `{}` {}",
            short_id(id),
            render::summary(&task.spec)
        ),
        Ok(task) => format!(
            "🛑 Asked {} to stop `{}` {}; its result will follow.",
            task.worker
                .as_deref()
                .map_or("the worker".to_owned(), |w| format!("`{w}`")),
            short_id(id),
            render::summary(&task.spec)
        ),
        Err(QueueError::NotFound(_)) => return Err(not_found(&task)),
        Err(QueueError::Conflict { status, .. }) => {
            return Err(CommandError::user(format!(
                "`{}` already ended: {}.",
                short_id(id),
                status_words(status)
            )))
        }
        Err(other) => return Err(other.into()),
    };
    reply_privately(ctx, message).await
}

/// The task `given` names: a full id, or a prefix of exactly one recent task's id.
fn resolve(given: &str, recent: &[TaskBrief]) -> Result<TaskId, CommandError> {
    let given = given.trim().to_ascii_lowercase();
    if let Ok(id) = given.parse::<TaskId>() {
        return Ok(id);
    }
    if given.len() < MIN_PREFIX || !given.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        return Err(CommandError::user(format!(
            "⚠️ Give a task id, or at least its first {MIN_PREFIX} characters as `/tasks` shows them."
        )));
    }
    let mut matches = recent
        .iter()
        .filter(|task| task.id.to_string().starts_with(&given));
    match (matches.next(), matches.next()) {
        (Some(task), None) => Ok(task.id),
        (Some(_), Some(_)) => Err(CommandError::user(format!(
            "⚠️ More than one recent task starts with `{given}`; give more characters."
        ))),
        (None, _) => Err(not_found(&given)),
    }
}

fn not_found(given: &str) -> CommandError {
    CommandError::user(format!(
        "⚠️ No task {}.",
        crate::discord::render::text::inline_code(given, 40)
    ))
}

#[cfg(test)]
mod tests {
    use openclaw_shared::TaskSpec;

    use super::*;
    use crate::discord::render::tests::sample_brief;

    fn task_with_id(id: &str) -> TaskBrief {
        let mut task = sample_brief(TaskSpec::FileRead { path: "p".into() }, TaskStatus::Queued);
        task.id = id.parse().unwrap();
        task
    }

    #[test]
    fn a_unique_prefix_or_a_full_id_names_a_task() {
        let a = task_with_id("6f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11");
        let b = task_with_id("6f2d1a8e-7a51-4c3e-9f67-1d2f0a6b8c11");
        let recent = [a.clone(), b.clone()];

        assert_eq!(resolve("6f1c", &recent).unwrap(), a.id);
        assert_eq!(resolve(" 6F2D1A8E ", &recent).unwrap(), b.id);
        assert_eq!(resolve(&a.id.to_string(), &[]).unwrap(), a.id);
    }

    #[test]
    fn short_ambiguous_or_unknown_prefixes_are_refused() {
        let recent = [
            task_with_id("6f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11"),
            task_with_id("6f1c2a8e-7a51-4c3e-9f67-1d2f0a6b8c11"),
        ];

        for given in ["6f", "6f1c", "abcd", "zzzz; rm"] {
            assert!(
                matches!(resolve(given, &recent), Err(CommandError::User(_))),
                "{given}"
            );
        }
    }
}
