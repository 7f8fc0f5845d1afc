//! Golden profiles, and what rendered profiles allow by our model of Seatbelt (last
//! matching rule wins). Set `UPDATE_GOLDEN=1` to rewrite the golden files after an
//! intended change, then review the diff. This file holds the specs the tests render.

mod files;
mod golden;
mod network;
mod strings;

use std::path::PathBuf;

use openclaw_shared::{TaskId, TaskSpec};

use super::model::{allows, parse, rules, strings, Rule};
use super::render;
use crate::policy::file::CommandRule;
use crate::policy::{Decision, Plan, Policy, Verdict};
use crate::sandbox::spec::{derive, Platform, SandboxEnv};
use crate::sandbox::{Access, SandboxSpec, Tree};

const HOME: &str = "/Users/me";

fn env() -> SandboxEnv {
    SandboxEnv {
        home: PathBuf::from(HOME),
        search: crate::policy::defaults::SEARCH_PATH
            .iter()
            .map(PathBuf::from)
            .collect(),
        tmp_base: PathBuf::from("/private/var/folders/zz/abc123/T"),
        claude_dir: Some(PathBuf::from(
            "/opt/homebrew/lib/node_modules/@anthropic-ai/claude-code",
        )),
        agent_dirs: std::collections::BTreeMap::new(),
        platform: Platform::MacOs,
    }
}

fn policy() -> Policy {
    let mut policy = Policy::default();
    policy.protect(format!("{HOME}/.config/openclaw-worker"));
    let mut curl = CommandRule::new("curl", &[], &["*"]);
    curl.network = true;
    policy.commands.allow = vec![CommandRule::new("ls", &[], &["*"]), curl];
    policy
}

fn decision(verdict: Verdict, allow_rule: Option<usize>) -> Decision {
    Decision {
        verdict,
        rule: "test".into(),
        reason: "test".into(),
        canary: None,
        allow_rule,
        plan: Plan::default(),
    }
}

fn task_id() -> TaskId {
    "6f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11".parse().unwrap()
}

fn command() -> TaskSpec {
    TaskSpec::Command {
        command: "ls".into(),
        cwd: None,
    }
}

fn allowed_spec() -> SandboxSpec {
    derive(
        &policy(),
        &command(),
        &decision(Verdict::Allow, Some(0)),
        task_id(),
        &env(),
    )
    .unwrap()
}

fn approved_spec() -> SandboxSpec {
    derive(
        &policy(),
        &command(),
        &decision(Verdict::Approve, None),
        task_id(),
        &env(),
    )
    .unwrap()
}

fn claude_spec() -> SandboxSpec {
    let claude = TaskSpec::Claude {
        prompt: "summarise".into(),
        session: None,
        cwd: None,
    };
    derive(
        &policy(),
        &claude,
        &decision(Verdict::Approve, None),
        task_id(),
        &env(),
    )
    .unwrap()
}

fn rules_of(spec: &SandboxSpec) -> Vec<Rule> {
    let profile = render(spec);
    rules(&parse(&profile).unwrap_or_else(|err| panic!("{err}\n{profile}")))
}
