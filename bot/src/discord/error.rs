//! Command errors: what the user is told is kept apart from what went wrong inside (the
//! triagebot `UserError` split). `on_error` replies with the former and logs the latter.

use poise::serenity_prelude as serenity;
use poise::{CreateReply, FrameworkError};

use super::auth::REFUSAL;
use super::commands::{Context, Data};
use crate::intake::IntakeError;
use crate::queue::QueueError;
use crate::telemetry::error_chain;

/// What a user sees when the bot itself failed; the cause is in the bot's log.
pub const INTERNAL_MESSAGE: &str =
    "⚠️ Something went wrong on the bot; the details are in its log.";

/// Why a command did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The user asked for something that cannot be done (bad option, unknown task); the text
    /// is shown to them as is.
    #[error("{0}")]
    User(String),
    /// The bot failed (Discord, the store); logged, and the user sees [`INTERNAL_MESSAGE`].
    #[error("{context}")]
    Internal {
        /// What the command was doing.
        context: &'static str,
        /// The cause, with its chain.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl CommandError {
    /// A user-facing error.
    pub fn user(message: impl Into<String>) -> CommandError {
        CommandError::User(message.into())
    }

    /// An internal error with what the command was doing.
    pub fn internal(
        context: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> CommandError {
        CommandError::Internal {
            context,
            source: Box::new(source),
        }
    }
}

impl From<serenity::Error> for CommandError {
    fn from(error: serenity::Error) -> Self {
        CommandError::internal("talking to Discord", error)
    }
}

impl From<IntakeError> for CommandError {
    /// A refused option is the user's to fix: shown as the API would word it.
    fn from(error: IntakeError) -> Self {
        CommandError::User(format!("⚠️ {error}"))
    }
}

impl From<QueueError> for CommandError {
    fn from(error: QueueError) -> Self {
        CommandError::internal("using the task queue", error)
    }
}

/// poise's `on_error`: answers the user (ephemerally when nothing was sent yet) and logs
/// what they are not shown.
pub fn on_error(error: FrameworkError<'_, Data, CommandError>) -> poise::BoxFuture<'_, ()> {
    Box::pin(async move {
        match error {
            FrameworkError::Command { error, ctx, .. } => {
                let message = match &error {
                    CommandError::User(message) => message.clone(),
                    CommandError::Internal { .. } => {
                        tracing::error!(
                            command = %ctx.command().qualified_name,
                            error = %error_chain(&error),
                            "a Discord command failed"
                        );
                        INTERNAL_MESSAGE.to_owned()
                    }
                };
                reply(ctx, message).await;
            }
            FrameworkError::CommandCheckFailed {
                error: None, ctx, ..
            } => {
                reply(ctx, REFUSAL.to_owned()).await;
            }
            FrameworkError::CommandCheckFailed {
                error: Some(error),
                ctx,
                ..
            } => {
                tracing::error!(error = %error_chain(&error), "the allowed-users check failed");
                reply(ctx, INTERNAL_MESSAGE.to_owned()).await;
            }
            FrameworkError::ArgumentParse { error, ctx, .. } => {
                reply(ctx, format!("⚠️ Could not read an option: {error}")).await;
            }
            FrameworkError::CommandStructureMismatch {
                description, ctx, ..
            } => {
                tracing::warn!(description, "a command arrived in an outdated shape");
                let message = "⚠️ This command's options changed; Discord will offer the new ones in a minute.";
                reply(ctx.into(), message.to_owned()).await;
            }
            other => {
                if let Err(error) = poise::builtins::on_error(other).await {
                    tracing::error!(error = %error_chain(&error), "handling a framework error failed");
                }
            }
        }
    })
}

/// Answers the command: ephemeral if nothing was sent yet, otherwise (after a defer) it
/// fills the deferred response. Mentions are off.
async fn reply(ctx: Context<'_>, message: String) {
    let reply = CreateReply::default()
        .content(message)
        .ephemeral(true)
        .allowed_mentions(serenity::CreateAllowedMentions::new());
    if let Err(error) = ctx.send(reply).await {
        tracing::warn!(error = %error_chain(&error), "could not answer a Discord command");
    }
}
