//! macOS: a Seatbelt profile rendered from the spec. (Being built: see the sandbox issue.)

use super::SandboxSpec;

/// The Seatbelt profile for `spec`.
pub fn render(_spec: &SandboxSpec) -> String {
    String::new()
}

/// Probes `sandbox-exec`.
#[cfg(target_os = "macos")]
pub fn probe() -> super::SandboxStatus {
    super::SandboxStatus::Unavailable("the Seatbelt applier is not built yet".to_owned())
}

/// `sandbox-exec -p <profile> -- program args…`.
#[cfg(target_os = "macos")]
pub fn command(
    _spec: &SandboxSpec,
    _program: &std::path::Path,
    _args: &[impl AsRef<std::ffi::OsStr>],
) -> Result<tokio::process::Command, super::SandboxError> {
    Err(super::SandboxError::Unavailable(
        "the Seatbelt applier is not built yet".to_owned(),
    ))
}
