//! The pure derivation: (policy, task, verdict) → [`SandboxSpec`]. No file system access:
//! `~` is expanded, nothing is resolved (the applier does that when it builds the rules).
//!
//! - An `allow`ed command sees the system trees, `commands.path`, `sandbox.read`, the read
//!   roots (read) and the write roots (read + write); the network only if its allow rule
//!   says `network = true`.
//! - An approved command gets `[sandbox.approved]` on top (by default the home directory,
//!   read + write, and the network).
//! - Claude gets its profile by its verdict, plus its own state (`claude.state`) and the
//!   network (`claude.network`).
//! - Every profile hides the worker's own files, the deny lists and the canaries, and never
//!   lets the deny-write lists be written. Denied tasks and file tasks get no spec: nothing
//!   runs for them, or the worker does the I/O itself at the checked path.

use std::path::{Path, PathBuf};

use openclaw_shared::{TaskId, TaskSpec};

use super::{Access, Profile, SandboxSpec, Tree};
use crate::policy::defaults;
use crate::policy::file::SandboxMode;
use crate::policy::{paths, Decision, Exec, Policy, Verdict};

/// The worker-side facts a derivation needs besides the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxEnv {
    /// The worker user's home (`~`).
    pub home: PathBuf,
    /// The program search path (`Policy::search_path`): runnable in every profile.
    pub search: Vec<PathBuf>,
    /// Where per-task temp dirs are made (the worker's own temp dir).
    pub tmp_base: PathBuf,
    /// The directory the Claude CLI is installed in, resolved at start (runnable for
    /// Claude tasks).
    pub claude_dir: Option<PathBuf>,
    /// The directories the configured agent CLIs are installed in, by agent name, resolved
    /// at start (runnable for that agent's tasks).
    pub agent_dirs: std::collections::BTreeMap<String, PathBuf>,
    /// Which system trees a program needs.
    pub platform: Platform,
}

/// The operating systems whose system trees differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Linux (glibc or musl layouts).
    Linux,
    /// macOS.
    MacOs,
}

impl Platform {
    /// The platform this worker was built for.
    pub const CURRENT: Platform = if cfg!(target_os = "macos") {
        Platform::MacOs
    } else {
        Platform::Linux
    };
}

/// Linux: programs, libraries and the loader (run), configuration and kernel views (read).
const LINUX_RUN: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
];
const LINUX_READ: &[&str] = &["/etc", "/proc", "/sys"];
/// Linux: what name resolution reads when the network is on (`/etc/resolv.conf` is often a
/// link into it).
const LINUX_NETWORK_READ: &[&str] = &["/run/systemd/resolve"];

/// macOS: programs, libraries and frameworks (run); configuration, time zones and system
/// preferences (read).
///
/// - `/System/Library`, not all of `/System`: `/System/Volumes/Data` is the whole data
///   volume (every home directory) under another name.
/// - The dyld shared cache and the OS cryptex (macOS 13+) live under
///   `/System/Volumes/Preboot/Cryptexes/OS` (`/System/Cryptexes/OS` links there).
/// - `/usr/bin/git`, `make`, `clang`, `python3` are shims that run the real tool from the
///   selected developer directory: `xcode_select_link` resolves to it (Command Line Tools
///   or Xcode) when the sandbox applier resolves the spec's paths.
/// - `/private/var/db/oah`: Rosetta's translations, for x86_64 programs on Apple silicon.
/// - Homebrew's `bin` holds links into `Cellar` and `opt`; its programs load libraries
///   from `lib` and `Frameworks` and read certificates and data from `etc` and `share`.
///   Not `var`: that is where its services keep their data.
/// - `/private/var/select`: `/bin/sh` reads which shell to be from there.
const MACOS_RUN: &[&str] = &[
    "/usr",
    "/bin",
    "/sbin",
    "/System/Library",
    "/System/Cryptexes/OS",
    "/System/Volumes/Preboot/Cryptexes/OS",
    "/Library/Apple",
    "/Library/Developer/CommandLineTools",
    "/private/var/db/xcode_select_link",
    "/private/var/db/oah",
    "/opt/homebrew/Cellar",
    "/opt/homebrew/opt",
    "/opt/homebrew/lib",
    "/opt/homebrew/Frameworks",
];
const MACOS_READ: &[&str] = &[
    "/private/etc",
    "/private/var/db/timezone",
    "/private/var/select",
    "/Library/Preferences",
    "/opt/homebrew/etc",
    "/opt/homebrew/share",
];
const MACOS_NETWORK_READ: &[&str] = &["/private/var/run/resolv.conf"];
/// macOS: a program's own open files by number (`/dev/stdin` links to `/dev/fd/0`; shells
/// use `/dev/fd/N` for process substitution).
const MACOS_DEVICES_READ_WRITE: &[&str] = &["/dev/fd"];

