//! The policy file: TOML on the Mac, loaded only if neither it nor its directory can be
//! changed by anyone but its owner. Nothing the server sends can change it.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::defaults;
use super::paths::PathPattern;
use super::quota;
use super::Verdict;

/// Default for [`Limits::max_read_bytes`] (10 MiB, the worker config's default read cap).
pub const DEFAULT_MAX_READ_BYTES: u64 = 10 * 1024 * 1024;
/// Default for [`Limits::max_write_bytes`].
pub const DEFAULT_MAX_WRITE_BYTES: u64 = 10 * 1024 * 1024;
/// Default for [`Limits::max_command_bytes`].
pub const DEFAULT_MAX_COMMAND_BYTES: usize = 16 * 1024;
/// Default for [`ApprovalSettings::ttl_secs`]: pending approvals expire after 10 minutes.
pub const DEFAULT_APPROVAL_TTL_SECS: u64 = 600;

/// The whole policy. Every section is optional; a missing one takes its default, and an
/// unknown key is an error (a typo must not silently loosen nothing and tighten nothing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// The verdict for a task no rule matches. `approve` out of the box.
    pub default: Verdict,
    /// Which programs may run without approval, and which never.
    pub commands: CommandPolicy,
    /// Where file tasks may read and write.
    pub paths: PathPolicy,
    /// Size limits per operation.
    pub limits: Limits,
    /// The Claude tier.
    pub claude: ClaudePolicy,
    /// The child processes' environment and what is redacted from output.
    pub env: EnvPolicy,
    /// How approvals behave.
    pub approvals: ApprovalSettings,
    /// The kernel sandbox every command and Claude run is confined to.
    pub sandbox: SandboxPolicy,
    /// The worker's own files (config, policy, secrets, audit log, state): always denied.
    /// Set by the worker at start, never read from the file.
    #[serde(skip)]
    pub protected: Vec<PathBuf>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            default: Verdict::Approve,
            commands: CommandPolicy::default(),
            paths: PathPolicy::default(),
            limits: Limits::default(),
            claude: ClaudePolicy::default(),
            env: EnvPolicy::default(),
            approvals: ApprovalSettings::default(),
            sandbox: SandboxPolicy::default(),
            protected: Vec::new(),
        }
    }
}

/// One command rule: a program and argument patterns.
///
/// `args` are matched one to one against the first arguments; every further argument must
/// match one of `options` (none may follow when `options` is empty). Patterns are globs in
/// which `*` also matches `/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandRule {
    /// An absolute path, or a name resolved through [`CommandPolicy::path`] at check time:
    /// a rule for `ls` matches `/bin/ls`, never some other `ls`.
    pub program: String,
    /// Patterns for the leading arguments, one each.
    #[serde(default)]
    pub args: Vec<String>,
    /// Patterns any further argument must match.
    #[serde(default)]
    pub options: Vec<String>,
    /// Whether the program may use the network (TCP, UDP, any socket) when it runs
    /// without approval. Off by default: an auto-allowed task has no network.
    #[serde(default, skip_serializing_if = "is_false")]
    pub network: bool,
    /// `false` runs the program outside the kernel sandbox. The escape hatch for a program
    /// the sandbox breaks: such a rule never allows, it only ever asks for approval.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub sandbox: bool,
}

impl CommandRule {
    /// A rule for `program` with these argument patterns, sandboxed and without network.
    pub fn new(program: &str, args: &[&str], options: &[&str]) -> Self {
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        Self {
            program: program.to_owned(),
            args: owned(args),
            options: owned(options),
            network: false,
            sandbox: true,
        }
    }
}

fn yes() -> bool {
    true
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if signature"
)]
fn is_true(value: &bool) -> bool {
    *value
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if signature"
)]
fn is_false(value: &bool) -> bool {
    !*value
}

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

/// `[sandbox.approved]`: what a task the owner approved may touch. The built-in deny
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

