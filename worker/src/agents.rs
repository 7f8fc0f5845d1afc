//! Agent CLIs besides Claude (`[agents.<name>]` in the worker config): which program, with
//! which argv, and how a session is started or continued. The bot only names an agent; what
//! runs is decided here, on the Mac.
//!
//! The prompt is always exactly ONE argv element, placed where the template says
//! `{prompt}`: never split, never part of a larger argument, never seen by a shell. The
//! session id is likewise one whole element where a session flag says `{id}`, and only ever
//! one that [`is_valid_session_id`] allows (so it cannot pose as a flag).

use openclaw_shared::task::{is_valid_agent_name, is_valid_session_id, AgentSession};
use openclaw_shared::task::{AGENT_NAME_RULE, CLAUDE_AGENT, SESSION_ID_RULE};
use serde::Deserialize;

use crate::policy::file::AgentPolicy;
use crate::policy::Verdict;

/// Where the template takes the prompt: a whole argv element, exactly once.
pub const PROMPT_SLOT: &str = "{prompt}";
/// Where the template takes the session's flags (start or resume): a whole element, at most
/// once; it expands to the flags, or to nothing when the task has no session.
pub const SESSION_SLOT: &str = "{session}";
/// Where a session flag list takes the session's id: a whole element.
pub const ID_SLOT: &str = "{id}";

/// One `[agents.<name>]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// The program: a name looked up in the worker's `PATH`, or a path.
    pub bin: String,
    /// The arguments, in order. Exactly one element is `{prompt}`; at most one is
    /// `{session}`. Nothing else is substituted.
    pub args: Vec<String>,
    /// Flags that start a new session, put where `{session}` is, with `{id}` for the id
    /// (e.g. `["--session-id", "{id}"]`). Empty: the agent cannot start a named session, and
    /// a task asking to is run without one.
    #[serde(default)]
    pub new_session: Vec<String>,
    /// Flags that continue a session, as `new_session` (e.g. `["--resume", "{id}"]`). Empty:
    /// the agent cannot continue one, and a task asking to is refused (it would silently
    /// start over).
    #[serde(default)]
    pub resume_session: Vec<String>,
    /// The verdict for every task of this agent: `approve` (the default), `allow` (runs
    /// confined by the sandbox without asking) or `deny`.
    #[serde(default)]
    pub tier: Verdict,
    /// Whether the agent's sandbox has the network (agents call their model's API).
    #[serde(default = "network_default")]
    pub network: bool,
    /// The agent's own files (`~/.codex`, …), readable and writable inside its sandbox.
    #[serde(default)]
    pub state: Vec<String>,
    /// Working directory when the task names none (`~` allowed); the worker's default.
    #[serde(default)]
    pub cwd: Option<String>,
}

fn network_default() -> bool {
    true
}

impl AgentConfig {
    /// Checks the table of agent `name`; the error says what is wrong, naming the key.
    pub fn validate(&self, name: &str) -> Result<(), String> {
        if !is_valid_agent_name(name) {
            return Err(format!("agents.{name}: the name {AGENT_NAME_RULE}"));
        }
        if name == CLAUDE_AGENT {
            return Err(
                "agents.claude: claude is built in (configure it with claude_bin, claude_args \
                 and the policy's [claude])"
                    .to_owned(),
            );
        }
        if self.bin.trim().is_empty() {
            return Err(format!("agents.{name}.bin must not be empty"));
        }
        let whole = |slot: &str| self.args.iter().filter(|a| *a == slot).count();
        let inside =
            |list: &[String], slot: &str| list.iter().any(|a| a.contains(slot) && a != slot);
        if whole(PROMPT_SLOT) != 1 || inside(&self.args, PROMPT_SLOT) {
            return Err(format!(
                "agents.{name}.args must have exactly one element that is {PROMPT_SLOT} \
                 (the prompt is one whole argument, never part of one)"
            ));
        }
        if whole(SESSION_SLOT) > 1 || inside(&self.args, SESSION_SLOT) {
            return Err(format!(
                "agents.{name}.args may have {SESSION_SLOT} once, as a whole element"
            ));
        }
        let has_flags = !self.new_session.is_empty() || !self.resume_session.is_empty();
        if has_flags && whole(SESSION_SLOT) == 0 {
            return Err(format!(
                "agents.{name}.args needs a {SESSION_SLOT} element for its session flags"
            ));
        }
        for (key, flags) in [
            ("new_session", &self.new_session),
            ("resume_session", &self.resume_session),
        ] {
            let ids = flags.iter().filter(|a| *a == ID_SLOT).count();
            if !flags.is_empty() && (ids != 1 || inside(flags, ID_SLOT)) {
                return Err(format!(
                    "agents.{name}.{key} must have exactly one element that is {ID_SLOT}"
                ));
            }
            if flags.iter().any(|a| a.contains(PROMPT_SLOT)) {
                return Err(format!("agents.{name}.{key} cannot take the prompt"));
            }
        }
        Ok(())
    }

