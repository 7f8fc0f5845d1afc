//! Tests of the spec derivation: what each kind of task sees, writes and reaches on the
//! network, per verdict and platform, and that the worker's own files stay hidden.

use std::path::{Path, PathBuf};

use openclaw_shared::{TaskId, TaskSpec};

use super::*;
use crate::policy::file::CommandRule;
use crate::policy::{Decision, Plan, Policy, Verdict};
use crate::sandbox::{Access, Profile};

const HOME: &str = "/Users/me";

fn env() -> SandboxEnv {
    SandboxEnv {
        home: PathBuf::from(HOME),
        search: vec![PathBuf::from("/bin"), PathBuf::from("/opt/homebrew/bin")],
        tmp_base: PathBuf::from("/tmp/ocw"),
        claude_dir: Some(PathBuf::from("/opt/claude")),
        agent_dirs: std::collections::BTreeMap::new(),
        platform: Platform::Linux,
    }
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

fn command() -> TaskSpec {
    TaskSpec::Command {
        command: "ls".into(),
        cwd: None,
    }
}

fn claude() -> TaskSpec {
    TaskSpec::Claude {
        prompt: "hi there".into(),
        session: None,
        cwd: None,
    }
}

fn id() -> TaskId {
    "6f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11".parse().unwrap()
}

fn access_of(spec: &SandboxSpec, path: &str) -> Option<Access> {
    spec.trees
        .iter()
        .filter(|t| t.path == Path::new(path))
        .map(|t| t.access)
        .max()
}

fn protected_policy() -> Policy {
    let mut policy = Policy::default();
    policy.protect(format!("{HOME}/.config/openclaw-worker"));
    policy
}

#[test]
fn an_allowed_command_sees_its_roots_and_the_system_but_not_the_home() {
    let policy = protected_policy();

    let spec = derive(
        &policy,
        &command(),
        &decision(Verdict::Allow, Some(0)),
        id(),
        &env(),
    )
    .unwrap();

    assert_eq!(spec.profile, Profile::Allowed);
    assert_eq!(access_of(&spec, "/usr"), Some(Access::ReadExec));
    assert_eq!(
        access_of(&spec, "/opt/homebrew/bin"),
        Some(Access::ReadExec)
    );
    assert_eq!(access_of(&spec, "/Users/me/Documents"), Some(Access::Read));
    assert_eq!(
        access_of(&spec, "/Users/me/Downloads/openclaw"),
        Some(Access::ReadWrite)
    );
    assert_eq!(access_of(&spec, HOME), None);
    assert!(!spec.network);
    assert!(spec.hidden.contains(&PathBuf::from("/Users/me/.ssh")));
    assert!(spec
        .hidden
        .contains(&PathBuf::from("/Users/me/.config/openclaw-worker")));
    assert!(spec.hidden_patterns.contains(&"/**/.env".to_owned()));
    assert!(spec.read_only.contains(&PathBuf::from("/Users/me/.zshrc")));
    assert!(!spec.trees.iter().any(|t| t.path.starts_with("/dev/tty")));
}

#[test]
fn each_task_gets_its_own_writable_temp_dir() {
    let policy = Policy::default();

    let spec = derive(
        &policy,
        &command(),
        &decision(Verdict::Allow, Some(0)),
        id(),
        &env(),
    )
    .unwrap();

    assert_eq!(
        spec.tmpdir,
        PathBuf::from(format!("/tmp/ocw/openclaw-task-{}", id()))
    );
    assert_eq!(
        access_of(&spec, &spec.tmpdir.to_string_lossy()),
        Some(Access::ReadWrite)
    );
}

#[test]
fn the_network_comes_only_from_the_allow_rule() {
    let mut policy = Policy::default();
    let mut rule = CommandRule::new("curl", &[], &["*"]);
    rule.network = true;
    policy.commands.allow = vec![CommandRule::new("ls", &[], &["*"]), rule];

    let ls = derive(
        &policy,
        &command(),
        &decision(Verdict::Allow, Some(0)),
        id(),
        &env(),
    )
    .unwrap();
    let curl = derive(
        &policy,
        &command(),
        &decision(Verdict::Allow, Some(1)),
        id(),
        &env(),
    )
    .unwrap();

    assert!(!ls.network);
    assert!(curl.network);
    assert!(curl
        .trees
        .iter()
        .any(|t| t.path == Path::new("/run/systemd/resolve")));
}

#[test]
fn an_approved_command_gets_the_wider_profile_still_without_the_workers_files() {
    let policy = protected_policy();

    let spec = derive(
        &policy,
        &command(),
        &decision(Verdict::Approve, None),
        id(),
        &env(),
    )
    .unwrap();

    assert_eq!(spec.profile, Profile::Approved);
    assert_eq!(access_of(&spec, HOME), Some(Access::Full));
    assert!(spec.network);
    assert!(spec
        .hidden
        .contains(&PathBuf::from("/Users/me/.config/openclaw-worker")));
    assert!(spec.hidden.contains(&PathBuf::from("/Users/me/.aws")));
}

#[test]
fn denied_tasks_file_tasks_and_the_off_switch_get_no_sandbox() {
    let mut policy = Policy::default();
    let read = TaskSpec::FileRead { path: "~/x".into() };

    assert!(derive(
        &policy,
        &command(),
        &decision(Verdict::Deny, None),
        id(),
        &env()
    )
    .is_none());
    assert!(derive(
        &policy,
        &read,
        &decision(Verdict::Allow, None),
        id(),
        &env()
    )
    .is_none());
    policy.sandbox.mode = SandboxMode::Off;
    assert!(derive(
        &policy,
        &command(),
        &decision(Verdict::Allow, Some(0)),
        id(),
        &env()
    )
    .is_none());
}

#[test]
fn a_rule_with_sandbox_off_runs_unconfined() {
    let mut policy = Policy::default();
    let mut rule = CommandRule::new("make", &[], &["*"]);
    rule.sandbox = false;
    policy.commands.allow = vec![rule];

    assert!(derive(
        &policy,
        &command(),
        &decision(Verdict::Approve, Some(0)),
        id(),
        &env()
    )
    .is_none());
}

#[test]
fn claude_reads_its_own_state_and_login_and_has_the_network() {
    let policy = protected_policy();

    let spec = derive(
        &policy,
        &claude(),
        &decision(Verdict::Approve, None),
        id(),
        &env(),
    )
    .unwrap();

    assert!(spec.network);
    assert_eq!(
        access_of(&spec, "/Users/me/.claude"),
        Some(Access::ReadWrite)
    );
    assert_eq!(access_of(&spec, "/opt/claude"), Some(Access::ReadExec));
    assert!(!spec
        .hidden
        .contains(&PathBuf::from("/Users/me/.claude/.credentials.json")));
    assert!(spec
        .hidden
        .contains(&PathBuf::from("/Users/me/.config/openclaw-worker")));
}

#[test]
fn an_agent_gets_its_own_state_install_dir_and_network_and_an_unknown_one_nothing() {
    let mut policy = protected_policy();
    policy.agents.insert(
        "codex".into(),
        crate::policy::file::AgentPolicy {
            tier: Verdict::Approve,
            network: false,
            state: vec!["~/.codex".into()],
            cwd: None,
        },
    );
    let mut env = env();
    env.agent_dirs
        .insert("codex".into(), PathBuf::from("/opt/codex"));
    let agent = |name: &str| TaskSpec::Agent {
        agent: name.into(),
        prompt: "hi there".into(),
        session: None,
        cwd: None,
    };
    let approved = decision(Verdict::Approve, None);

    let spec = derive(&policy, &agent("codex"), &approved, id(), &env).unwrap();
    let unknown = derive(&policy, &agent("gemini"), &approved, id(), &env);

    assert!(!spec.network);
    assert_eq!(
        access_of(&spec, "/Users/me/.codex"),
        Some(Access::ReadWrite)
    );
    assert_eq!(access_of(&spec, "/opt/codex"), Some(Access::ReadExec));
    assert_eq!(access_of(&spec, "/Users/me/.claude"), None);
    assert_eq!(access_of(&spec, "/opt/claude"), None);
    assert!(unknown.is_none());
}

#[test]
fn macos_system_trees_differ_from_linux() {
    let mac = system_trees(Platform::MacOs, false);
    let linux = system_trees(Platform::Linux, false);

    assert!(mac.iter().any(|t| t.path == Path::new("/System/Library")));
    assert!(!mac.iter().any(|t| t.path == Path::new("/System")));
    assert!(!linux.iter().any(|t| t.path.starts_with("/System")));
    assert!(linux
        .iter()
        .any(|t| t.path == Path::new("/dev/null") && t.access == Access::ReadWrite));
}

#[test]
fn fail_closed_raises_allowed_processes_to_approve_but_not_file_tasks() {
    let mut run = decision(Verdict::Allow, Some(0));
    let mut read = decision(Verdict::Allow, None);

    fail_closed(&mut run, &command(), "no Landlock");
    fail_closed(
        &mut read,
        &TaskSpec::FileRead { path: "x".into() },
        "no Landlock",
    );

    assert_eq!(run.verdict, Verdict::Approve);
    assert_eq!(run.rule, "sandbox.unavailable");
    assert!(run.reason.contains("no Landlock"));
    assert_eq!(read.verdict, Verdict::Allow);
}

#[test]
fn the_checked_program_may_run_even_outside_the_system_trees() {
    let policy = Policy::default();
    let mut allowed = decision(Verdict::Allow, None);
    allowed.plan.exec = Some(crate::policy::Exec::Direct {
        program: PathBuf::from("/Users/me/bin/tool.sh"),
        argv: vec!["tool.sh".into()],
    });

    let spec = derive(&policy, &command(), &allowed, id(), &env()).unwrap();

    assert_eq!(
        access_of(&spec, "/Users/me/bin/tool.sh"),
        Some(Access::ReadExec)
    );
    assert_eq!(access_of(&spec, "/Users/me/bin"), None);
}
