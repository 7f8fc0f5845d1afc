//! The tools' parameters. Each field's `///` becomes its description in the JSON schema an
//! agent reads, so they say units, defaults and limits plainly.

use rmcp::schemars::{self, JsonSchema};
use serde::Deserialize;

/// Seconds a tool that creates a task waits for its result when `wait_seconds` is absent.
pub const DEFAULT_CREATE_WAIT_SECS: u64 = 20;
/// Longest any tool waits (the HTTP API's own cap on `GET /tasks/:id?wait=`).
pub const MAX_WAIT_SECS: u64 = openclaw_shared::client::MAX_WAIT_MS / 1000;
/// Tasks `list_tasks` shows when `limit` is absent.
pub const DEFAULT_LIST_LIMIT: usize = 20;
/// Most tasks `list_tasks` shows.
pub const MAX_LIST_LIMIT: usize = 200;

/// `run_command`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunCommand {
    /// The command line to run on the owner's Mac, e.g. `ls -la ~/Projects`. Run by the
    /// worker under the owner's local policy (some commands are refused or need approval).
    pub command: String,
    /// Working directory: absolute, `~/…`, or relative to the worker's default directory.
    /// Default: the worker's default directory.
    #[serde(default)]
    pub cwd: Option<String>,
    /// How long the command may run, in seconds (default 30; at most the bot's
    /// `limits.max_timeout_ms`). It is killed when it runs longer.
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
    /// Run only on the worker with this name; any connected worker when absent.
    #[serde(default)]
    pub worker: Option<String>,
    /// How long to wait for the result before returning, in seconds (default 20, at most
    /// 60; 0 returns at once with the task id). Returns as soon as the task ends or needs
    /// the owner's approval.
    #[serde(default)]
    pub wait_seconds: Option<u64>,
}

/// `read_file`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadFile {
    /// The file on the Mac: absolute, `~/…`, or relative to the worker's default directory.
    /// Its content comes back as stdout (base64 when it is not text).
    pub path: String,
    /// Read on the worker with this name; any connected worker when absent.
    #[serde(default)]
    pub worker: Option<String>,
    /// Seconds to wait for the content (default 20, at most 60; 0: return the task id at once).
    #[serde(default)]
    pub wait_seconds: Option<u64>,
}

/// How `write_file`'s content is encoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// The content is the text itself (the default).
    #[default]
    Utf8,
    /// The content is base64 of the raw bytes (for binary files).
    Base64,
}

/// `write_file`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteFile {
    /// The file on the Mac, as for `read_file`. Created, or replaced whole (atomically).
    pub path: String,
    /// The complete new content; may be empty.
    pub content: String,
    /// `utf8` (default) or `base64`.
    #[serde(default)]
    pub encoding: Encoding,
    /// Write on the worker with this name; any connected worker when absent.
    #[serde(default)]
    pub worker: Option<String>,
    /// Seconds to wait for the result (default 20, at most 60; 0: return the task id at once).
    #[serde(default)]
    pub wait_seconds: Option<u64>,
}

/// `edit_file`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EditFile {
    /// The UTF-8 text file on the Mac, as for `read_file`.
    pub path: String,
    /// The exact text to find (whitespace and line breaks included); not empty. Unless
    /// `replace_all` is true it must occur exactly once, or the task fails and nothing changes.
    pub old_string: String,
    /// The text that replaces it; may be empty (to delete).
    pub new_string: String,
    /// Replace every occurrence instead of requiring exactly one (default false).
    #[serde(default)]
    pub replace_all: bool,
    /// Edit on the worker with this name; any connected worker when absent.
    #[serde(default)]
    pub worker: Option<String>,
    /// Seconds to wait for the result (default 20, at most 60; 0: return the task id at once).
    #[serde(default)]
    pub wait_seconds: Option<u64>,
}

/// `ask_claude`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AskClaude {
    /// The prompt for Claude Code on the Mac (passed as one argument, never through a shell).
    pub prompt: String,
    /// A Claude session id from an earlier `ask_claude` result, to continue that
    /// conversation; a new conversation when absent.
    #[serde(default)]
    pub session_id: Option<String>,
    /// Working directory for Claude: absolute, `~/…`, or relative to the worker's default
    /// directory. Default: the worker's Claude directory.
    #[serde(default)]
    pub cwd: Option<String>,
    /// How long Claude may run, in seconds (default 120).
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
    /// Run on the worker with this name; any connected worker when absent.
    #[serde(default)]
    pub worker: Option<String>,
    /// Seconds to wait for the answer (default 20, at most 60; Claude often takes longer:
    /// then follow the task with `get_task`).
    #[serde(default)]
    pub wait_seconds: Option<u64>,
}

/// `get_task`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetTask {
    /// The task id a tool returned (a UUID).
    pub task_id: String,
    /// Seconds to wait for the task to end (default 0: as it is now; at most 60). Returns
    /// as soon as it ends or comes to need the owner's approval.
    #[serde(default)]
    pub wait_seconds: Option<u64>,
}

/// `list_tasks`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTasks {
    /// Only tasks with this status: `pending`, `running`, `awaiting_approval`,
    /// `succeeded`, `failed`, `timed_out`, `cancelled`, `expired`, `lost` or `denied`.
    #[serde(default)]
    pub status: Option<String>,
    /// How many of the most recent tasks to show (default 20, at most 200).
    #[serde(default)]
    pub limit: Option<usize>,
}

/// `cancel_task`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelTask {
    /// The task id to cancel (a UUID).
    pub task_id: String,
}
