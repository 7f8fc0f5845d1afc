//! The tools' backend in `openclaw-bot mcp-stdio`: the bot's HTTP client API with the client
//! token, so the stdio server needs no database and no more power than the token has. The
//! bot applies its own rules to every request; this side only translates.

use std::time::Duration;

use openclaw_shared::client::{TaskCreated, TaskList, TaskView};
use openclaw_shared::task::{AgentSession, CLAUDE_AGENT};
use openclaw_shared::{ErrorBody, ErrorCode, TaskId, TaskSpec};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use super::calls::{parameter_name, CreateRequest, TaskLine, ToolFailure};
use super::report::TaskReport;

/// How long one long poll of `GET /tasks/:id?wait=` lasts while a tool waits: short, so a
/// task that comes to wait for approval (which no long poll reports) is seen within it.
const POLL_SLICE: Duration = Duration::from_secs(2);
/// Time allowed for a request beyond its own long poll.
const REQUEST_MARGIN: Duration = Duration::from_secs(30);
/// Time allowed to connect to the bot.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The bot's HTTP API, as the client token.
#[derive(Clone)]
pub struct Remote {
    http: reqwest::Client,
    /// The bot's base URL, without a trailing slash.
    base: String,
    token: SecretString,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Remote {
    /// A client of the bot at `base_url` (`http://…` or `https://…`) with `token`.
    pub fn new(base_url: &str, token: SecretString) -> Result<Remote, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!(
                "openclaw-bot-mcp-stdio/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()?;
        Ok(Remote {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            token,
        })
    }

    pub(super) async fn create(
        &self,
        request: CreateRequest,
    ) -> Result<(TaskId, Option<String>), ToolFailure> {
        // JSON in the API's own field names (see `openclaw_shared::client`): the bot parses
        // and checks it like any client's request.
        let timeout = request.timeout_secs.map(|secs| secs.saturating_mul(1000));
        let (path, mut body): (String, Value) = match request.spec {
            TaskSpec::Command { command, cwd, .. } => (
                "/tasks".to_owned(),
                json!({ "command": command, "cwd": cwd, "timeout": timeout }),
            ),
            TaskSpec::FileRead { path, .. } => ("/files/read".to_owned(), json!({ "path": path })),
            TaskSpec::FileWrite {
                path,
                content,
                encoding,
                ..
            } => (
                "/files/write".to_owned(),
                json!({ "path": path, "content": content, "encoding": encoding }),
            ),
            TaskSpec::FileEdit {
                path,
                old_string,
                new_string,
                replace_all,
                ..
            } => (
                "/files/edit".to_owned(),
                json!({
                    "path": path,
                    "old_string": old_string,
                    "new_string": new_string,
                    "replace_all": replace_all,
                }),
            ),
            TaskSpec::Claude {
                prompt,
                session,
                cwd,
            } => agent_request(CLAUDE_AGENT, prompt, session, cwd, timeout),
            TaskSpec::Agent {
                agent,
                prompt,
                session,
                cwd,
            } => agent_request(&agent, prompt, session, cwd, timeout),
        };
        body["worker"] = json!(request.worker);
        // Absent, not null: the API reads a missing optional field as "not given".
        if let Value::Object(fields) = &mut body {
            fields.retain(|_, value| !value.is_null());
        }
        let created: TaskCreated = self
            .send(self.http.post(self.url(&path)).json(&body), Duration::ZERO)
            .await?;
        Ok((created.task_id, created.session_id))
    }

    pub(super) async fn get(&self, id: TaskId, wait: Duration) -> Result<TaskReport, ToolFailure> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut slice = Duration::ZERO;
        loop {
            let report = self.view(id, slice).await?;
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if report.finished || report.awaits_approval() || left.is_zero() {
                return Ok(report);
            }
            slice = left.min(POLL_SLICE);
        }
    }

    pub(super) async fn list(
        &self,
        status: Option<&str>,
        limit: usize,
    ) -> Result<Vec<TaskLine>, ToolFailure> {
        let mut query = vec![("limit", limit.to_string())];
        if let Some(status) = status {
            query.push(("status", status.to_owned()));
        }
        let list: TaskList = self
            .send(
                self.http.get(self.url("/tasks")).query(&query),
                Duration::ZERO,
            )
            .await?;
        Ok(list.tasks.into_iter().map(TaskLine::from).collect())
    }

    pub(super) async fn cancel(&self, id: TaskId) -> Result<TaskReport, ToolFailure> {
        let request = self
            .http
            .post(self.url(&format!("/tasks/{id}/cancel")))
            .json(&serde_json::json!({}));
        let raw: Value = self.send(request, Duration::ZERO).await?;
        report_of(raw)
    }

