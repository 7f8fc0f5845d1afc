//! The MCP tools: what an agent may ask the owner's Mac to do, with the client token's
//! power and no more. There is deliberately no tool to approve a task: approving is the
//! owner's, on the Mac or in Discord with their authenticator code.

use std::time::Duration;

use openclaw_shared::{ContentEncoding, ErrorCode, TaskId, TaskSpec};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Extensions, Implementation, ServerCapabilities, ServerConfig,
};
use rmcp::{tool, tool_handler, tool_router, ErrorData, ServerHandler};
use serde_json::json;

use super::backend::Backend;
use super::calls::{CreateRequest, ToolFailure};
use super::params::{
    AskClaude, CancelTask, EditFile, Encoding, GetTask, ListTasks, ReadFile, RunCommand, WriteFile,
    DEFAULT_CREATE_WAIT_SECS, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, MAX_WAIT_SECS,
};
use crate::intake::CreateAdmission;

/// What the server tells an agent when it connects.
const INSTRUCTIONS: &str = "OpenClaw runs tasks on the owner's Mac through a worker that \
    polls this bot: shell commands, file reads, writes and edits, and Claude Code. Every task \
    runs under the owner's local policy on the Mac: some are refused (status denied) and some \
    wait for the owner's approval (status awaiting_approval, with a fingerprint). You cannot \
    approve anything: tell the user the fingerprint and that they approve it on their Mac or \
    in Discord. Tools that create a task wait up to wait_seconds (default 20) for the result; \
    when it is not done by then, follow it with get_task.";

/// The tool server: one per MCP connection (cheap: a backend handle).
#[derive(Debug, Clone)]
pub struct OpenClawTools {
    backend: Backend,
}

impl OpenClawTools {
    /// Tools that work through `backend`.
    pub fn new(backend: Backend) -> OpenClawTools {
        OpenClawTools { backend }
    }
}

#[tool_router]
impl OpenClawTools {
    /// `run_command`.
    #[tool(
        name = "run_command",
        description = "Run a shell command on the owner's Mac and return its exit code, stdout \
            and stderr. Waits up to wait_seconds (default 20) for it to finish; otherwise \
            returns the task id to follow with get_task. The owner's policy may refuse the \
            command (denied) or hold it for their approval (awaiting_approval).",
        annotations(
            title = "Run a command on the Mac",
            destructive_hint = true,
            open_world_hint = true
        )
    )]
    async fn run_command(
        &self,
        Parameters(p): Parameters<RunCommand>,
        context: Extensions,
    ) -> Result<CallToolResult, ErrorData> {
        let spec = TaskSpec::Command {
            command: p.command,
            cwd: p.cwd,
        };
        Ok(self
            .create(&context, spec, p.timeout_seconds, p.worker, p.wait_seconds)
            .await)
    }

    /// `read_file`.
    #[tool(
        name = "read_file",
        description = "Read a file on the owner's Mac; its content comes back as stdout \
            (base64 for binary files; long content is cut in the middle). Paths may be \
            absolute or start with ~/. The owner's policy decides which paths may be read.",
        annotations(title = "Read a file on the Mac", read_only_hint = true)
    )]
    async fn read_file(
        &self,
        Parameters(p): Parameters<ReadFile>,
        context: Extensions,
    ) -> Result<CallToolResult, ErrorData> {
        let spec = TaskSpec::FileRead { path: p.path };
        Ok(self
            .create(&context, spec, None, p.worker, p.wait_seconds)
            .await)
    }

    /// `write_file`.
    #[tool(
        name = "write_file",
        description = "Write a whole file on the owner's Mac (created or replaced atomically) \
            with the given content. To change part of a file, use edit_file instead.",
        annotations(title = "Write a file on the Mac", destructive_hint = true)
    )]
    async fn write_file(
        &self,
        Parameters(p): Parameters<WriteFile>,
        context: Extensions,
    ) -> Result<CallToolResult, ErrorData> {
        let encoding = match p.encoding {
            Encoding::Utf8 => ContentEncoding::Utf8,
            Encoding::Base64 => ContentEncoding::Base64,
        };
        let spec = TaskSpec::FileWrite {
            path: p.path,
            content: p.content,
            encoding,
        };
        Ok(self
            .create(&context, spec, None, p.worker, p.wait_seconds)
            .await)
    }

    /// `edit_file`.
    #[tool(
        name = "edit_file",
        description = "Replace exact text in a text file on the owner's Mac: old_string must \
            match exactly (whitespace included) and, unless replace_all is true, occur exactly \
            once, or the task fails and the file is unchanged. Read the file first to copy \
            old_string from it.",
        annotations(title = "Edit a file on the Mac", destructive_hint = true)
    )]
    async fn edit_file(
        &self,
        Parameters(p): Parameters<EditFile>,
        context: Extensions,
    ) -> Result<CallToolResult, ErrorData> {
        let spec = TaskSpec::FileEdit {
            path: p.path,
            old_string: p.old_string,
            new_string: p.new_string,
            replace_all: p.replace_all,
        };
        Ok(self
            .create(&context, spec, None, p.worker, p.wait_seconds)
            .await)
    }

    /// `ask_claude`.
    #[tool(
        name = "ask_claude",
        description = "Ask Claude Code on the owner's Mac (it can read and change files there, \
            under the owner's policy). Pass session_id from an earlier answer to continue that \
            conversation. Claude often needs minutes: when the answer is not ready within \
            wait_seconds, follow the task with get_task.",
        annotations(
            title = "Ask Claude Code on the Mac",
            destructive_hint = true,
            open_world_hint = true
        )
    )]
    async fn ask_claude(
        &self,
        Parameters(p): Parameters<AskClaude>,
        context: Extensions,
    ) -> Result<CallToolResult, ErrorData> {
        // As `POST /claude` asks: intake makes it a Claude task and starts a new session
        // when none is named.
        let spec = TaskSpec::Agent {
            agent: openclaw_shared::task::CLAUDE_AGENT.to_owned(),
            prompt: p.prompt,
            session: p
                .session_id
                .map(openclaw_shared::task::AgentSession::resume),
            cwd: p.cwd,
        };
        Ok(self
            .create(&context, spec, p.timeout_seconds, p.worker, p.wait_seconds)
            .await)
    }

    /// `get_task`.
    #[tool(
        name = "get_task",
        description = "Get a task's status and, once finished, its result. With wait_seconds \
            (at most 60) it waits for the task to end and returns as soon as it does, or as \
            soon as it needs the owner's approval. Call it again to keep waiting.",
        annotations(title = "Get a task", read_only_hint = true)
    )]
    async fn get_task(
        &self,
        Parameters(p): Parameters<GetTask>,
    ) -> Result<CallToolResult, ErrorData> {
        let result = async {
            let id = task_id(&p.task_id)?;
            let wait = wait_secs(p.wait_seconds, 0);
            let report = self.backend.get(id, Duration::from_secs(wait)).await?;
            Ok::<_, ToolFailure>(report.into_result(Some(wait)))
        };
        Ok(result.await.unwrap_or_else(ToolFailure::into_result))
    }

    /// `list_tasks`.
    #[tool(
        name = "list_tasks",
        description = "List the most recent tasks made with this connection's token, newest \
            first: id, status, kind and what it runs (never file content or output).",
        annotations(title = "List tasks", read_only_hint = true)
    )]
    async fn list_tasks(
        &self,
        Parameters(p): Parameters<ListTasks>,
    ) -> Result<CallToolResult, ErrorData> {
        let limit = p
            .limit
            .unwrap_or(DEFAULT_LIST_LIMIT)
            .clamp(1, MAX_LIST_LIMIT);
        let status = p.status.as_deref().filter(|s| !s.trim().is_empty());
        let lines = match self.backend.list(status, limit).await {
            Ok(lines) => lines,
            Err(failure) => return Ok(failure.into_result()),
        };
        let mut text = format!("{} task(s), newest first:", lines.len());
        for line in &lines {
            text.push_str(&format!(
                "\n{} {} {} {}",
                line.task_id,
                line.status,
                line.kind.as_str(),
                line.summary
            ));
            if let Some(code) = line.exit_code {
                text.push_str(&format!(" (exit {code})"));
            }
        }
        let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
        result.structured_content = Some(json!({ "tasks": lines }));
        Ok(result)
    }

    /// `cancel_task`.
    #[tool(
        name = "cancel_task",
        description = "Cancel a task: a pending one at once; a running one (or one waiting \
            for approval) is stopped by its worker within seconds. A finished task cannot be \
            cancelled.",
        annotations(
            title = "Cancel a task",
            destructive_hint = false,
            idempotent_hint = true
        )
    )]
    async fn cancel_task(
        &self,
        Parameters(p): Parameters<CancelTask>,
    ) -> Result<CallToolResult, ErrorData> {
        let result = async {
            let id = task_id(&p.task_id)?;
            let report = self.backend.cancel(id).await?;
            Ok::<_, ToolFailure>(report.into_result(None))
        };
        Ok(result.await.unwrap_or_else(ToolFailure::into_result))
    }
}

