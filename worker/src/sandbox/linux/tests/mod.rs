//! Real-kernel tests of the Linux applier: real child processes under real Landlock and
//! seccomp, in a temp dir playing the home directory. Landlock must be there: a machine
//! without it fails these tests rather than skipping them.

use std::fs;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

use super::*;
use crate::sandbox::spec::{system_trees, Platform};
use crate::sandbox::{Access, Profile, Tree};

/// How long one sandboxed test command may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(20);

/// A fake home: `secret/key.txt` (hidden), `.zshrc` (read-only), `read/` (a read root with
/// a link into `secret`), `write/` (a write root), `notes.txt`, and the task's `tmp/`.
struct Home {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        fs::create_dir(root.join("secret")).unwrap();
        fs::write(root.join("secret/key.txt"), "top secret").unwrap();
        fs::write(root.join(".zshrc"), "export A=1\n").unwrap();
        fs::create_dir(root.join("read")).unwrap();
        fs::write(root.join("read/readme.txt"), "readable").unwrap();
        std::os::unix::fs::symlink(root.join("secret"), root.join("read/link")).unwrap();
        std::os::unix::fs::symlink(root.join("secret"), root.join("link")).unwrap();
        fs::create_dir(root.join("write")).unwrap();
        fs::write(root.join("notes.txt"), "notes").unwrap();
        fs::create_dir(root.join("tmp")).unwrap();
        Self { _dir: dir, root }
    }

    fn path(&self, rest: &str) -> PathBuf {
        self.root.join(rest)
    }

    fn text(&self, rest: &str) -> String {
        self.path(rest).to_str().unwrap().to_owned()
    }

    /// The allowed profile: system trees, `read/` readable, `write/` writable.
    fn allowed(&self, network: bool) -> SandboxSpec {
        let mut trees = system_trees(Platform::Linux, network);
        trees.push(tree(self.path("read"), Access::Read));
        trees.push(tree(self.path("write"), Access::ReadWrite));
        trees.push(tree(self.path("tmp"), Access::ReadWrite));
        SandboxSpec {
            profile: Profile::Allowed,
            trees,
            hidden: vec![self.path("secret")],
            hidden_patterns: Vec::new(),
            read_only: vec![self.path(".zshrc"), self.path(".zshenv")],
            read_only_patterns: Vec::new(),
            network,
            tmpdir: self.path("tmp"),
        }
    }

    /// The approved profile: the whole home on top, read, write and run.
    fn approved(&self, network: bool) -> SandboxSpec {
        let mut spec = self.allowed(network);
        spec.profile = Profile::Approved;
        spec.trees.push(tree(self.root.clone(), Access::Full));
        spec
    }
}

fn tree(path: PathBuf, access: Access) -> Tree {
    Tree { path, access }
}

/// Runs `program args…` confined by `spec` and waits for it.
async fn run(spec: &SandboxSpec, program: &str, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = spawn(&mut cmd, spec).unwrap();
    tokio::time::timeout(RUN_TIMEOUT, child.wait_with_output())
        .await
        .expect("the sandboxed command timed out")
        .unwrap()
}

async fn sh(spec: &SandboxSpec, script: &str) -> Output {
    run(spec, "/bin/sh", &["-c", script]).await
}

async fn python(spec: &SandboxSpec, script: &str, args: &[&str]) -> Output {
    let mut all = vec!["-c", script];
    all.extend_from_slice(args);
    run(spec, "/usr/bin/python3", &all).await
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[track_caller]
fn assert_refused(output: &Output, message: &str) {
    assert!(
        !output.status.success(),
        "expected a failure, got {output:?}"
    );
    assert!(
        stderr(output).contains(message),
        "expected {message:?} in stderr: {}",
        stderr(output)
    );
}

#[track_caller]
fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "expected success: {output:?}, stderr: {}",
        stderr(output)
    );
}

#[test]
fn probe_reports_landlock_with_scoping() {
    let status = probe();

    let SandboxStatus::Landlock { abi } = status else {
        panic!("Landlock must be available on test machines: {status}");
    };
    assert!(
        abi >= 6,
        "the tests need Landlock ABI 6 (scoping), got {abi}"
    );
}

mod files;
mod network;
mod overhead;
mod process;
