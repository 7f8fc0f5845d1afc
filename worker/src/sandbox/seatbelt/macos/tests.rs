//! Real-kernel tests of the Seatbelt applier: real programs under `sandbox-exec` with the
//! profile a task would get, in a temp dir playing the home directory. macOS only; they
//! have NOT been run yet (written and type-checked on Linux). Run them on a Mac with
//! `cargo test -p openclaw-worker --lib seatbelt::macos`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;

use super::*;
use crate::sandbox::spec::{system_trees, Platform};
use crate::sandbox::{Access, Profile, SandboxSpec, SandboxStatus, Tree};

struct Home {
    _dir: tempfile::TempDir,
    /// The temp dir's real path (the temp dir itself is behind `/var` → `/private/var`).
    root: PathBuf,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        for sub in ["docs", "work/.git/hooks", ".ssh", "tmp"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        std::fs::write(root.join("docs/notes.txt"), "notes").unwrap();
        std::fs::write(root.join(".ssh/id_rsa"), "PRIVATE KEY").unwrap();
        std::fs::write(root.join("work/.env"), "TOKEN=1").unwrap();
        std::fs::write(root.join("work/.git/config"), "[core]").unwrap();
        Self { _dir: dir, root }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// An allowed-profile spec: `docs` read, `work` written, `.ssh` hidden.
    fn spec(&self, network: bool) -> SandboxSpec {
        let mut trees = system_trees(Platform::MacOs, network);
        trees.push(Tree {
            path: self.path("docs"),
            access: Access::Read,
        });
        trees.push(Tree {
            path: self.path("work"),
            access: Access::ReadWrite,
        });
        trees.push(Tree {
            path: self.path("tmp"),
            access: Access::ReadWrite,
        });
        SandboxSpec {
            profile: Profile::Allowed,
            trees,
            hidden: vec![self.path(".ssh")],
            hidden_patterns: vec!["/**/.env".to_owned()],
            read_only: Vec::new(),
            read_only_patterns: vec!["/**/.git/config".to_owned(), "/**/.git/hooks".to_owned()],
            network,
            tmpdir: self.path("tmp"),
        }
    }
}

async fn run(spec: &SandboxSpec, program: &str, args: &[&str]) -> Output {
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    command(spec, Path::new(program), &args)
        .unwrap()
        .output()
        .await
        .unwrap()
}

async fn sh(spec: &SandboxSpec, script: &str) -> Output {
    run(spec, "/bin/sh", &["-c", script]).await
}

#[test]
fn the_probe_finds_seatbelt_confining() {
    assert_eq!(probe(), SandboxStatus::Seatbelt);
}

#[tokio::test]
async fn a_read_root_is_readable_but_not_writable() {
    let home = Home::new();
    let notes = home.path("docs/notes.txt");

    let read = run(&home.spec(false), "/bin/cat", &[notes.to_str().unwrap()]).await;
    let write = sh(
        &home.spec(false),
        &format!("echo x > '{}'", notes.display()),
    )
    .await;

    assert!(read.status.success());
    assert_eq!(read.stdout, b"notes");
    assert!(!write.status.success());
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "notes");
}

#[tokio::test]
async fn a_hidden_file_cannot_be_read_in_any_letter_case() {
    let home = Home::new();

    for spelling in [".ssh/id_rsa", ".SSH/ID_RSA", ".Ssh/id_rsa"] {
        let out = run(
            &home.spec(false),
            "/bin/cat",
            &[home.path(spelling).to_str().unwrap()],
        )
        .await;

        assert!(!out.status.success(), "{spelling}");
        assert!(out.stdout.is_empty(), "{spelling}");
    }
}

#[tokio::test]
async fn a_hidden_pattern_cannot_be_read_even_inside_a_write_root() {
    let home = Home::new();

    let out = run(
        &home.spec(false),
        "/bin/cat",
        &[home.path("work/.ENV").to_str().unwrap()],
    )
    .await;

    assert!(!out.status.success());
}

#[tokio::test]
async fn git_hooks_and_config_cannot_be_written_or_moved_away() {
    let home = Home::new();
    let work = home.path("work");

    let hook = sh(
        &home.spec(false),
        &format!("echo evil > '{}/.git/hooks/pre-commit'", work.display()),
    )
    .await;
    let moved = sh(
        &home.spec(false),
        &format!("mv '{0}/.git' '{0}/g'", work.display()),
    )
    .await;
    let config = sh(
        &home.spec(false),
        &format!("echo evil >> '{}/.GIT/config'", work.display()),
    )
    .await;

    assert!(!hook.status.success());
    assert!(!moved.status.success());
    assert!(!config.status.success());
    assert!(work.join(".git/config").exists());
    assert_eq!(
        std::fs::read_to_string(work.join(".git/config")).unwrap(),
        "[core]"
    );
}

#[tokio::test]
async fn a_hidden_file_cannot_get_a_second_name_by_hard_link() {
    let home = Home::new();
    let secret = home.path("work/.env");
    let alias = home.path("work/alias");

    let out = run(
        &home.spec(false),
        "/bin/ln",
        &[secret.to_str().unwrap(), alias.to_str().unwrap()],
    )
    .await;

    assert!(!out.status.success());
    assert!(!alias.exists());
}

#[tokio::test]
async fn nothing_runs_from_a_write_root() {
    let home = Home::new();
    let copy = home.path("work/echo");
    std::fs::copy("/bin/echo", &copy).unwrap();

    let out = run(&home.spec(false), copy.to_str().unwrap(), &["hi"]).await;

    assert!(!out.status.success());
}

#[tokio::test]
async fn without_network_a_local_tcp_listener_is_out_of_reach() {
    let home = Home::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();

    let off = run(
        &home.spec(false),
        "/usr/bin/nc",
        &["-z", "-w", "2", "127.0.0.1", &port],
    )
    .await;
    let on = run(
        &home.spec(true),
        "/usr/bin/nc",
        &["-z", "-w", "2", "127.0.0.1", &port],
    )
    .await;

    assert!(!off.status.success());
    assert!(
        on.status.success(),
        "{}",
        String::from_utf8_lossy(&on.stderr)
    );
}

#[tokio::test]
async fn even_with_network_no_unix_socket_but_the_resolvers_is_reachable() {
    let home = Home::new();
    let socket = home.path("tmp/agent.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();

    let out = run(
        &home.spec(true),
        "/usr/bin/nc",
        &["-U", "-z", socket.to_str().unwrap()],
    )
    .await;

    assert!(!out.status.success());
}

#[tokio::test]
async fn a_task_cannot_signal_a_process_outside_its_sandbox() {
    let home = Home::new();
    let worker = std::process::id().to_string();

    let out = run(&home.spec(false), "/bin/kill", &["-0", &worker]).await;

    assert!(!out.status.success());
}

#[tokio::test]
async fn a_path_with_quotes_and_parentheses_stays_one_rule() {
    let home = Home::new();
    let odd = home.path(r#"work/a"b) (allow file-read* (subpath "/"))"#);
    std::fs::create_dir_all(&odd).unwrap();
    let mut spec = home.spec(false);
    spec.trees.push(Tree {
        path: odd.clone(),
        access: Access::ReadWrite,
    });
    let outside = home.path(".ssh/id_rsa");

    let out = run(&spec, "/bin/cat", &[outside.to_str().unwrap()]).await;
    let write = sh(&spec, &format!("echo ok > '{}/f'", odd.display())).await;

    assert!(!out.status.success());
    assert!(write.status.success());
}
