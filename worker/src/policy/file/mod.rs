//! The policy file: TOML on the Mac, loaded only if neither it nor its directory can be
//! changed by anyone but its owner. Nothing the server sends can change it.
//!
//! # Layout
//! - this file: the whole [`Policy`], loading, validation and the permission check.
//! - `sections.rs`: one type per TOML section (`[commands]`, `[paths]`, …) and defaults.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::paths::PathPattern;
use super::Verdict;

mod sections;

pub use super::rules::CommandRule;
pub use sections::{
    AgentPolicy, ApprovalSettings, ApprovedProfile, ClaudePolicy, CommandPolicy, EnvPolicy, Limits,
    PathPolicy, SandboxMode, SandboxPolicy, DEFAULT_APPROVAL_TTL_SECS, DEFAULT_MAX_COMMAND_BYTES,
    DEFAULT_MAX_READ_BYTES, DEFAULT_MAX_WRITE_BYTES,
};

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
    /// The agent CLIs of the worker config (`[agents.<name>]`), by name. Set by the worker
    /// at start, never read from the policy file; an agent not here runs nothing.
    #[serde(skip)]
    pub agents: BTreeMap<String, AgentPolicy>,
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
            agents: BTreeMap::new(),
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
