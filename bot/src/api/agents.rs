//! Agent routes: `POST /claude` (the original's, which always answers with a `sessionId`),
//! `POST /agents/{name}` for the agents a worker configures (and `/codex`, `/gemini`, as the
//! original's later clients call them), and the caller's recent sessions.

use axum::extract::{Path, State};
use axum::Json;
use openclaw_shared::client::{ClaudeRequest, SessionList, SessionSummary, TaskCreated};
use openclaw_shared::task::{AgentSession, CLAUDE_AGENT};
use openclaw_shared::TaskSpec;
use serde::Deserialize;

use super::auth::ReaderAuth;
use super::error::ApiError;
use super::extract::AppJson;
use super::extract::AppQuery;
use super::tasks::{answer, enqueue, parse_limit, Creator};
use crate::queue::SessionBrief;
use crate::state::AppState;

/// `POST /claude`: run the Claude CLI with `prompt`. Answers with the task's `sessionId`:
/// the one asked for, or a new one, which the next request sends to continue.
pub async fn create_claude(
    creator: Creator,
    state: State<AppState>,
    AppJson(req): AppJson<ClaudeRequest>,
) -> Result<Json<TaskCreated>, ApiError> {
    create(creator, state, CLAUDE_AGENT.to_owned(), req).await
}

/// `POST /agents/{name}`: run the worker's agent `name` (`claude` is Claude) with `prompt`,
/// as `/claude` does. The bot does not know the worker's agents: a worker without this
/// one fails the task, running nothing.
pub async fn create_agent(
    creator: Creator,
    state: State<AppState>,
    Path(name): Path<String>,
    AppJson(req): AppJson<ClaudeRequest>,
) -> Result<Json<TaskCreated>, ApiError> {
    create(creator, state, name, req).await
}

/// `POST /codex`: `POST /agents/codex`, under the name the original's later clients use.
pub async fn create_codex(
    creator: Creator,
    state: State<AppState>,
    AppJson(req): AppJson<ClaudeRequest>,
) -> Result<Json<TaskCreated>, ApiError> {
    create(creator, state, "codex".to_owned(), req).await
}

/// `POST /gemini`: `POST /agents/gemini`, under the name the original's later clients use.
pub async fn create_gemini(
    creator: Creator,
    state: State<AppState>,
    AppJson(req): AppJson<ClaudeRequest>,
) -> Result<Json<TaskCreated>, ApiError> {
    create(creator, state, "gemini".to_owned(), req).await
}

/// Queues an agent task for `req` (intake checks the name, the prompt and the session,
/// and makes up a session when none is asked for) and answers with its session.
async fn create(
    _: Creator,
    State(state): State<AppState>,
    agent: String,
    req: ClaudeRequest,
) -> Result<Json<TaskCreated>, ApiError> {
    let session = req.session_id.map(|id| AgentSession {
        id,
        new: req.new_session,
    });
    let spec = TaskSpec::Agent {
        agent,
        prompt: req.prompt,
        session,
        cwd: req.cwd,
    };
    let task = enqueue(&state, spec, req.timeout, req.common).await?;
    let message = match &task.spec {
        TaskSpec::Claude { .. } => "Claude CLI task created",
        _ => "Agent CLI task created",
    };
    let session_id = task.spec.session().map(|s| s.id.clone());
    Ok(answer(task, message, session_id))
}

/// Query of `GET /claude/recent`.
#[derive(Debug, Deserialize)]
pub struct RecentQuery {
    limit: Option<String>,
}

/// `GET /claude/recent?limit=`: the caller's Claude sessions, most recently used first
/// (the client token's own; the admin token's, everyone's), each with its latest prompt's
/// start, when, and on which worker.
pub async fn recent_claude(
    auth: ReaderAuth,
    state: State<AppState>,
    query: AppQuery<RecentQuery>,
) -> Result<Json<SessionList>, ApiError> {
    recent(auth, state, CLAUDE_AGENT, query).await
}

/// `GET /agents/{name}/recent?limit=`: as `/claude/recent`, for agent `name`.
pub async fn recent_agent(
    auth: ReaderAuth,
    state: State<AppState>,
    Path(name): Path<String>,
    query: AppQuery<RecentQuery>,
) -> Result<Json<SessionList>, ApiError> {
    crate::intake::fields::agent_name(&name)?;
    recent(auth, state, &name, query).await
}

async fn recent(
    auth: ReaderAuth,
    State(state): State<AppState>,
    agent: &str,
    AppQuery(query): AppQuery<RecentQuery>,
) -> Result<Json<SessionList>, ApiError> {
    let limit = parse_limit(query.limit.as_deref())?;
    let sessions = state
        .queue()
        .recent_sessions(&auth.scope(), Some(agent), limit)
        .await?;
    Ok(Json(SessionList {
        sessions: sessions.into_iter().map(session_summary).collect(),
    }))
}

fn session_summary(session: SessionBrief) -> SessionSummary {
    SessionSummary {
        session_id: session.session_id,
        agent: session.agent,
        last_prompt: session.last_prompt,
        last_task_id: session.last_task,
        updated_at: session.updated_at,
        worker: session.worker,
    }
}
