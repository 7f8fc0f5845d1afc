//! Agent CLIs (Claude Code and the worker's configured ones): their names, and the sessions
//! a conversation continues. The rules here are the ONE rule both the bot (at intake) and the
//! worker (before it builds an argv) check, so no id the bot accepts is refused on the Mac.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Longest session id, in bytes.
pub const MAX_SESSION_ID_LEN: usize = 128;
/// Longest agent name, in bytes.
pub const MAX_AGENT_NAME_LEN: usize = 32;
/// The agent built into every worker: the Claude Code CLI.
pub const CLAUDE_AGENT: &str = "claude";

/// The session-id rule in words, for error messages on both sides.
pub const SESSION_ID_RULE: &str =
    "must be 1-128 characters of A-Z a-z 0-9 - _ and not start with -";
/// The agent-name rule in words, for error messages on both sides.
pub const AGENT_NAME_RULE: &str = "must be 1-32 characters of a-z 0-9 - _, starting with a letter";

/// Whether `id` may name an agent session: 1-[`MAX_SESSION_ID_LEN`] of `A-Z a-z 0-9 - _`,
/// not starting with `-`. It ends up as one argument of the agent's CLI on the Mac
/// (`--resume <id>`), so it must never pose as a flag, and it is shown in approval
/// requests, so it holds nothing that could hide text. A UUID fits.
pub fn is_valid_session_id(id: &str) -> bool {
    (1..=MAX_SESSION_ID_LEN).contains(&id.len())
        && !id.starts_with('-')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// Whether `name` may name an agent: 1-[`MAX_AGENT_NAME_LEN`] of `a-z 0-9 - _`, starting
/// with a letter. It becomes a URL path segment (`/agents/<name>`), a config table name
/// (`[agents.<name>]`) and a Discord choice, so it is kept plain.
pub fn is_valid_agent_name(name: &str) -> bool {
    (1..=MAX_AGENT_NAME_LEN).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'))
}

/// The agent session a task runs in: which one, and whether this task starts it. The bot
/// decides `new` (it knows which sessions it has started); the worker passes the agent's
/// "start" flags (`--session-id <id>` for Claude) or its "resume" flags (`--resume <id>`).
///
/// On the wire `{"id": "…", "new": true}`. A bare string (what specs stored before sessions
/// could be new hold, under `session_id`) reads as a session to resume.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct AgentSession {
    /// The session's id, as [`is_valid_session_id`] allows.
    pub id: String,
    /// Whether this task starts the session (`true`) or continues it (`false`).
    pub new: bool,
}

impl AgentSession {
    /// A session this task starts.
    pub fn start(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            new: true,
        }
    }

    /// A session this task continues.
    pub fn resume(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            new: false,
        }
    }
}

impl fmt::Display for AgentSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = if self.new { "new" } else { "resumed" };
        write!(f, "{} ({how})", self.id)
    }
}

impl<'de> Deserialize<'de> for AgentSession {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// Both shapes a session was ever sent in.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Full { id: String, new: bool },
            Legacy(String),
        }
        Ok(match Wire::deserialize(deserializer)? {
            Wire::Full { id, new } => AgentSession { id, new },
            Wire::Legacy(id) => AgentSession::resume(id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn session_ids_are_plain_and_never_flags() {
        assert!(is_valid_session_id("6f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11"));
        assert!(is_valid_session_id("sess_1"));
        let too_long = "a".repeat(MAX_SESSION_ID_LEN + 1);
        for bad in [
            "", ".", "a.b", "-x", "--resume", "a b", "x;y", "é", &too_long,
        ] {
            assert!(!is_valid_session_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn agent_names_are_plain_lower_case() {
        assert!(is_valid_agent_name("codex"));
        assert!(is_valid_agent_name("gemini-2"));
        for bad in ["", "Codex", "2x", "-x", "a/b", "a.b", &"a".repeat(33)] {
            assert!(!is_valid_agent_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_session_is_an_object_and_a_bare_string_resumes() {
        let new = AgentSession::start("abc");
        assert_eq!(
            serde_json::to_value(&new).unwrap(),
            json!({"id": "abc", "new": true})
        );
        assert_eq!(
            serde_json::from_value::<AgentSession>(json!({"id": "abc", "new": true})).unwrap(),
            new
        );
        assert_eq!(
            serde_json::from_value::<AgentSession>(json!("abc")).unwrap(),
            AgentSession::resume("abc")
        );
    }
}