/// Why the policy cannot be loaded. The worker refuses to start on any of these.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file cannot be read.
    #[error("cannot read policy file {path}: {source}")]
    Read {
        /// The policy file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file or its directory could be changed by someone else.
    #[error(
        "{path} is {problem}; the policy must be changeable only by you \
         (fix with: chmod go-w {path})"
    )]
    Insecure {
        /// The file or directory at fault.
        path: PathBuf,
        /// What is wrong, e.g. "writable by group or others".
        problem: String,
    },
    /// Not valid TOML, or not the policy's shape.
    #[error("invalid policy file {path}: {source}")]
    Parse {
        /// The policy file.
        path: PathBuf,
        /// The TOML error, with line and column.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// A value is out of range or a pattern does not compile.
    #[error("invalid policy value `{key}`: {reason}")]
    Invalid {
        /// The key at fault, e.g. `paths.deny[2]`.
        key: String,
        /// Why.
        reason: String,
    },
}

impl Policy {
    /// Loads and validates the policy at `path` after checking that neither the file nor
    /// its directory is writable by group or others, and that both belong to this user (or
    /// root).
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        check_private(path)?;
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_owned(),
            source,
        })?;
        let policy: Policy = toml::from_str(&text).map_err(|source| PolicyError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })?;
        policy.validate()
    }

    /// Checks every value; returns the policy, or the first bad key.
    pub fn validate(self) -> Result<Self, PolicyError> {
        let invalid = |key: String, reason: String| PolicyError::Invalid { key, reason };
        // A pattern compiles the same whatever the home; `/` keeps the check offline.
        let home = Path::new("/");
        let lists = [
            ("paths.deny", &self.paths.deny),
            ("paths.deny_write", &self.paths.deny_write),
            ("paths.canary", &self.paths.canary),
        ];
        for (key, list) in lists {
            for (i, source) in list.iter().enumerate() {
                PathPattern::new(source, home)
                    .map_err(|err| invalid(format!("{key}[{i}]"), err.to_string()))?;
            }
        }
        let roots = [
            ("paths.read_roots", &self.paths.read_roots),
            ("paths.write_roots", &self.paths.write_roots),
        ];
        for (key, list) in roots {
            for (i, root) in list.iter().enumerate() {
                if !(root.starts_with('/') || root == "~" || root.starts_with("~/")) {
                    return Err(invalid(
                        format!("{key}[{i}]"),
                        "must be an absolute path or start with ~/".into(),
                    ));
                }
            }
        }
        let rules = [
            ("commands.allow", &self.commands.allow),
            ("commands.deny", &self.commands.deny),
        ];
        for (key, list) in rules {
            for (i, rule) in list.iter().enumerate() {
                if rule.program.is_empty() {
                    return Err(invalid(format!("{key}[{i}].program"), "is empty".into()));
                }
                for pattern in rule.args.iter().chain(&rule.options) {
                    glob::Pattern::new(pattern)
                        .map_err(|err| invalid(format!("{key}[{i}]"), err.to_string()))?;
                }
            }
        }
        if self.limits.max_command_bytes == 0 {
            return Err(invalid(
                "limits.max_command_bytes".into(),
                "must be > 0".into(),
            ));
        }
        if self.approvals.ttl_secs == 0 {
            return Err(invalid("approvals.ttl_secs".into(), "must be > 0".into()));
        }
        Ok(self)
    }
}

/// Refuses a file, or its directory, that group or others may write, or that belongs to
/// someone other than this user or root. Symlinks are followed: the target is what is read.
pub fn check_private(path: &Path) -> Result<(), PolicyError> {
    let read_err = |source| PolicyError::Read {
        path: path.to_owned(),
        source,
    };
    let real = std::fs::canonicalize(path).map_err(read_err)?;
    let mut targets = vec![
        real.clone(),
        real.parent().unwrap_or(Path::new("/")).to_owned(),
    ];
    // When the policy is a symlink, whoever can write the link's directory can swap it.
    if let Some(link_dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let link_dir = std::fs::canonicalize(link_dir).map_err(read_err)?;
        if !targets.contains(&link_dir) {
            targets.push(link_dir);
        }
    }
    let me = nix::unistd::geteuid().as_raw();
    for target in targets {
        let meta = std::fs::metadata(&target).map_err(read_err)?;
        let problem = if meta.mode() & 0o022 != 0 {
            Some("writable by group or others".to_owned())
        } else if meta.uid() != me && meta.uid() != 0 {
            Some(format!("owned by uid {}, not by you", meta.uid()))
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(PolicyError::Insecure {
                path: target,
                problem,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
