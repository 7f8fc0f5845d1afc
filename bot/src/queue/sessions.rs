//! Agent sessions: which conversations an owner's Claude (and agent) tasks ran in, and which
//! one a Discord channel continues by default. The queue records a session with the task
//! that names it ([`TaskSpec::session`](openclaw_shared::TaskSpec::session)); adapters list
//! them and bind channels here, never in their own storage.

use openclaw_shared::EpochMillis;

use super::clock::now_millis;
use super::handle::Queue;
use super::task::Scope;
use super::QueueError;

/// Longest prompt excerpt kept with a session, in characters.
pub const SESSION_PROMPT_CHARS: usize = 100;

/// A session as lists show it, by its latest task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionBrief {
    /// The session's id.
    pub session_id: String,
    /// Its agent: `claude` or a configured agent's name.
    pub agent: String,
    /// Whose it is (the owner key of its tasks).
    pub owner: String,
    /// The latest task in it.
    pub last_task: openclaw_shared::TaskId,
    /// The start of the latest task's prompt ([`SESSION_PROMPT_CHARS`]).
    pub last_prompt: String,
    /// When the latest task was created.
    pub updated_at: EpochMillis,
    /// The worker that claimed the latest task, or the one it targets; `None` when neither
    /// (or the task is pruned).
    pub worker: Option<String>,
}

/// Which session a user's agent commands continue in one Discord channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelBinding {
    /// The channel (a Discord snowflake, as text).
    pub channel_id: String,
    /// The user, as an owner key.
    pub owner: String,
    /// The agent.
    pub agent: String,
    /// The session the user's next command there continues.
    pub session_id: String,
}

/// The prompt excerpt a session keeps: the first [`SESSION_PROMPT_CHARS`] characters, on
/// one line.
pub fn prompt_excerpt(prompt: &str) -> String {
    let line: String = prompt.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(SESSION_PROMPT_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

impl Queue {
    /// Up to `limit` sessions in `scope`, most recently used first; only `agent`'s when
    /// given.
    pub async fn recent_sessions(
        &self,
        scope: &Scope,
        agent: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SessionBrief>, QueueError> {
        let (scope, agent) = (scope.clone(), agent.map(str::to_owned));
        Ok(self
            .read(move |store| store.recent_sessions(&scope, agent.as_deref(), limit))
            .await?)
    }

    /// Makes `binding`'s session the one its user continues in its channel.
    pub async fn bind_channel_session(&self, binding: ChannelBinding) -> Result<(), QueueError> {
        let now = now_millis();
        Ok(self
            .write(move |store| store.bind_channel(&binding, now))
            .await?)
    }

    /// The session `owner` continues with `agent` in `channel_id`, if one is bound.
    pub async fn channel_session(
        &self,
        channel_id: &str,
        owner: &str,
        agent: &str,
    ) -> Result<Option<String>, QueueError> {
        let (channel, owner, agent) = (channel_id.to_owned(), owner.to_owned(), agent.to_owned());
        Ok(self
            .read(move |store| store.channel_session(&channel, &owner, &agent))
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_one_line_and_short() {
        assert_eq!(prompt_excerpt("fix\n  the   tests"), "fix the tests");
        let long = "é".repeat(SESSION_PROMPT_CHARS + 5);
        let cut = prompt_excerpt(&long);
        assert_eq!(cut.chars().count(), SESSION_PROMPT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