    /// `GET /tasks/:id?wait=`.
    async fn view(&self, id: TaskId, wait: Duration) -> Result<TaskReport, ToolFailure> {
        let request = self
            .http
            .get(self.url(&format!("/tasks/{id}")))
            .query(&[("wait", wait.as_millis().to_string())]);
        let raw: Value = self.send(request, wait).await?;
        report_of(raw)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends `request` with the token; a success body as `T`, our error body as a tool
    /// failure with the bot's own code and words.
    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        long_poll: Duration,
    ) -> Result<T, ToolFailure> {
        let response = request
            .bearer_auth(self.token.expose_secret())
            .timeout(long_poll + REQUEST_MARGIN)
            .send()
            .await
            .map_err(|err| unreachable_bot(&self.base, &err))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|err| unreachable_bot(&self.base, &err))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|err| {
                ToolFailure::new(
                    ErrorCode::Internal,
                    format!("the bot's answer was not what this client expects: {err}"),
                )
            });
        }
        Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(body) => {
                let field = refused_field(body.code, &body.error);
                ToolFailure {
                    field,
                    ..ToolFailure::new(body.code, body.error)
                }
            }
            Err(_) => ToolFailure::new(
                ErrorCode::Internal,
                format!("the bot answered HTTP {status} without an error body"),
            ),
        })
    }
}

/// The tool parameter an intake refusal from the API names: its messages start with the
/// field's name ("command is longer than …"), as intake words them.
fn refused_field(code: ErrorCode, message: &str) -> Option<String> {
    if !matches!(code, ErrorCode::InvalidField | ErrorCode::FieldTooLong) {
        return None;
    }
    let first = message.split_whitespace().next()?;
    INTAKE_FIELDS
        .contains(&first)
        .then(|| parameter_name(first).to_owned())
}

/// The fields intake checks, as the API spells them.
const INTAKE_FIELDS: [&str; 10] = [
    "command",
    "cwd",
    "path",
    "content",
    "old_string",
    "new_string",
    "prompt",
    "sessionId",
    "worker",
    "timeout",
];

/// The route and body that ask for an agent run as `POST /claude` and `POST /agents/<name>`
/// take them (`/claude` for Claude: intake makes it a Claude task).
fn agent_request(
    agent: &str,
    prompt: String,
    session: Option<AgentSession>,
    cwd: Option<String>,
    timeout: Option<u64>,
) -> (String, Value) {
    let path = if agent == CLAUDE_AGENT {
        "/claude".to_owned()
    } else {
        format!("/agents/{agent}")
    };
    let body = json!({
        "prompt": prompt,
        "sessionId": session.as_ref().map(|s| &s.id),
        "newSession": session.as_ref().is_some_and(|s| s.new),
        "cwd": cwd,
        "timeout": timeout,
    });
    (path, body)
}

/// A task view's JSON as a report.
fn report_of(raw: Value) -> Result<TaskReport, ToolFailure> {
    let view: TaskView = serde_json::from_value(raw).map_err(|err| {
        ToolFailure::new(
            ErrorCode::Internal,
            format!("the bot's task view was not what this client expects: {err}"),
        )
    })?;
    Ok(TaskReport::from_view(view))
}

fn unreachable_bot(base: &str, err: &reqwest::Error) -> ToolFailure {
    tracing::warn!(error = %crate::telemetry::error_chain(err), "cannot reach the bot");
    ToolFailure::new(
        ErrorCode::Unavailable,
        format!("cannot reach the bot at {base}: {err}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intake_refusals_from_the_api_name_the_tool_parameter() {
        let too_long = "command is longer than 16384 bytes (limits.max_command_bytes)";
        let session = "sessionId must not start with '-'";
        let timeout = "timeout must be between 1 and 3600000 ms, got 0";

        assert_eq!(
            refused_field(ErrorCode::FieldTooLong, too_long).as_deref(),
            Some("command")
        );
        assert_eq!(
            refused_field(ErrorCode::InvalidField, session).as_deref(),
            Some("session_id")
        );
        assert_eq!(
            refused_field(ErrorCode::InvalidField, timeout).as_deref(),
            Some("timeout_seconds")
        );
        assert_eq!(
            refused_field(ErrorCode::InvalidField, "unknown status \"x\""),
            None
        );
        assert_eq!(refused_field(ErrorCode::NotFound, too_long), None);
    }
}
