//! Linux: Landlock and seccomp, applied on a fresh thread that then starts the child.
//!
//! Landlock's `restrict_self` and a seccomp filter restrict only the calling thread, and a
//! process started from a thread inherits that thread's Landlock domain, no_new_privs and
//! filter before its first instruction. So [`spawn`] starts a new OS thread (never one of
//! the runtime's pools, whose threads are reused), restricts it, starts the child from it
//! and lets it end: the worker's own threads stay unrestricted. No `unsafe`, no `pre_exec`.
//!
//! The rules are planned on the calling thread first: every tree and excluded path is
//! opened and located ([`resolve`]), trees with hidden or read-only paths below them are
//! carved ([`carve`]), and the opened descriptors become the ruleset ([`landlock`]).
//! [`seccomp`] adds what Landlock cannot see.
//!
//! `hidden_patterns` and `read_only_patterns` are not applied here: Landlock cannot
//! express a glob, so on Linux the policy's parse layer alone enforces them.
//!
//! Never combine this with `PR_SET_PDEATHSIG` in the child: the "parent" it watches is the
//! short-lived thread, which ends right after the spawn.

mod carve;
mod landlock;
mod resolve;
mod seccomp;

use std::path::PathBuf;

use super::{SandboxError, SandboxSpec, SandboxStatus, SpawnError};
use carve::{Excluded, Exclusion, Grant};

/// Probes the kernel by confining a throwaway thread with an empty ruleset and the
/// network filter: `Landlock { abi }` if both took, otherwise why not.
pub fn probe() -> SandboxStatus {
    let confined = std::thread::Builder::new()
        .name("sandbox-probe".to_owned())
        .spawn(|| {
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
        Ok(Ok(abi)) => SandboxStatus::Landlock {
            abi: u32::try_from(abi).unwrap_or(0),
        },
        Ok(Err(err)) => SandboxStatus::Unavailable(err.to_string()),
        Err(why) => SandboxStatus::Unavailable(why),
    }
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
    let filter = seccomp::filter(spec.network)?;
    std::thread::scope(|scope| {
        let thread = std::thread::Builder::new()
            .name("sandbox-spawn".to_owned())
            .spawn_scoped(scope, || {
                landlock::restrict_current_thread(&grants, spec.network)?;
                seccomp::apply_to_current_thread(filter)?;
                let _runtime = runtime.enter();
                cmd.spawn().map_err(SpawnError::Spawn)
            })
            .map_err(|err| {
                SandboxError::Apply(format!("cannot start the sandbox thread: {err}"))
            })?;
        thread.join().map_err(|_| {
            SpawnError::Sandbox(SandboxError::Apply(
                "the sandbox thread panicked".to_owned(),
            ))
        })?
    })
}

/// The rules for `spec`: the excluded paths located, the trees opened and carved.
fn plan(spec: &SandboxSpec) -> Result<Vec<Grant>, SandboxError> {
    let mut locator = resolve::Locator::default();
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
        let located = locator
            .locate(path)
            .map_err(|err| cannot("locate", path, &err))?;
        excluded.push(Excluded { exclusion, located });
    }
    // The task's own temp dir is new every time: caching it would only fill the cache.
    let open = |path: &std::path::Path| {
        if path == spec.tmpdir {
            resolve::open_tree(path)
        } else {
            resolve::open_tree_cached(path)
        }
    };
    carve::plan(&spec.trees, &excluded, open)
        .map_err(|err| SandboxError::Apply(format!("cannot plan the sandbox rules: {err}")))
}

fn cannot(what: &str, path: &PathBuf, err: &std::io::Error) -> SandboxError {
    SandboxError::Apply(format!("cannot {what} {}: {err}", path.display()))
}

#[cfg(test)]
mod tests;