/// Devices every program may use: the bit bucket and randomness (never a terminal).
const DEVICES_READ_WRITE: &[&str] = &["/dev/null", "/dev/full"];
const DEVICES_READ: &[&str] = &["/dev/zero", "/dev/random", "/dev/urandom"];

/// The system trees for `platform`, plus name resolution when `network` is on.
pub fn system_trees(platform: Platform, network: bool) -> Vec<Tree> {
    let (run, read, network_read) = match platform {
        Platform::Linux => (LINUX_RUN, LINUX_READ, LINUX_NETWORK_READ),
        Platform::MacOs => (MACOS_RUN, MACOS_READ, MACOS_NETWORK_READ),
    };
    let tree = |access: Access| {
        move |path: &&str| Tree {
            path: PathBuf::from(path),
            access,
        }
    };
    let mut trees: Vec<Tree> = run.iter().map(tree(Access::ReadExec)).collect();
    trees.extend(read.iter().map(tree(Access::Read)));
    if network {
        trees.extend(network_read.iter().map(tree(Access::Read)));
    }
    trees.extend(DEVICES_READ_WRITE.iter().map(tree(Access::ReadWrite)));
    if platform == Platform::MacOs {
        trees.extend(MACOS_DEVICES_READ_WRITE.iter().map(tree(Access::ReadWrite)));
    }
    trees.extend(DEVICES_READ.iter().map(tree(Access::Read)));
    trees
}

/// The per-task temp dir under `base`.
pub fn task_tmpdir(base: &Path, task_id: TaskId) -> PathBuf {
    base.join(format!("openclaw-task-{task_id}"))
}

