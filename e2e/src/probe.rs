//! Finding a task's processes in the process table, to show a kill reached them.

/// A `sleep` duration no other process on the machine uses, so `pgrep -f` finds only ours.
pub fn unique_sleep() -> String {
    format!("31.{}{:06}", std::process::id(), fastrand::u32(..1_000_000))
}

/// Whether any live process has `marker` in its command line.
pub fn process_running(marker: &str) -> bool {
    let status = std::process::Command::new("pgrep")
        .args(["-f", marker])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("pgrep must be installed for these tests");
    status.success()
}
