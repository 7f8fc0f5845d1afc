//! Capabilities: a worker started with privileges (root, as in a container) must not pass
//! them to a task. Landlock governs files, TCP, signals and abstract sockets, not what
//! capabilities allow: reading another process's environment and memory maps through
//! `/proc`, making device files (the raw disk, below a write root), loading kernel
//! modules, setting the clock, rebooting. A confined child started by root would get them
//! all back on `exec`. So the spawning thread empties its bounding set (an `exec` as uid 0
//! then grants nothing) and its ambient, inheritable, permitted and effective sets before
//! it is confined; `no_new_privs`, which Landlock and seccomp set, keeps file capabilities
//! and set-user-ID programs from handing any back. A worker without privileges has nothing
//! to drop but the ambient and inheritable sets, which anyone may clear.

use std::sync::OnceLock;

use caps::{CapSet, Capability};

use crate::sandbox::SandboxError;

/// The kernel's highest capability number.
const CAP_LAST_CAP: &str = "/proc/sys/kernel/cap_last_cap";

/// Leaves the calling thread (and every process it starts from now on) without any
/// capability. Fails, and the spawn with it, when one cannot be dropped.
pub fn drop_all() -> Result<(), SandboxError> {
    let privileged =
        caps::has_cap(None, CapSet::Effective, Capability::CAP_SETPCAP).map_err(failed)?;
    if privileged {
        all_known()?;
        caps::clear(None, CapSet::Bounding).map_err(failed)?;
    }
    caps::clear(None, CapSet::Ambient).map_err(failed)?;
    caps::clear(None, CapSet::Inheritable).map_err(failed)?;
    // Clearing the permitted set clears the effective one with it.
    caps::clear(None, CapSet::Permitted).map_err(failed)
}

fn failed(err: caps::errors::CapsError) -> SandboxError {
    SandboxError::Apply(format!("cannot drop the worker's capabilities: {err}"))
}

/// Whether every capability this kernel has is one the worker knows how to drop (a newer
/// kernel's would stay in the bounding set). Read once.
fn all_known() -> Result<(), SandboxError> {
    static CHECKED: OnceLock<Result<(), String>> = OnceLock::new();
    let checked = CHECKED.get_or_init(|| {
        let text = std::fs::read_to_string(CAP_LAST_CAP)
            .map_err(|err| format!("cannot read {CAP_LAST_CAP}: {err}"))?;
        let last: u8 = text
            .trim()
            .parse()
            .map_err(|_| format!("{CAP_LAST_CAP} holds {text:?}, not a number"))?;
        let known = caps::all().iter().map(Capability::index).max().unwrap_or(0);
        if last > known {
            return Err(format!(
                "this kernel has capabilities up to {last}; the worker can drop only up to \
                 {known}, so a task started by a privileged worker would keep the others"
            ));
        }
        Ok(())
    });
    checked.clone().map_err(SandboxError::Unavailable)
}
