//! `openclaw-worker doctor`: what this worker would do, checked on this Mac without a
//! server. It opens everything the worker opens at start (refusing what the worker would
//! refuse), prints the sandbox status and what a task can reach in each profile, and runs
//! a live self-test: a confined child tries to read the worker's own secret and write into
//! its state directory, and the kernel must refuse both.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use openclaw_shared::{TaskId, TaskSpec};

use super::Output;
use crate::config::Config;
use crate::files::StateFiles;
use crate::guard::Guard;
use crate::policy::{rules, Decision, Plan, Verdict};
use crate::sandbox::{self, Access, SandboxSpec, TaskTempDir};

/// Runs the checks and returns the report; exit code 1 when tasks cannot be confined or a
/// self-test failed, 2 when the worker would not even start.
pub async fn run(config: &Config) -> Output {
    let guard = match Guard::open(config) {
        Ok(guard) => guard,
        Err(err) => {
            return Output {
                stdout: String::new(),
                stderr: format!("openclaw-worker would not start: {err}\n"),
                code: 2,
            }
        }
    };
    let mut out = String::new();
    let state = StateFiles::new(&config.state_dir);
    let _ = writeln!(
        out,
        "policy     {} (private: ok)",
        config.policy_path.display()
    );
    let _ = writeln!(out, "state      {}", config.state_dir.display());
    let approvals = if guard.approvals_enabled() {
        "TOTP secret set up"
    } else {
        "NOT set up: tasks that need approval are denied (run `openclaw-worker init`)"
    };
    let _ = writeln!(out, "approvals  {approvals}");
    let status = guard.sandbox();
    let confined = if status.enforced() {
        "every command and Claude run is confined"
    } else {
        "NO SANDBOX: every command and Claude task needs approval"
    };
    let _ = writeln!(out, "sandbox    {status} — {confined}");

    let mut healthy = status.enforced();
    if status.enforced() {
        for (verdict, title) in [
            (Verdict::Allow, "an auto-allowed command"),
            (Verdict::Approve, "an approved command"),
        ] {
            if let Some(spec) = example_spec(&guard, verdict) {
                let _ = write!(out, "\n{}", reach(title, &spec, &guard));
            }
        }
        let _ = writeln!(
            out,
            "\nself-test (a confined child, the kernel must refuse):"
        );
        for (what, passed) in self_test(&guard, &state).await {
            healthy &= passed;
            let mark = if passed { "ok    " } else { "FAILED" };
            let _ = writeln!(out, "  {mark} {what}");
        }
    }
    Output {
        stdout: out,
        stderr: String::new(),
        code: if healthy { 0 } else { 1 },
    }
}

/// The spec a command with `verdict` would get (no allow rule: no network for `allow`).
fn example_spec(guard: &Guard, verdict: Verdict) -> Option<SandboxSpec> {
    let decision = Decision {
        verdict,
        rule: "doctor".to_owned(),
        reason: "doctor".to_owned(),
        canary: None,
        allow_rule: None,
        plan: Plan::default(),
    };
    let task = TaskSpec::Command {
        command: "true".to_owned(),
        cwd: None,
    };
    sandbox::derive(
        guard.policy(),
        &task,
        &decision,
        TaskId::new(),
        guard.sandbox_env(),
    )
}

/// What `spec` lets a task reach, grouped by access, with `~` for the home directory.
fn reach(title: &str, spec: &SandboxSpec, guard: &Guard) -> String {
    let home = &guard.sandbox_env().home;
    let show = |path: &Path| match path.strip_prefix(home) {
        Ok(rest) if rest.as_os_str().is_empty() => "~".to_owned(),
        Ok(rest) => format!("~/{}", rest.display()),
        Err(_) => path.display().to_string(),
    };
    let list = |access: &[Access]| -> String {
        let mut paths: Vec<String> = Vec::new();
        for tree in &spec.trees {
            let shown = show(&tree.path);
            if access.contains(&tree.access) && tree.path != spec.tmpdir && !paths.contains(&shown)
            {
                paths.push(shown);
            }
        }
        if paths.is_empty() {
            "(nothing)".to_owned()
        } else {
            paths.join(", ")
        }
    };
    let hidden: Vec<String> = spec.hidden.iter().map(|p| show(p)).collect();
    let read_only: Vec<String> = spec.read_only.iter().map(|p| show(p)).collect();
    let network = if spec.network { "on" } else { "off" };
    format!(
        "{title} (profile `{}`, network {network}):\n  run    {}\n  read   {}\n  write  {}, \
         its own temp dir\n  hidden {}\n  never written {}\n  patterns (enforced by the kernel \
         on macOS only): {}\n",
        spec.profile.as_str(),
        list(&[Access::ReadExec, Access::Full]),
        list(&[Access::Read]),
        list(&[Access::ReadWrite, Access::Full]),
        hidden.join(", "),
        read_only.join(", "),
        spec.hidden_patterns.join(", "),
    )
}

/// Confined children that try to read the worker's secret and write into its state
/// directory. Returns each probe with whether the kernel refused it.
async fn self_test(guard: &Guard, state: &StateFiles) -> Vec<(String, bool)> {
    let Some(spec) = example_spec(guard, Verdict::Approve) else {
        return vec![("derive the approved profile".to_owned(), false)];
    };
    let search = guard.policy().search_path(guard.check_env());
    let secret = if state.totp_secret().exists() {
        state.totp_secret()
    } else {
        state.audit_log()
    };
    let probe = state.dir.join("doctor-probe");
    let mut results = Vec::new();
    let read = format!("read {} (even in the approved profile)", secret.display());
    results.push((read, refused(&spec, &search, "cat", &[secret]).await));
    let write = format!("create {}", probe.display());
    let wrote = refused(&spec, &search, "touch", std::slice::from_ref(&probe)).await;
    results.push((write, wrote && !probe.exists()));
    results
}

/// Whether running `program args` confined by `spec` failed (it must not succeed).
async fn refused(spec: &SandboxSpec, search: &[PathBuf], program: &str, args: &[PathBuf]) -> bool {
    let Some(found) = rules::resolve_program(program, search, Path::new("/")) else {
        return false;
    };
    let Ok(_tmpdir) = TaskTempDir::create(spec) else {
        return false;
    };
    let Ok(mut cmd) = sandbox::command(Some(spec), &found.path, None, args) else {
        return false;
    };
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    match sandbox::spawn(&mut cmd, Some(spec)) {
        Ok(mut child) => child.wait().await.is_ok_and(|status| !status.success()),
        Err(_) => false,
    }
}
