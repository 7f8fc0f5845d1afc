//! Linux: Landlock and seccomp. (Being built: see the sandbox issue.)

use super::{SandboxError, SandboxSpec, SandboxStatus, SpawnError};

/// Probes the kernel's Landlock support.
pub fn probe() -> SandboxStatus {
    SandboxStatus::Unavailable("the Landlock applier is not built yet".to_owned())
}

/// Spawns `cmd` confined by `spec`.
pub fn spawn(
    _cmd: &mut tokio::process::Command,
    _spec: &SandboxSpec,
) -> Result<tokio::process::Child, SpawnError> {
    Err(SpawnError::Sandbox(SandboxError::Unavailable(
        "the Landlock applier is not built yet".to_owned(),
    )))
}
