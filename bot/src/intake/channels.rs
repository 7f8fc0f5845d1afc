//! Which Discord channels a task's result may be posted in for an API client: the channels of
//! the configured guilds (loaded from Discord by the Discord adapter, refreshed) and an
//! explicit list (`discord.callback_channel_ids`). A channel outside it is refused when the
//! task is created and never becomes a Discord call: a stolen client token cannot make the
//! bot relay attacker text into any channel it can see, or spend Discord's invalid-request
//! budget (10,000 per 10 minutes bans the bot's IP) on channels it cannot.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError, RwLock};

/// What the allow-list says about a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelVerdict {
    /// Listed: results may be posted there.
    Allowed,
    /// Not listed (or Discord refused it before): never posted to.
    Refused,
    /// The guilds' channels are not loaded yet (Discord still connecting): accepted now,
    /// checked again before anything is posted.
    NotLoadedYet,
}

/// The allow-list, shared by the adapters: a cheap `Clone` handle.
#[derive(Debug, Clone)]
pub struct CallbackChannels {
    inner: Arc<RwLock<Directory>>,
}

#[derive(Debug)]
struct Directory {
    explicit: HashSet<u64>,
    from_guilds: HashSet<u64>,
    /// Channels Discord refused (unknown, no access): not tried again until a reload lists
    /// them again.
    refused: HashSet<u64>,
    loaded: bool,
}

impl CallbackChannels {
    /// An allow-list of `explicit` channels; `guilds_to_load` says whether guild channels
    /// will be added by [`CallbackChannels::set_guild_channels`] (until then, unlisted
    /// channels are [`ChannelVerdict::NotLoadedYet`]).
    pub fn new(explicit: &[u64], guilds_to_load: bool) -> CallbackChannels {
        CallbackChannels {
            inner: Arc::new(RwLock::new(Directory {
                explicit: explicit.iter().copied().collect(),
                from_guilds: HashSet::new(),
                refused: HashSet::new(),
                loaded: !guilds_to_load,
            })),
        }
    }

    /// Replaces the guilds' channels with `ids` (a fresh listing from Discord).
    pub fn set_guild_channels(&self, ids: impl IntoIterator<Item = u64>) {
        let mut directory = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        directory.from_guilds = ids.into_iter().collect();
        let Directory {
            from_guilds,
            refused,
            ..
        } = &mut *directory;
        // A channel listed again has been fixed (permissions given back): try it again.
        refused.retain(|id| !from_guilds.contains(id));
        directory.loaded = true;
    }

    /// Records that Discord refused `id` for good: it is not posted to again.
    pub fn refused_by_discord(&self, id: u64) {
        self.inner
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .refused
            .insert(id);
    }

    /// Whether results may be posted in channel `id`.
    pub fn verdict(&self, id: u64) -> ChannelVerdict {
        let directory = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        if directory.refused.contains(&id) {
            ChannelVerdict::Refused
        } else if directory.explicit.contains(&id) || directory.from_guilds.contains(&id) {
            ChannelVerdict::Allowed
        } else if directory.loaded {
            ChannelVerdict::Refused
        } else {
            ChannelVerdict::NotLoadedYet
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_channels_are_allowed_once_loaded() {
        let channels = CallbackChannels::new(&[7], true);

        assert_eq!(channels.verdict(7), ChannelVerdict::Allowed);
        assert_eq!(channels.verdict(8), ChannelVerdict::NotLoadedYet);
        channels.set_guild_channels([8]);
        assert_eq!(channels.verdict(8), ChannelVerdict::Allowed);
        assert_eq!(channels.verdict(9), ChannelVerdict::Refused);
    }

    #[test]
    fn a_channel_discord_refused_stays_refused_until_listed_again() {
        let channels = CallbackChannels::new(&[], true);
        channels.set_guild_channels([8]);

        channels.refused_by_discord(8);

        assert_eq!(channels.verdict(8), ChannelVerdict::Refused);
        channels.set_guild_channels([8]);
        assert_eq!(channels.verdict(8), ChannelVerdict::Allowed);
    }

    #[test]
    fn without_guilds_to_load_only_the_explicit_list_counts() {
        let channels = CallbackChannels::new(&[7], false);

        assert_eq!(channels.verdict(7), ChannelVerdict::Allowed);
        assert_eq!(channels.verdict(8), ChannelVerdict::Refused);
    }
}