/// The sandbox `task` runs in, or `None` when it runs no process (file tasks, denied
/// tasks), when the sandbox is off, or when its allow rule says `sandbox = false` (such a
/// task only ever runs after approval).
pub fn derive(
    policy: &Policy,
    task: &TaskSpec,
    decision: &Decision,
    task_id: TaskId,
    env: &SandboxEnv,
) -> Option<SandboxSpec> {
    // An agent CLI (Claude or a configured one): its network, its own files, its install
    // directory. `None` for a command.
    let agent: Option<(bool, &[String], Option<&PathBuf>)> = match task {
        TaskSpec::Command { .. } => None,
        TaskSpec::Claude { .. } => Some((
            policy.claude.network,
            &policy.claude.state,
            env.claude_dir.as_ref(),
        )),
        TaskSpec::Agent { agent, .. } => {
            // An agent the worker does not have was denied before this; nothing to confine.
            let rules = policy.agents.get(agent)?;
            Some((rules.network, &rules.state, env.agent_dirs.get(agent)))
        }
        TaskSpec::FileRead { .. } | TaskSpec::FileWrite { .. } | TaskSpec::FileEdit { .. } => {
            return None
        }
    };
    if policy.sandbox.mode == SandboxMode::Off || decision.verdict == Verdict::Deny {
        return None;
    }
    let rule = decision
        .allow_rule
        .and_then(|i| policy.commands.allow.get(i));
    if agent.is_none() && rule.is_some_and(|r| !r.sandbox) {
        return None;
    }
    let profile = if decision.verdict == Verdict::Allow {
        Profile::Allowed
    } else {
        Profile::Approved
    };
    let network = if let Some((network, _, _)) = agent {
        network
    } else {
        match profile {
            Profile::Allowed => rule.is_some_and(|r| r.network),
            Profile::Approved => policy.sandbox.approved.network,
        }
    };
    let home = env.home.as_path();
    let expand = |raw: &String| paths::absolute(raw, home, home).ok();
    let tree = |access: Access| move |path: PathBuf| Tree { path, access };

    let mut trees = system_trees(env.platform, network);
    // The program the policy checked may run, wherever it is (an allow rule may name a
    // script by its path); nothing else in its directory comes with it.
    if let Some(Exec::Direct { program, .. }) = &decision.plan.exec {
        trees.push(Tree {
            path: program.clone(),
            access: Access::ReadExec,
        });
    }
    trees.extend(env.search.iter().cloned().map(tree(Access::ReadExec)));
    trees.extend(
        policy
            .sandbox
            .read
            .iter()
            .filter_map(expand)
            .map(tree(Access::ReadExec)),
    );
    let roots = &policy.paths;
    trees.extend(
        roots
            .read_roots
            .iter()
            .filter_map(expand)
            .map(tree(Access::Read)),
    );
    trees.extend(
        roots
            .write_roots
            .iter()
            .filter_map(expand)
            .map(tree(Access::ReadWrite)),
    );
    if profile == Profile::Approved {
        let approved = &policy.sandbox.approved;
        trees.extend(
            approved
                .read
                .iter()
                .filter_map(expand)
                .map(tree(Access::ReadExec)),
        );
        trees.extend(
            approved
                .write
                .iter()
                .filter_map(expand)
                .map(tree(Access::Full)),
        );
    }
    let agent_state: Vec<PathBuf> = agent
        .map(|(_, state, _)| state.iter().filter_map(expand).collect())
        .unwrap_or_default();
    trees.extend(agent_state.iter().cloned().map(tree(Access::ReadWrite)));
    if let Some((_, _, Some(dir))) = agent {
        trees.push(Tree {
            path: dir.clone(),
            access: Access::ReadExec,
        });
    }
    let tmpdir = task_tmpdir(&env.tmp_base, task_id);
    trees.push(Tree {
        path: tmpdir.clone(),
        access: Access::ReadWrite,
    });
    dedup(&mut trees);

    let hidden_sources = defaults::DENY_PATHS
        .iter()
        .map(|s| (*s).to_owned())
        .chain(roots.deny.iter().cloned())
        .chain(roots.canary.iter().cloned());
    let (mut hidden, hidden_patterns) = split_patterns(hidden_sources, home);
    // An agent's own login and settings are its to read, whatever the lists say of them for
    // other tasks.
    hidden.retain(|path| !agent_state.iter().any(|state| path.starts_with(state)));
    hidden.extend(policy.protected.iter().map(|p| paths::fold(p)));
    let read_only_sources = defaults::DENY_WRITE_PATHS
        .iter()
        .map(|s| (*s).to_owned())
        .chain(roots.deny_write.iter().cloned());
    let (read_only, read_only_patterns) = split_patterns(read_only_sources, home);

    Some(SandboxSpec {
        profile,
        trees,
        hidden,
        hidden_patterns,
        read_only,
        read_only_patterns,
        network,
        tmpdir,
    })
}

/// Keeps the first occurrence of each (path, access) pair, in order.
fn dedup(trees: &mut Vec<Tree>) {
    let mut seen = Vec::new();
    trees.retain(|t| {
        let key = (t.path.clone(), t.access);
        let fresh = !seen.contains(&key);
        if fresh {
            seen.push(key);
        }
        fresh
    });
}

/// Splits policy path sources into literal paths (`~` expanded, folded) and glob patterns
/// (`~` expanded; a relative pattern such as `**/.env` matches at any depth).
fn split_patterns(
    sources: impl Iterator<Item = String>,
    home: &Path,
) -> (Vec<PathBuf>, Vec<String>) {
    let mut literal = Vec::new();
    let mut patterns = Vec::new();
    for source in sources {
        let expanded = paths::expand_pattern(&source, home);
        if paths::is_glob(&source) {
            patterns.push(expanded);
        } else {
            literal.push(paths::fold(Path::new(&expanded)));
        }
    }
    (literal, patterns)
}

/// Raises `allow` to `approve` for a task that would run a process where it cannot be
/// confined (the sandbox is off, or this kernel offers none): without the kernel, nothing
/// runs on the policy's word alone. `why` says what is missing.
pub fn fail_closed(decision: &mut Decision, task: &TaskSpec, why: &str) {
    let runs_a_process = matches!(
        task,
        TaskSpec::Command { .. } | TaskSpec::Claude { .. } | TaskSpec::Agent { .. }
    );
    if runs_a_process && decision.verdict == Verdict::Allow {
        decision.verdict = Verdict::Approve;
        decision.rule = "sandbox.unavailable".to_owned();
        decision.reason = format!(
            "{}, but no kernel sandbox can confine it ({why}): it needs approval",
            decision.reason
        );
    }
}

#[cfg(test)]
mod tests;
