//! `agent` tasks: an agent CLI of the worker config (`[agents.<name>]`) spawned directly
//! with the argv its template makes. The prompt is one element of it, never shell text.

use std::path::Path;
use std::time::Duration;

use openclaw_shared::task::AgentSession;
use openclaw_shared::TaskOutcome;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::ExecContext;
use crate::policy::Plan;
use crate::spool::TaskSpool;

/// One agent run.
#[derive(Debug, Clone, Copy)]
pub struct AgentRun<'a> {
    /// The agent's name in the worker config.
    pub agent: &'a str,
    /// The prompt, passed as the one element the template names `{prompt}`.
    pub prompt: &'a str,
    /// The agent's session: its start or resume flags, when it has them.
    pub session: Option<&'a AgentSession>,
}

/// Runs the agent and reports its output, with `agent` and the session in the metadata;
/// under a supervisor when the task is spooled. An agent the config does not have fails
/// with nothing run (the policy denies it first; this is the executor's own word).
pub async fn run(
    ctx: &ExecContext,
    plan: &Plan,
    run: AgentRun<'_>,
    timeout: Duration,
    cancel: &CancellationToken,
    spool: Option<&TaskSpool>,
) -> TaskOutcome {
    let Some(agent) = ctx.agents.get(run.agent) else {
        return TaskOutcome::failure(format!(
            "this worker has no agent named {}; nothing ran",
            run.agent
        ));
    };
    let args = match agent.argv(run.prompt, run.session) {
        Ok(args) => args,
        Err(message) => return TaskOutcome::failure(format!("{message}; nothing ran")),
    };
    let dir = match ctx.working_dir(plan.cwd.as_deref()) {
        Ok(dir) => dir,
        Err(message) => return TaskOutcome::failure(message),
    };
    let what = format!("{} ({})", run.agent, agent.bin);
    let program = Path::new(&agent.bin);
    let job = match ctx.job(plan, program, None, &args, dir, what, timeout) {
        Ok(job) => job,
        Err(message) => return TaskOutcome::failure(format!("{message}; nothing ran")),
    };
    let mut outcome = ctx.run_job(&job, spool, cancel).await.into_outcome(
        &job.what,
        timeout,
        ctx.redactor.as_deref(),
    );
    // An agent that cannot start a named session ran without one: its result names none.
    let session = run
        .session
        .filter(|session| !session.new || !agent.new_session.is_empty());
    annotate(&mut outcome, run.agent, session);
    outcome
}

/// Adds what an agent run's outcome carries besides its output: `agent`, and `sessionId`
/// with `sessionNew` when it ran in a session.
pub fn annotate(outcome: &mut TaskOutcome, agent: &str, session: Option<&AgentSession>) {
    outcome.metadata.insert("agent".into(), json!(agent));
    if let Some(session) = session {
        outcome
            .metadata
            .insert("sessionId".into(), json!(session.id));
        outcome
            .metadata
            .insert("sessionNew".into(), json!(session.new));
    }
}
