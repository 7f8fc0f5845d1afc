//! Where the tools send their work: the bot's own intake and queue (`/mcp`), or the bot's
//! HTTP API (`mcp-stdio`). One enum, so the tools, their wording and their limits are
//! written once and both transports behave alike.

use std::time::Duration;

use openclaw_shared::TaskId;

use super::calls::{CreateRequest, TaskLine, ToolFailure};
use super::local::Local;
use super::remote::Remote;
use super::report::TaskReport;

/// The tools' way to the queue.
#[derive(Debug, Clone)]
pub enum Backend {
    /// In the bot: intake and the queue directly.
    Local(Local),
    /// In `mcp-stdio`: the bot's HTTP API with the client token.
    Remote(Remote),
}

impl Backend {
    /// Checks and enqueues `request`; returns the new task's id and, for Claude, its
    /// session id as the bot answered it.
    pub async fn create(
        &self,
        request: CreateRequest,
    ) -> Result<(TaskId, Option<String>), ToolFailure> {
        match self {
            Backend::Local(local) => local.create(request).await,
            Backend::Remote(remote) => remote.create(request).await,
        }
    }

    /// The task `id`, after waiting up to `wait` for it to finish or to come to wait for
    /// the owner's approval.
    pub async fn get(&self, id: TaskId, wait: Duration) -> Result<TaskReport, ToolFailure> {
        match self {
            Backend::Local(local) => local.get(id, wait).await,
            Backend::Remote(remote) => remote.get(id, wait).await,
        }
    }

    /// The most recent tasks of the client token, newest first.
    pub async fn list(
        &self,
        status: Option<&str>,
        limit: usize,
    ) -> Result<Vec<TaskLine>, ToolFailure> {
        match self {
            Backend::Local(local) => local.list(status, limit).await,
            Backend::Remote(remote) => remote.list(status, limit).await,
        }
    }

    /// Cancels the task `id` (queued: at once; running: at its worker's next heartbeat).
    pub async fn cancel(&self, id: TaskId) -> Result<TaskReport, ToolFailure> {
        match self {
            Backend::Local(local) => local.cancel(id).await,
            Backend::Remote(remote) => remote.cancel(id).await,
        }
    }
}
