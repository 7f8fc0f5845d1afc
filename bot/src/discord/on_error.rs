//! poise's error handler: answers the user (ephemerally when nothing was sent yet) with what
//! they may see, and logs what they may not.

use poise::serenity_prelude as serenity;
use poise::{CreateReply, FrameworkError};

use super::auth::REFUSAL;
use super::commands::{Context, Data};
use super::error::{CommandError, INTERNAL_MESSAGE};
use crate::telemetry::error_chain;

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
                    // The store logs and reports its own outages (the HTTP side, health);
                    // one line per command here would repeat them.
                    CommandError::Storage { message, .. } => {
                        tracing::debug!(
                            command = %ctx.command().qualified_name,
                            error = %error_chain(&error),
                            "a Discord command met a storage failure"
                        );
                        (*message).to_owned()
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
