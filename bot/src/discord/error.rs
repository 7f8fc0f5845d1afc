//! Command errors: what the user is told is kept apart from what went wrong inside (the
//! triagebot `UserError` split). [`super::on_error::on_error`] replies with the former and logs the
//! latter.

use poise::serenity_prelude as serenity;

use crate::intake::IntakeError;
use crate::queue::{QueueError, StoreFault};

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
    /// The task store could not do it now (busy, disk full, read-only, failed): logged, and
    /// the user sees what that means for them, e.g. to try again in a few seconds.
    #[error("the task store failed")]
    Storage {
        /// What the user is told.
        message: &'static str,
        /// The cause, with its chain.
        #[source]
        source: QueueError,
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
        let message = match &error {
            // A full queue or store is the user's to wait out, not the bot failing.
            QueueError::QuotaExceeded(quota) => return CommandError::User(format!("⚠️ {quota}")),
            QueueError::SessionOfAnother => {
                return CommandError::User(
                    "⛔ That session is another user's; leave out `session` or use `new:true`."
                        .to_owned(),
                )
            }
            QueueError::Store(store) => match store.fault() {
                StoreFault::Busy => {
                    "⏳ The bot's database is busy (a backup or maintenance holds it); try again in a few seconds."
                }
                StoreFault::Full => {
                    "⚠️ The bot's disk is full, so nothing new can be saved; the owner must free space."
                }
                StoreFault::ReadOnly => {
                    "⚠️ The bot's database cannot be written; the owner must fix it."
                }
                StoreFault::Corrupt | StoreFault::Failed => {
                    "⚠️ The bot's database failed; the details are in its log."
                }
            },
            _ => return CommandError::internal("using the task queue", error),
        };
        CommandError::Storage {
            message,
            source: error,
        }
    }
}
