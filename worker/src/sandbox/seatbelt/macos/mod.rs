//! Running a task under `sandbox-exec`, and checking at start that it confines. macOS only;
//! NOT yet run on a Mac by our tests (they run on Linux): type-checked for
//! `aarch64-apple-darwin` only.

use std::ffi::OsStr;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{render, resolve};
use crate::sandbox::spec::{system_trees, Platform};
use crate::sandbox::{Access, Profile, SandboxError, SandboxSpec, SandboxStatus, Tree};

/// Apple's sandbox launcher: applies a profile to itself, then executes the program.
const SANDBOX_EXEC: &str = "/usr/bin/sandbox-exec";

/// How long one probe run may take before the probe gives up on Seatbelt.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The command that runs `program` with `args` confined by `spec`:
/// `sandbox-exec -p <profile> -- program args…`. The spec's paths are resolved on disk
/// first (`/tmp` → `/private/tmp`, symlinks), because Seatbelt matches real paths. The
/// program sees its own path as `argv[0]`. Fails only when `sandbox-exec` is missing.
pub fn command(
    spec: &SandboxSpec,
    program: &Path,
    args: &[impl AsRef<OsStr>],
) -> Result<tokio::process::Command, SandboxError> {
    if !Path::new(SANDBOX_EXEC).is_file() {
        return Err(SandboxError::Unavailable(format!(
            "{SANDBOX_EXEC} is missing"
        )));
    }
    let profile = render(&resolve(spec));
    tracing::debug!(
        profile = spec.profile.as_str(),
        bytes = profile.len(),
        "seatbelt profile rendered"
    );
    let mut cmd = tokio::process::Command::new(SANDBOX_EXEC);
    cmd.arg("-p").arg(profile).arg("--").arg(program).args(args);
    Ok(cmd)
}

/// Checks that `sandbox-exec` exists and really confines: a profile rendered exactly as a
/// task's would be (so an operation this macOS does not know fails here, not in a task)
/// must let `/bin/cat` read an allowed file and stop it reading a hidden one, and the
/// networked variant must start `/usr/bin/true`.
pub fn probe() -> SandboxStatus {
    match run_probe() {
        Ok(()) => SandboxStatus::Seatbelt,
        Err(why) => {
            tracing::warn!(reason = %why, "seatbelt is not usable");
            SandboxStatus::Unavailable(why)
        }
    }
}

fn run_probe() -> Result<(), String> {
    if !Path::new(SANDBOX_EXEC).is_file() {
        return Err(format!("{SANDBOX_EXEC} is missing"));
    }
    let dir = std::env::temp_dir().join(format!(
        "openclaw-seatbelt-probe-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let result = probe_in(&dir);
    if let Err(err) = std::fs::remove_dir_all(&dir) {
        tracing::debug!(dir = %dir.display(), error = %err, "cannot remove the probe dir");
    }
    result
}

fn probe_in(dir: &Path) -> Result<(), String> {
    let allowed = dir.join("allowed");
    let hidden = dir.join("hidden");
    for file in [&allowed, &hidden] {
        std::fs::write(file, "probe")
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    let spec = probe_spec(dir, &allowed, &hidden, false);
    let cat = |file: &Path| run(&spec, Path::new("/bin/cat"), &[file.as_os_str()]);
    let read = cat(&allowed)?;
    if !read.ok || read.stdout != "probe" {
        return Err(format!(
            "sandbox-exec did not run an allowed read: {}",
            read.stderr.trim()
        ));
    }
    if cat(&hidden)?.ok {
        return Err("sandbox-exec let a hidden file be read: it does not confine".to_owned());
    }
    let networked = probe_spec(dir, &allowed, &hidden, true);
    let started = run(&networked, Path::new("/usr/bin/true"), &[] as &[&OsStr])?;
    if !started.ok {
        return Err(format!(
            "the networked profile does not start /usr/bin/true: {}",
            started.stderr.trim()
        ));
    }
    Ok(())
}

/// How a probe run ended.
struct Ran {
    /// Whether it exited 0.
    ok: bool,
    /// Its standard output.
    stdout: String,
    /// Its standard error: `sandbox-exec` says there why a profile does not compile.
    stderr: String,
}

/// A spec shaped like a task's: the system trees, one readable file, one hidden file.
fn probe_spec(dir: &Path, allowed: &Path, hidden: &Path, network: bool) -> SandboxSpec {
    let mut trees = system_trees(Platform::MacOs, network);
    trees.push(Tree {
        path: allowed.to_path_buf(),
        access: Access::Read,
    });
    SandboxSpec {
        profile: Profile::Allowed,
        trees,
        hidden: vec![hidden.to_path_buf()],
        hidden_patterns: vec!["/**/.env".to_owned()],
        read_only: vec![PathBuf::from(dir)],
        read_only_patterns: vec!["/**/.git/hooks".to_owned()],
        network,
        tmpdir: dir.join("tmp"),
    }
}

/// Runs `program` confined by `spec`.
fn run(spec: &SandboxSpec, program: &Path, args: &[&OsStr]) -> Result<Ran, String> {
    let profile = render(&resolve(spec));
    let mut child = Command::new(SANDBOX_EXEC)
        .arg("-p")
        .arg(profile)
        .arg("--")
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {SANDBOX_EXEC}: {e}"))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < PROBE_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{SANDBOX_EXEC} did not finish in {PROBE_TIMEOUT:?}"
                ));
            }
            Err(e) => return Err(format!("cannot wait for {SANDBOX_EXEC}: {e}")),
        }
    };
    // The probe programs print a few bytes; a pipe cannot fill before they exit.
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        let _ = pipe.read_to_string(&mut stdout);
    }
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    Ok(Ran {
        ok: status.success(),
        stdout,
        stderr,
    })
}

#[cfg(test)]
mod tests;
