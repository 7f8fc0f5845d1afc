//! Agent CLIs of the worker config (`[agents.<name>]`), run for real: a fake agent binary
//! records the argv it was given, so the tests see exactly what reached it.

use std::collections::BTreeMap;
use std::path::Path;

use openclaw_shared::task::AgentSession;
use openclaw_shared::{OutcomeStatus, TaskSpec};
use openclaw_worker::agents::AgentConfig;
use openclaw_worker::exec::{self, ExecContext};
use openclaw_worker::policy::{check, CheckEnv, Policy, Verdict};
use tokio_util::sync::CancellationToken;

use crate::helpers::{claimed, exec_ctx, within_limit, write_script};

/// A fake agent: writes each argument on its own line to `argv.txt` in its working
/// directory, NUL-free, then says it ran.
const FAKE_AGENT: &str =
    "#!/bin/sh\n: > argv.txt\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> argv.txt; done\n\
                          echo ran\n";

/// A `codex`-like agent in `dir`: `exec {session} -- {prompt}`, resumed with `resume <id>`.
fn fake_codex(dir: &Path) -> AgentConfig {
    let bin = dir.join("fake-agent");
    write_script(&bin, FAKE_AGENT);
    AgentConfig {
        bin: bin.display().to_string(),
        args: ["exec", "{session}", "--", "{prompt}"]
            .map(String::from)
            .to_vec(),
        new_session: ["--session-id", "{id}"].map(String::from).to_vec(),
        resume_session: ["resume", "{id}"].map(String::from).to_vec(),
        tier: Verdict::Allow,
        network: true,
        state: Vec::new(),
        cwd: None,
    }
}

fn agent_task(agent: &str, prompt: &str, session: Option<AgentSession>) -> TaskSpec {
    TaskSpec::Agent {
        agent: agent.into(),
        prompt: prompt.into(),
        session,
        cwd: None,
    }
}

/// Checks `spec` under a policy that knows the context's agents, and runs what it allows.
async fn decide_and_run(ctx: &ExecContext, spec: TaskSpec) -> openclaw_shared::TaskOutcome {
    let mut policy = Policy::default();
    policy.agents = ctx
        .agents
        .iter()
        .map(|(name, agent)| (name.clone(), agent.policy()))
        .collect();
    let env = CheckEnv {
        home: ctx.default_cwd.clone(),
        default_cwd: ctx.default_cwd.clone(),
        path: Vec::new(),
    };
    let decision = check(&policy, &spec, &env);
    if decision.verdict == Verdict::Deny {
        let mut outcome = openclaw_shared::TaskOutcome::new(OutcomeStatus::Denied);
        outcome.error = Some(decision.reason);
        return outcome;
    }
    let task = claimed(spec, 10_000);
    within_limit(exec::execute(
        ctx,
        &task,
        &decision.plan,
        CancellationToken::new(),
    ))
    .await
}

fn recorded_argv(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("argv.txt"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_prompt_that_looks_like_flags_or_shell_stays_one_argument() {
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = exec_ctx(dir.path());
    ctx.agents = BTreeMap::from([("codex".to_owned(), fake_codex(dir.path()))]);
    let prompt = "--dangerously-skip-permissions $(rm -rf ~) `touch pwned`; touch pwned2";

    let outcome = decide_and_run(&ctx, agent_task("codex", prompt, None)).await;

    assert_eq!(outcome.status, OutcomeStatus::Succeeded, "{outcome:?}");
    assert_eq!(recorded_argv(dir.path()), ["exec", "--", prompt]);
    assert!(!dir.path().join("pwned").exists());
    assert!(!dir.path().join("pwned2").exists());
    assert_eq!(outcome.metadata["agent"], "codex");
}

#[tokio::test]
async fn an_agent_session_is_started_then_resumed_with_the_configured_flags() {
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = exec_ctx(dir.path());
    ctx.agents = BTreeMap::from([("codex".to_owned(), fake_codex(dir.path()))]);

    let first = decide_and_run(
        &ctx,
        agent_task("codex", "one", Some(AgentSession::start("s-1"))),
    )
    .await;
    let started = recorded_argv(dir.path());
    let second = decide_and_run(
        &ctx,
        agent_task("codex", "two", Some(AgentSession::resume("s-1"))),
    )
    .await;

    assert_eq!(first.status, OutcomeStatus::Succeeded, "{first:?}");
    assert_eq!(started, ["exec", "--session-id", "s-1", "--", "one"]);
    assert_eq!(second.status, OutcomeStatus::Succeeded, "{second:?}");
    assert_eq!(
        recorded_argv(dir.path()),
        ["exec", "resume", "s-1", "--", "two"]
    );
    assert_eq!(second.metadata["sessionId"], "s-1");
}

#[tokio::test]
async fn an_agent_the_worker_does_not_have_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = exec_ctx(dir.path());
    ctx.agents = BTreeMap::from([("codex".to_owned(), fake_codex(dir.path()))]);

    let outcome = decide_and_run(&ctx, agent_task("gemini", "hi there", None)).await;
    // The executor's own word too, should a plan ever reach it for an unknown agent.
    let task = claimed(agent_task("gemini", "hi there", None), 10_000);
    let direct = within_limit(exec::execute(
        &ctx,
        &task,
        &Default::default(),
        CancellationToken::new(),
    ))
    .await;

    assert_eq!(outcome.status, OutcomeStatus::Denied);
    assert!(
        outcome
            .error
            .as_deref()
            .unwrap()
            .contains("no agent named gemini"),
        "{outcome:?}"
    );
    assert_eq!(direct.status, OutcomeStatus::Failed);
    assert!(direct.error.unwrap().contains("nothing ran"));
    assert!(!dir.path().join("argv.txt").exists(), "an agent ran");
}
