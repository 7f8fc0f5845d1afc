//! Who may use the bot: only the users in `discord.allowed_user_ids`. Discord's own command
//! permissions can be changed by any server admin, so this check is ours and runs in front
//! of every command (poise's `command_check`), before any option is read.

use poise::serenity_prelude::UserId;

use super::commands::Context;
use super::error::CommandError;

/// What a refused user sees (only them: the reply is ephemeral).
pub const REFUSAL: &str = "⛔ You are not allowed to use this bot.";

/// Whether `user` is on the allow list. An empty list allows nobody.
pub fn is_allowed(user: UserId, allowed: &[UserId]) -> bool {
    allowed.contains(&user)
}

/// poise's `command_check`: lets allowed users through and logs everyone else's attempt.
/// A refusal reaches `on_error` as `CommandCheckFailed`, which answers with [`REFUSAL`].
pub fn check(ctx: Context<'_>) -> poise::BoxFuture<'_, Result<bool, CommandError>> {
    Box::pin(async move {
        let user = ctx.author().id;
        let allowed = is_allowed(user, &ctx.data().settings.allowed_user_ids);
        if !allowed {
            tracing::warn!(
                user_id = %user,
                command = %ctx.command().qualified_name,
                guild_id = ?ctx.guild_id().map(|g| g.get()),
                channel_id = %ctx.channel_id(),
                "refused a Discord command from a user not in discord.allowed_user_ids"
            );
        }
        Ok(allowed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_users_are_allowed_and_an_empty_list_allows_nobody() {
        let me = UserId::new(42);
        let stranger = UserId::new(7);

        assert!(is_allowed(me, &[me]));
        assert!(!is_allowed(stranger, &[me]));
        assert!(!is_allowed(me, &[]));
    }
}
