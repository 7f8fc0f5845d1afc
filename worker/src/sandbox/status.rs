//! What this machine offers, probed once at start. Without a sandbox the worker fails
//! closed: every command or Claude task the policy would allow needs approval instead, and
//! the worker says so at start, to the bot (shown in `/admin/health`) and in `doctor`.

use std::fmt;

use openclaw_shared::worker::{SandboxReport, MAX_SANDBOX_DETAIL_LEN};

/// The sandbox this worker applies to every task it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SandboxStatus {
    /// Linux Landlock (and seccomp for the network), with the kernel's ABI version.
    Landlock {
        /// The Landlock ABI the kernel offers (1 = file system only; 4 adds TCP; 6 adds
        /// signal and abstract-socket scoping).
        abi: u32,
    },
    /// macOS Seatbelt, through `/usr/bin/sandbox-exec`.
    Seatbelt,
    /// Turned off in the policy (`sandbox.mode = "off"`).
    Off,
    /// Not available here, and why.
    Unavailable(String),
}

impl SandboxStatus {
    /// Whether tasks can be confined.
    pub fn enforced(&self) -> bool {
        matches!(
            self,
            SandboxStatus::Landlock { .. } | SandboxStatus::Seatbelt
        )
    }

    /// What is missing, when tasks cannot be confined (for the fail-closed reason).
    pub fn missing(&self) -> Option<String> {
        match self {
            SandboxStatus::Landlock { .. } | SandboxStatus::Seatbelt => None,
            SandboxStatus::Off => Some("sandbox.mode is off in the policy".to_owned()),
            SandboxStatus::Unavailable(why) => Some(why.clone()),
        }
    }

    /// Probes this machine, unless the policy turned the sandbox off.
    pub fn probe(mode_off: bool) -> Self {
        if mode_off {
            return SandboxStatus::Off;
        }
        probe_platform()
    }
}

impl SandboxStatus {
    /// What the worker tells the server: whether tasks are confined, and this status in
    /// words (control characters dropped, cut to what the server accepts).
    pub fn report(&self) -> SandboxReport {
        let mut detail: String = self
            .to_string()
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        if detail.len() > MAX_SANDBOX_DETAIL_LEN {
            let mut end = MAX_SANDBOX_DETAIL_LEN;
            while !detail.is_char_boundary(end) {
                end -= 1;
            }
            detail.truncate(end);
        }
        SandboxReport {
            enforced: self.enforced(),
            detail,
        }
    }
}

impl fmt::Display for SandboxStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SandboxStatus::Landlock { abi } => write!(f, "landlock (ABI {abi}) + seccomp"),
            SandboxStatus::Seatbelt => f.write_str("seatbelt (sandbox-exec)"),
            SandboxStatus::Off => f.write_str("off (sandbox.mode = \"off\")"),
            SandboxStatus::Unavailable(why) => write!(f, "unavailable: {why}"),
        }
    }
}

#[cfg(target_os = "linux")]
fn probe_platform() -> SandboxStatus {
    super::linux::probe()
}

#[cfg(target_os = "macos")]
fn probe_platform() -> SandboxStatus {
    super::seatbelt::probe()
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn probe_platform() -> SandboxStatus {
    SandboxStatus::Unavailable("no sandbox for this operating system".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_fits_what_the_server_accepts() {
        let long = SandboxStatus::Unavailable(format!("{}\nline", "é".repeat(200)));

        let report = long.report();

        assert!(report.is_valid(), "{report:?}");
        assert!(!report.enforced);
        assert!(SandboxStatus::Landlock { abi: 7 }.report().enforced);
    }
}
