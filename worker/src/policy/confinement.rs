//! What a confined task may touch: the [`SandboxSpec`] a decision's plan carries, derived
//! from the policy by [`crate::sandbox::derive`] and enforced by the kernel. Data only, so
//! that the policy can hold it without depending on the sandbox that applies it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What a confined task's processes may do. Paths are absolute with `~` expanded but not
/// resolved: the applier resolves them (symlinks, `/tmp` → `/private/tmp`) when it builds
/// the kernel's rules, so the rules name what is on disk at that moment.
///
/// Serializable: a task's supervisor receives it in its job file and applies it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxSpec {
    /// Which profile this is (shown to the owner, recorded in the result).
    pub profile: Profile,
    /// Everything the processes may touch at all, each with what they may do there. A
    /// path not below one of these does not exist as far as the task can tell.
    pub trees: Vec<Tree>,
    /// Never read, written or run, even below a tree: the worker's own files, the deny
    /// lists, canaries.
    pub hidden: Vec<PathBuf>,
    /// Glob patterns (absolute, `~` expanded) hidden as well. Seatbelt matches them;
    /// Landlock cannot express a pattern, so on Linux only the policy's parse layer
    /// enforces these (the README says so).
    pub hidden_patterns: Vec<String>,
    /// Never written, even below a writable tree: shell startup files, launch agents, git
    /// config and hooks.
    pub read_only: Vec<PathBuf>,
    /// Glob patterns never written (Seatbelt only, as [`SandboxSpec::hidden_patterns`]).
    pub read_only_patterns: Vec<String>,
    /// Whether the processes may use the network (any socket but a socketpair).
    pub network: bool,
    /// The task's own temporary directory (its `TMPDIR`), created empty before the task
    /// and removed after it; also a writable tree.
    pub tmpdir: PathBuf,
}

/// The profiles a task can run in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Profile {
    /// A task the policy allowed without asking: read roots, write roots, system files.
    Allowed,
    /// A task the owner approved: `[sandbox.approved]` (by default the home directory).
    Approved,
}

impl Profile {
    /// The name shown to the owner and in results.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Allowed => "allowed",
            Profile::Approved => "approved",
        }
    }
}

/// One tree (or single file) and what the task may do below it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tree {
    /// A directory (everything below it) or a file.
    pub path: PathBuf,
    /// What the task may do there.
    pub access: Access,
}

/// What a task may do below a tree. Reading includes listing directories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Access {
    /// Read files, list directories.
    Read,
    /// Read, and run programs from it.
    ReadExec,
    /// Read, create, change and remove files and directories; run nothing from it.
    ReadWrite,
    /// Read, write and run programs.
    Full,
}

impl Access {
    /// Whether this access lets the task write.
    pub fn writes(self) -> bool {
        matches!(self, Access::ReadWrite | Access::Full)
    }

    /// Whether this access lets the task run programs.
    pub fn runs(self) -> bool {
        matches!(self, Access::ReadExec | Access::Full)
    }
}

impl SandboxSpec {
    /// One line for the owner: profile, what is writable, network.
    pub fn summary(&self) -> String {
        let writable: Vec<String> = self
            .trees
            .iter()
            .filter(|t| t.access.writes() && t.path != self.tmpdir && !is_device(&t.path))
            .map(|t| t.path.display().to_string())
            .collect();
        let writes = if writable.is_empty() {
            "writes nothing outside its temp dir".to_owned()
        } else {
            format!("writes only {}", writable.join(", "))
        };
        let network = if self.network {
            "network on"
        } else {
            "no network"
        };
        format!("sandbox `{}`: {writes}; {network}", self.profile.as_str())
    }
}

/// Whether `path` is one of the device files every sandbox grants.
fn is_device(path: &Path) -> bool {
    path.starts_with("/dev")
}
