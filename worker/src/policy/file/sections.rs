//! The policy file's sections, one type per TOML table, each with its defaults.

use serde::{Deserialize, Serialize};

use crate::policy::defaults;
use crate::policy::quota;
use crate::policy::rules::CommandRule;
use crate::policy::Verdict;

/// Default for [`Limits::max_read_bytes`] (10 MiB, the worker config's default read cap).
pub const DEFAULT_MAX_READ_BYTES: u64 = 10 * 1024 * 1024;
/// Default for [`Limits::max_write_bytes`].
pub const DEFAULT_MAX_WRITE_BYTES: u64 = 10 * 1024 * 1024;
/// Default for [`Limits::max_command_bytes`].
pub const DEFAULT_MAX_COMMAND_BYTES: usize = 16 * 1024;
/// Default for [`ApprovalSettings::ttl_secs`]: pending approvals expire after 10 minutes.
pub const DEFAULT_APPROVAL_TTL_SECS: u64 = 600;

/// The `[commands]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CommandPolicy {
    /// Directories searched, in order, to resolve a program name; also the children's PATH.
    /// Relative entries are ignored (never resolve through the working directory).
    pub path: Vec<String>,
    /// Programs allowed without approval. Replaces the built-in set when given.
    pub allow: Vec<CommandRule>,
    /// Programs denied outright, in addition to the built-in ones. A deny rule matches a
    /// program by resolved path or by file name, and `args` as a prefix.
    pub deny: Vec<CommandRule>,
}

impl Default for CommandPolicy {
    fn default() -> Self {
        Self {
            path: defaults::SEARCH_PATH
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            allow: defaults::allow_rules(),
            deny: Vec::new(),
        }
    }
}

/// The `[paths]` section. The built-in deny lists always apply on top of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PathPolicy {
    /// Reads below these run without approval.
    pub read_roots: Vec<String>,
    /// Writes and edits below these run without approval (and reads too).
    pub write_roots: Vec<String>,
    /// Patterns never read or written, in addition to the built-in list.
    pub deny: Vec<String>,
    /// Patterns never written, in addition to the built-in list.
    pub deny_write: Vec<String>,
    /// Tripwires: a task that touches one is denied and the worker locks itself.
    pub canary: Vec<String>,
    /// Most bytes the regular files below one write root may take: a write or edit that
    /// would go over it is denied.
    pub write_quota_bytes: u64,
}

impl Default for PathPolicy {
    fn default() -> Self {
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        Self {
            read_roots: owned(defaults::READ_ROOTS),
            write_roots: owned(defaults::WRITE_ROOTS),
            deny: Vec::new(),
            deny_write: Vec::new(),
            canary: Vec::new(),
            write_quota_bytes: quota::DEFAULT_WRITE_QUOTA_BYTES,
        }
    }
}

/// The `[limits]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest file a read (or an edit) may load.
    pub max_read_bytes: u64,
    /// Largest content a write may store, after base64 decoding.
    pub max_write_bytes: u64,
    /// Longest command string.
    pub max_command_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_read_bytes: DEFAULT_MAX_READ_BYTES,
            max_write_bytes: DEFAULT_MAX_WRITE_BYTES,
            max_command_bytes: DEFAULT_MAX_COMMAND_BYTES,
        }
    }
}

/// The `[claude]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClaudePolicy {
    /// The verdict for every Claude task. Raised to `approve` when
    /// `dangerously_skip_permissions` is on: Claude without permission prompts is a shell.
    pub tier: Verdict,
    /// Working directory when the task names none (`~` allowed); the worker's default cwd
    /// when absent.
    pub cwd: Option<String>,
    /// Passed as `--allowedTools`; empty means Claude's own defaults.
    pub allowed_tools: Vec<String>,
    /// Whether `--dangerously-skip-permissions` is passed. Off unless you mean it.
    pub dangerously_skip_permissions: bool,
    /// Whether Claude's sandbox has the network. On: the CLI talks to Anthropic's API.
    pub network: bool,
    /// Claude's own files, readable and writable inside its sandbox (its settings,
    /// sessions and login), whatever the deny lists say about them for other tasks.
    pub state: Vec<String>,
}

impl Default for ClaudePolicy {
    fn default() -> Self {
        Self {
            tier: Verdict::Approve,
            cwd: None,
            allowed_tools: Vec::new(),
            dangerously_skip_permissions: false,
            network: true,
            state: vec!["~/.claude".to_owned(), "~/.claude.json".to_owned()],
        }
    }
}

/// What the policy knows of an agent CLI configured as `[agents.<name>]` in the worker
/// config (not the policy file; the worker fills it in at start, as it does `protected`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentPolicy {
    /// The verdict for every task of this agent; `approve` unless configured otherwise.
    pub tier: Verdict,
    /// Whether the agent's sandbox has the network.
    pub network: bool,
    /// The agent's own files, readable and writable inside its sandbox.
    pub state: Vec<String>,
    /// Working directory when the task names none (`~` allowed).
    pub cwd: Option<String>,
}

/// The `[env]` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvPolicy {
    /// Variables passed to children besides the base allowlist. The worker token never is.
    pub extra: Vec<String>,
    /// Variables whose values are redacted from every output before upload.
    pub redact: Vec<String>,
}

/// The `[approvals]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApprovalSettings {
    /// How long a task waits for approval before it is denied.
    pub ttl_secs: u64,
}

impl Default for ApprovalSettings {
    fn default() -> Self {
        Self {
            ttl_secs: DEFAULT_APPROVAL_TTL_SECS,
        }
    }
}

/// The `[sandbox]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxPolicy {
    /// `enforce` (the default) or `off`. Off, or where the kernel offers no sandbox,
    /// nothing runs without approval: every `allow` becomes `approve`.
    pub mode: SandboxMode,
    /// Trees every sandboxed task may read and run programs from, besides the system
    /// directories and `commands.path` (e.g. a toolchain: `~/.cargo`, `~/.rustup`).
    pub read: Vec<String>,
    /// The wider profile approved tasks run in.
    pub approved: ApprovedProfile,
}

impl Default for SandboxPolicy {
    fn default() -> Self {
        Self {
            mode: SandboxMode::Enforce,
            read: Vec::new(),
            approved: ApprovedProfile::default(),
        }
    }
}

/// Whether tasks run in the kernel sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SandboxMode {
    /// Every command and Claude run is confined (the default).
    #[default]
    Enforce,
    /// No sandbox: every task needs approval (what also happens where the kernel offers
    /// none). For a program the sandbox breaks, prefer a rule with `sandbox = false`.
    Off,
}

/// The `[sandbox.approved]` section: what a task the owner approved may touch. The built-in deny
/// lists, `paths.deny`, canaries and the worker's own files stay hidden in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApprovedProfile {
    /// Trees readable (and runnable). Default: the home directory.
    pub read: Vec<String>,
    /// Trees writable. Default: the home directory.
    pub write: Vec<String>,
    /// Whether approved tasks have the network. Default: yes.
    pub network: bool,
}

impl Default for ApprovedProfile {
    fn default() -> Self {
        Self {
            read: vec!["~".to_owned()],
            write: vec!["~".to_owned()],
            network: true,
        }
    }
}