#[tool_handler(router = Self::tool_router())]
impl ServerHandler for OpenClawTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("openclaw", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }
}

impl OpenClawTools {
    /// Creates the task, waits up to `wait_seconds` for it, and says where it stands.
    async fn create(
        &self,
        context: &Extensions,
        spec: TaskSpec,
        timeout_secs: Option<u64>,
        worker: Option<String>,
        wait_seconds: Option<u64>,
    ) -> CallToolResult {
        let request = CreateRequest {
            spec,
            timeout_secs,
            worker,
            admission: admission(context),
        };
        let wait = wait_secs(wait_seconds, DEFAULT_CREATE_WAIT_SECS);
        let (id, session_id) = match self.backend.create(request).await {
            Ok(created) => created,
            Err(failure) => return failure.into_result(),
        };
        match self.backend.get(id, Duration::from_secs(wait)).await {
            Ok(mut report) => {
                if report.session_id.is_none() {
                    report.session_id = session_id;
                }
                report.into_result(Some(wait))
            }
            Err(failure) => ToolFailure {
                message: format!(
                    "task {id} was created, but reading it failed: {}; follow it with get_task",
                    failure.message
                ),
                ..failure
            }
            .into_result(),
        }
    }
}

/// The creation rate the HTTP layer handed this call (over `/mcp`; none over stdio, where
/// the bot's API checks its own).
fn admission(context: &Extensions) -> Option<CreateAdmission> {
    context
        .get::<axum::http::request::Parts>()?
        .extensions
        .get::<CreateAdmission>()
        .cloned()
}

/// `wait_seconds`, defaulted and capped at [`MAX_WAIT_SECS`].
fn wait_secs(requested: Option<u64>, default: u64) -> u64 {
    requested.unwrap_or(default).min(MAX_WAIT_SECS)
}

/// A task id parameter.
fn task_id(raw: &str) -> Result<TaskId, ToolFailure> {
    raw.trim().parse().map_err(|_| ToolFailure {
        code: ErrorCode::InvalidField,
        message: format!("task_id {raw:?} is not a task id (a UUID such as a tool returned)"),
        field: Some("task_id".to_owned()),
    })
}
