//! The tools' backend inside the bot: the same intake and queue calls the HTTP API's client
//! routes make, as the client token (same limits, same owner, same view of tasks).

use std::time::Duration;

use openclaw_shared::{ErrorCode, TaskId, TaskStatus};
use tokio::sync::broadcast;

use super::calls::{CreateRequest, TaskLine, ToolFailure};
use super::report::TaskReport;
use crate::intake::{self, RequestedTimeout, Requester, RetryAfter, TaskRequest};
use crate::metrics::Source;
use crate::queue::{Task, TaskEvent};
use crate::state::AppState;

/// The bot's own intake and queue, acting for the client token.
#[derive(Clone)]
pub struct Local {
    state: AppState,
}

impl std::fmt::Debug for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local").finish_non_exhaustive()
    }
}

/// Whose tasks an MCP client sees and may cancel: the client token's. Its tasks are the
/// API's, since it holds the same token.
const REQUESTER: Requester = Requester::ApiClient;

impl Local {
    /// The backend over `state`'s queue.
    pub fn new(state: AppState) -> Local {
        Local { state }
    }

    pub(super) async fn create(
        &self,
        request: CreateRequest,
    ) -> Result<(TaskId, Option<String>), ToolFailure> {
        // Before any checking, as `POST /tasks` refuses an over-rate create first.
        if let Some(admission) = &request.admission {
            admission.admit().map_err(|RetryAfter(secs)| {
                ToolFailure::new(
                    ErrorCode::RateLimited,
                    format!("too many tasks created; retry in {secs} s"),
                )
            })?;
        }
        // Every other option at its default: results go back through the tools only (no
        // Discord channel, no webhook URL of the agent's choosing).
        let request = TaskRequest {
            timeout: request.timeout_secs.map(RequestedTimeout::Seconds),
            worker: request.worker,
            ..TaskRequest::new(request.spec, REQUESTER)
        };
        let new_task = intake::check(request, &self.state.intake_rules())?;
        let kind = new_task.spec.kind();
        let task = self.state.queue().enqueue(new_task).await?;
        self.state.metrics().task_created(kind, Source::Mcp);
        tracing::info!(task_id = %task.id, kind = kind.as_str(), "task created over MCP");
        Ok((task.id, TaskReport::from_task(&task).session_id))
    }

    pub(super) async fn get(&self, id: TaskId, wait: Duration) -> Result<TaskReport, ToolFailure> {
        // Subscribed before the first read, so an approval request that lands between the
        // read and the wait is not missed.
        let events = self.state.queue().subscribe();
        let task = self.visible(id).await?;
        if wait.is_zero()
            || task.status.is_terminal()
            || task.status == TaskStatus::AwaitingApproval
        {
            return Ok(TaskReport::from_task(&task));
        }
        let queue = self.state.queue();
        let task = tokio::select! {
            res = queue.wait_finished(id, wait) => res?,
            () = approval_requested(events, id) => queue.get(id).await?,
            // Shutting down: answer with the task as it is rather than hold the exit.
            () = self.state.stopping().cancelled() => queue.get(id).await?,
        };
        Ok(TaskReport::from_task(&task))
    }

    pub(super) async fn list(
        &self,
        status: Option<&str>,
        limit: usize,
    ) -> Result<Vec<TaskLine>, ToolFailure> {
        let status = status.map(parse_status).transpose()?;
        let briefs = self
            .state
            .queue()
            .list(&REQUESTER.own_tasks(), status, limit)
            .await?;
        Ok(briefs.iter().map(TaskLine::from).collect())
    }

    pub(super) async fn cancel(&self, id: TaskId) -> Result<TaskReport, ToolFailure> {
        // An owner never changes, so the check holds for the cancel that follows it.
        self.visible(id).await?;
        let task = self.state.queue().cancel(id).await?;
        tracing::debug!(task_id = %id, status = %task.status, "cancel over MCP handled");
        Ok(TaskReport::from_task(&task))
    }

    /// The task `id` if it is the client token's; another owner's is "not found", like an
    /// unknown id, so a token learns nothing about tasks that are not its own.
    async fn visible(&self, id: TaskId) -> Result<Task, ToolFailure> {
        let task = self.state.queue().get(id).await?;
        if REQUESTER.own_tasks().covers(&task) {
            Ok(task)
        } else {
            Err(ToolFailure::new(ErrorCode::NotFound, "Task not found"))
        }
    }
}

/// Returns once task `id` is reported waiting for approval (or events were missed, so the
/// caller re-reads); never returns when the channel closed.
async fn approval_requested(mut events: broadcast::Receiver<TaskEvent>, id: TaskId) {
    loop {
        match events.recv().await {
            Ok(TaskEvent::AwaitingApproval { id: event_id }) if event_id == id => return,
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => return,
            Err(broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}

/// A status filter as the tool takes it: `pending` for queued, or a status name.
pub fn parse_status(raw: &str) -> Result<TaskStatus, ToolFailure> {
    if raw == "pending" {
        return Ok(TaskStatus::Queued);
    }
    raw.parse().map_err(|_| {
        let known: Vec<&str> = TaskStatus::ALL
            .iter()
            .filter(|s| **s != TaskStatus::Queued)
            .map(|s| s.as_str())
            .collect();
        ToolFailure {
            code: ErrorCode::InvalidField,
            message: format!(
                "status {raw:?} is not a status; expected pending or one of {}",
                known.join(", ")
            ),
            field: Some("status".to_owned()),
        }
    })
}
