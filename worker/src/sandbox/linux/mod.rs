//! Linux: Landlock and seccomp, applied on a thread of its own that then starts the child.
//!
//! Landlock's `restrict_self` and a seccomp filter restrict only the calling thread, and a
//! process started from a thread inherits that thread's Landlock domain, no_new_privs and
//! filter before its first instruction. So [`spawn`] hands the command to a dedicated OS
//! thread (never one of the runtime's pools, whose threads are reused), which restricts
//! itself, starts the child and ends (`spawner`): the worker's own threads stay
//! unrestricted. No `unsafe`, no `pre_exec`.
//!
//! The rules are planned on the calling thread first: every excluded path and tree is
//! located (`locate`) and opened (`resolve`), trees with hidden or read-only paths
//! below them are carved (`carve`), and the opened descriptors become the ruleset
//! (`landlock`). What planning found is kept for the next spawn while the directories it
//! looked in are unchanged (`cache`). `seccomp` adds what Landlock cannot see, and
//! `privileges` drops every capability a privileged (root) worker would pass on.
//!
//! Not covered here, by design or by the kernel:
//! - `hidden_patterns` and `read_only_patterns`: Landlock cannot express a glob, so on
//!   Linux the policy's parse layer alone enforces them.
//! - File metadata: Landlock (up to ABI 7) does not govern `stat`, `chmod`, `chown`,
//!   `utimes` or extended attributes, so a task can see that a hidden file exists, and
//!   change the mode or times of files the worker's user owns, though never read, write or
//!   truncate them.
//! - Never combine this with `PR_SET_PDEATHSIG` in the child: the "parent" it watches is
//!   the short-lived spawning thread.

mod cache;
mod carve;
mod landlock;
mod locate;
mod privileges;
mod resolve;
mod seccomp;
mod spawner;

use std::path::Path;

use super::{SandboxError, SandboxSpec, SandboxStatus, SpawnError};
use carve::{Excluded, Exclusion, Grant};

/// Probes the kernel by confining a throwaway thread with an empty ruleset and the
/// network filter: `Landlock { abi }` if both took, otherwise why not.
pub fn probe() -> SandboxStatus {
    let confined = std::thread::Builder::new()
        .name("sandbox-probe".to_owned())
        .spawn(|| {
            privileges::drop_all()?;
            let abi = landlock::restrict_current_thread(&[], false)?;
            seccomp::apply_to_current_thread(seccomp::filter(false)?)?;
            // The other filter must compile as well.
            seccomp::filter(true)?;
            Ok::<_, SandboxError>(abi)
        })
        .map_err(|err| format!("cannot start the probe thread: {err}"))
        .and_then(|thread| {
            thread
                .join()
                .map_err(|_| "the probe thread panicked".to_owned())
        });
    match confined {
        // No thread is kept waiting until the first task: a worker that has run nothing
        // holds nothing for the sandbox (about 0.3 MiB less at rest).
        Ok(Ok(abi)) => SandboxStatus::Landlock {
            abi: u32::try_from(abi).unwrap_or(0),
        },
        Ok(Err(err)) => SandboxStatus::Unavailable(err.to_string()),
        Err(why) => SandboxStatus::Unavailable(why),
    }
}

/// Starts the thread the next confined spawn runs on, unless one waits already.
pub fn prepare() {
    spawner::prepare();
}

/// Spawns `cmd` confined by `spec`: its processes can reach only `spec.trees` (minus the
/// hidden and read-only paths), and the network only if `spec.network`.
///
/// Must be called within a tokio runtime (the child is registered with it). Fails, with
/// nothing started, if a path cannot be opened for other reasons than being absent, if the
/// kernel refuses the rules, or if Landlock turns out to be unavailable.
pub fn spawn(
    cmd: &mut tokio::process::Command,
    spec: &SandboxSpec,
) -> Result<tokio::process::Child, SpawnError> {
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|err| SpawnError::Spawn(std::io::Error::other(err)))?;
    let grants = plan(spec)?;
    tracing::debug!(
        profile = spec.profile.as_str(),
        rules = grants.len(),
        network = spec.network,
        "sandbox planned"
    );
    let filter = seccomp::filter(spec.network)?;
    // The command travels to the spawning thread and back; the placeholder is only seen
    // if that thread is lost, and then the spawn has failed.
    let owned = std::mem::replace(cmd, tokio::process::Command::new(""));
    let (returned, spawned) = spawner::run(spawner::Job {
        cmd: owned,
        grants,
        network: spec.network,
        filter,
        runtime,
    })?;
    *cmd = returned;
    spawned
}

/// The rules for `spec`: the excluded paths located, the trees opened and carved.
fn plan(spec: &SandboxSpec) -> Result<Vec<Grant>, SandboxError> {
    let mut cache = cache::PlanCache::checked();
    let mut excluded = Vec::with_capacity(spec.hidden.len() + spec.read_only.len());
    let listed = spec
        .hidden
        .iter()
        .map(|path| (path, Exclusion::Hidden))
        .chain(
            spec.read_only
                .iter()
                .map(|path| (path, Exclusion::ReadOnly)),
        );
    for (path, exclusion) in listed {
        let located = cache
            .locate(path)
            .map_err(|err| cannot("locate", path, &err))?;
        excluded.push(Excluded { exclusion, located });
    }
    // The task's own temp dir is new every time, and its parent changes with every task:
    // it never enters the cache.
    let open = |path: &Path| {
        if path == spec.tmpdir {
            resolve::open_tree(path)
        } else {
            cache.open_tree(path)
        }
    };
    carve::plan(&spec.trees, &excluded, open)
        .map_err(|err| SandboxError::Apply(format!("cannot plan the sandbox rules: {err}")))
}

fn cannot(what: &str, path: &Path, err: &std::io::Error) -> SandboxError {
    SandboxError::Apply(format!("cannot {what} {}: {err}", path.display()))
}

#[cfg(test)]
mod tests;