    /// What the policy needs to know about this agent.
    pub fn policy(&self) -> AgentPolicy {
        AgentPolicy {
            tier: self.tier,
            network: self.network,
            state: self.state.clone(),
            cwd: self.cwd.clone(),
        }
    }

    /// The argv (without the program) for `prompt` in `session`: the template with the
    /// prompt as one element and the session's flags (or nothing) where `{session}` is.
    /// Refuses a session id outside the rule, and a session to continue when the agent has
    /// no resume flags.
    pub fn argv(
        &self,
        prompt: &str,
        session: Option<&AgentSession>,
    ) -> Result<Vec<String>, String> {
        let flags: &[String] = match session {
            None => &[],
            Some(session) if !is_valid_session_id(&session.id) => {
                return Err(format!("invalid session id: it {SESSION_ID_RULE}"));
            }
            Some(session) if session.new => &self.new_session,
            Some(_) if self.resume_session.is_empty() => {
                return Err(
                    "this agent has no resume_session flags: it cannot continue a session"
                        .to_owned(),
                );
            }
            Some(_) => &self.resume_session,
        };
        let mut argv = Vec::with_capacity(self.args.len() + flags.len());
        for arg in &self.args {
            match arg.as_str() {
                PROMPT_SLOT => argv.push(prompt.to_owned()),
                SESSION_SLOT => {
                    for flag in flags {
                        match (flag.as_str(), session) {
                            (ID_SLOT, Some(session)) => argv.push(session.id.clone()),
                            _ => argv.push(flag.clone()),
                        }
                    }
                }
                _ => argv.push(arg.clone()),
            }
        }
        Ok(argv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codex() -> AgentConfig {
        AgentConfig {
            bin: "codex".into(),
            args: ["exec", "{session}", "--", "{prompt}"]
                .map(String::from)
                .to_vec(),
            new_session: Vec::new(),
            resume_session: ["resume", "{id}"].map(String::from).to_vec(),
            tier: Verdict::Approve,
            network: true,
            state: Vec::new(),
            cwd: None,
        }
    }

    #[test]
    fn the_prompt_is_one_element_whatever_it_holds() {
        let prompt = "--dangerously-skip-permissions $(rm -rf ~) \"; echo hi";

        let argv = codex().argv(prompt, None).unwrap();

        assert_eq!(argv, ["exec", "--", prompt]);
    }

    #[test]
    fn a_session_expands_to_its_flags_with_the_id_whole() {
        let argv = codex()
            .argv("hi", Some(&AgentSession::resume("abc-1")))
            .unwrap();

        assert_eq!(argv, ["exec", "resume", "abc-1", "--", "hi"]);
        let fresh = codex()
            .argv("hi", Some(&AgentSession::start("abc-1")))
            .unwrap();
        assert_eq!(fresh, ["exec", "--", "hi"]);
    }

    #[test]
    fn a_session_id_that_breaks_the_rule_runs_nothing() {
        for bad in ["--yolo", "a b", "."] {
            assert!(codex()
                .argv("hi", Some(&AgentSession::resume(bad)))
                .is_err());
        }
    }

    #[test]
    fn templates_that_could_split_or_splice_the_prompt_are_refused() {
        let with_args = |args: &[&str]| AgentConfig {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            ..codex()
        };
        assert!(codex().validate("codex").is_ok());
        assert!(codex().validate("claude").is_err());
        assert!(codex().validate("Codex").is_err());
        assert!(with_args(&["{session}", "--prompt={prompt}"])
            .validate("x")
            .is_err());
        assert!(with_args(&["{session}", "{prompt}", "{prompt}"])
            .validate("x")
            .is_err());
        assert!(with_args(&["{session}"]).validate("x").is_err());
        assert!(
            with_args(&["{prompt}"]).validate("x").is_err(),
            "flags need a slot"
        );
        let no_id = AgentConfig {
            resume_session: vec!["--resume".into()],
            ..codex()
        };
        assert!(no_id.validate("x").is_err());
    }
}
