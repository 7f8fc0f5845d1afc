//! Who asked for a task, and so who owns it: the API's client token, or one Discord user.
//! The owner key stored with a task (and what scopes are built from) is written here once,
//! so the doors agree on it.

use poise::serenity_prelude::UserId;

use crate::queue::Scope;

/// Owner key of tasks the client token creates. There is one client token, so every API
/// task belongs to "the API"; a Discord user's tasks belong to that user.
const API_OWNER: &str = "api";
/// Prefix of a Discord user's owner key: `discord:<user id>`.
const DISCORD_OWNER_PREFIX: &str = "discord:";

/// Who asked for a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester {
    /// The HTTP API's client token.
    ApiClient,
    /// A Discord user, by id.
    DiscordUser(UserId),
}

impl Requester {
    /// The owner key its tasks are stored under: `api` or `discord:<user id>`.
    pub fn owner(self) -> String {
        match self {
            Requester::ApiClient => API_OWNER.to_owned(),
            Requester::DiscordUser(id) => format!("{DISCORD_OWNER_PREFIX}{id}"),
        }
    }

    /// Only the tasks this requester created.
    pub fn own_tasks(self) -> Scope {
        Scope::OwnedBy(self.owner())
    }

    /// The requester an owner key names, if it is one this build writes.
    pub fn from_owner(key: &str) -> Option<Requester> {
        if key == API_OWNER {
            return Some(Requester::ApiClient);
        }
        let id: u64 = key.strip_prefix(DISCORD_OWNER_PREFIX)?.parse().ok()?;
        (id != 0).then(|| Requester::DiscordUser(UserId::new(id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_key_reads_back_as_its_requester_and_nothing_else_does() {
        for requester in [
            Requester::ApiClient,
            Requester::DiscordUser(UserId::new(42)),
        ] {
            assert_eq!(Requester::from_owner(&requester.owner()), Some(requester));
        }
        for key in ["", "API", "discord:", "discord:0", "discord:x1", "admin"] {
            assert_eq!(Requester::from_owner(key), None, "{key}");
        }
    }

    #[test]
    fn owner_keys_name_the_api_or_the_discord_user() {
        assert_eq!(Requester::ApiClient.owner(), "api");
        assert_eq!(
            Requester::DiscordUser(UserId::new(234_567_890_123_456_789)).owner(),
            "discord:234567890123456789"
        );
        assert_eq!(
            Requester::DiscordUser(UserId::new(5)).own_tasks(),
            Scope::OwnedBy("discord:5".into())
        );
    }
}
