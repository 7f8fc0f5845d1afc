//! Executable scripts for a test's tasks to run (stand-ins for Claude, gates, probes).

use std::path::Path;

/// Writes an executable script. The file is written by a child shell, so no descriptor
/// to it ever exists in this (multi-threaded, forking) test process, which would make
/// exec fail with "Text file busy".
pub fn write_script(path: &Path, body: &str) {
    let status = std::process::Command::new("/bin/sh")
        .args([
            "-c",
            "printf '%s' \"$1\" > \"$2\" && chmod 755 \"$2\"",
            "sh",
        ])
        .arg(body)
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}
