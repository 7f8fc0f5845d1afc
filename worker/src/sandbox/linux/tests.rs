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

#[tokio::test]
async fn hidden_file_cannot_be_read() {
    let home = Home::new();

    for spec in [home.allowed(false), home.approved(false)] {
        let output = run(&spec, "/bin/cat", &[&home.text("secret/key.txt")]).await;

        assert_refused(&output, "Permission denied");
        assert!(!stdout(&output).contains("top secret"));
    }
}

#[tokio::test]
async fn hidden_dir_reached_through_a_symlink_is_refused() {
    let home = Home::new();

    let in_read_root = run(
        &home.allowed(false),
        "/bin/cat",
        &[&home.text("read/link/key.txt")],
    )
    .await;
    let in_carved_home = run(
        &home.approved(false),
        "/bin/cat",
        &[&home.text("link/key.txt")],
    )
    .await;

    assert_refused(&in_read_root, "Permission denied");
    assert_refused(&in_carved_home, "Permission denied");
}

#[tokio::test]
async fn read_root_can_be_listed_and_read() {
    let home = Home::new();

    let listed = run(&home.allowed(false), "/bin/ls", &[&home.text("read")]).await;
    let read = run(
        &home.allowed(false),
        "/bin/cat",
        &[&home.text("read/readme.txt")],
    )
    .await;

    assert_ok(&listed);
    assert!(stdout(&listed).contains("readme.txt"));
    assert_ok(&read);
    assert_eq!(stdout(&read), "readable");
}

#[tokio::test]
async fn read_root_cannot_be_written() {
    let home = Home::new();
    let script = format!("echo x > {}", home.text("read/new.txt"));

    let output = sh(&home.allowed(false), &script).await;

    assert_refused(&output, "Permission denied");
    assert!(!home.path("read/new.txt").exists());
}

#[tokio::test]
async fn write_root_can_be_written() {
    let home = Home::new();
    let script = format!(
        "mkdir {0}/dir && echo x > {0}/dir/new.txt",
        home.text("write")
    );

    let output = sh(&home.allowed(false), &script).await;

    assert_ok(&output);
    assert_eq!(
        fs::read_to_string(home.path("write/dir/new.txt")).unwrap(),
        "x\n"
    );
}

#[tokio::test]
async fn program_in_a_write_root_cannot_be_run() {
    let home = Home::new();
    fs::copy("/bin/true", home.path("write/true")).unwrap();

    let output = sh(&home.allowed(false), &home.text("write/true")).await;

    assert_refused(&output, "Permission denied");
}

#[tokio::test]
async fn spawning_does_not_restrict_the_calling_thread() {
    let home = Home::new();

    let output = run(
        &home.allowed(false),
        "/bin/cat",
        &[&home.text("secret/key.txt")],
    )
    .await;

    assert_refused(&output, "Permission denied");
    assert_eq!(
        fs::read_to_string(home.path("secret/key.txt")).unwrap(),
        "top secret"
    );
    fs::write(home.path("read/by-the-worker.txt"), "still mine").unwrap();
}

#[tokio::test]
async fn read_only_file_in_a_writable_tree_cannot_be_written() {
    let home = Home::new();
    let spec = home.approved(false);

    let appended = sh(&spec, &format!("echo evil >> {}", home.text(".zshrc"))).await;
    // truncate(2) by path, and the open(O_RDONLY | O_TRUNC) quirk: no write access asked.
    let truncated = python(
        &spec,
        "import os, sys; os.truncate(sys.argv[1], 0)",
        &[&home.text(".zshrc")],
    )
    .await;
    let opened_truncating = python(
        &spec,
        "import os, sys; os.open(sys.argv[1], os.O_RDONLY | os.O_TRUNC)",
        &[&home.text(".zshrc")],
    )
    .await;
    let replaced = sh(&spec, &format!("rm -f {}", home.text(".zshrc"))).await;
    let read = run(&spec, "/bin/cat", &[&home.text(".zshrc")]).await;

    assert_refused(&appended, "Permission denied");
    assert_refused(&truncated, "Permission denied");
    assert_refused(&opened_truncating, "Permission denied");
    assert_refused(&replaced, "Permission denied");
    assert_ok(&read);
    assert_eq!(
        fs::read_to_string(home.path(".zshrc")).unwrap(),
        "export A=1\n"
    );
}

#[tokio::test]
async fn missing_read_only_path_cannot_be_created() {
    let home = Home::new();
    let mut spec = home.allowed(false);
    spec.read_only
        .push(home.path("write/.config/fish/config.fish"));
    let script = format!(
        "mkdir -p {0}/.config/fish && echo evil > {0}/.config/fish/config.fish",
        home.text("write")
    );

    let output = sh(&spec, &script).await;

    assert_refused(&output, "Permission denied");
    assert!(!home.path("write/.config").exists());
}

#[tokio::test]
async fn tree_inside_a_hidden_path_grants_nothing() {
    let home = Home::new();
    let mut spec = home.allowed(false);
    spec.trees.push(tree(home.path("secret"), Access::Read));

    let output = run(&spec, "/bin/cat", &[&home.text("secret/key.txt")]).await;

    assert_refused(&output, "Permission denied");
}

#[tokio::test]
async fn carved_home_keeps_its_other_entries_writable() {
    let home = Home::new();
    let spec = home.approved(false);

    let sibling = sh(&spec, &format!("echo more >> {}", home.text("notes.txt"))).await;
    let below = sh(&spec, &format!("echo x > {}", home.text("write/new.txt"))).await;
    let listed = run(&spec, "/bin/ls", &["-a", &home.text("")]).await;
    // The documented price of carving: nothing new directly in the carved directory.
    let directly_in_home = sh(&spec, &format!("echo x > {}", home.text("new.txt"))).await;

    assert_ok(&sibling);
    assert_eq!(
        fs::read_to_string(home.path("notes.txt")).unwrap(),
        "notesmore\n"
    );
    assert_ok(&below);
    assert_ok(&listed);
    assert!(stdout(&listed).contains(".zshrc"));
    assert_refused(&directly_in_home, "Permission denied");
}

#[tokio::test]
async fn hidden_file_under_another_name_is_refused() {
    let home = Home::new();
    fs::hard_link(home.path("secret/key.txt"), home.path("innocent.txt")).unwrap();
    let mut spec = home.approved(false);
    spec.hidden.push(home.path("secret/key.txt"));

    let output = run(&spec, "/bin/cat", &[&home.text("innocent.txt")]).await;

    assert_refused(&output, "Permission denied");
}

/// A shell script that opens a TCP connection to `port` on the loopback.
fn tcp_connect(port: u16) -> String {
    format!("exec 3<>/dev/tcp/127.0.0.1/{port}")
}

#[tokio::test]
async fn tcp_connection_is_refused_without_the_network() {
    let home = Home::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();

    let output = run(
        &home.allowed(false),
        "/bin/bash",
        &["-c", &tcp_connect(port)],
    )
    .await;

    assert_refused(&output, "Operation not permitted");
}

#[tokio::test]
async fn tcp_connection_works_with_the_network() {
    let home = Home::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();

    let output = run(
        &home.allowed(true),
        "/bin/bash",
        &["-c", &tcp_connect(port)],
    )
    .await;

    assert_ok(&output);
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_ok(), "the connection never arrived");
}

#[tokio::test]
async fn udp_socket_is_refused_without_the_network() {
    let home = Home::new();
    let script = "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)";

    let output = python(&home.allowed(false), script, &[]).await;

    assert_refused(&output, "Operation not permitted");
}

#[tokio::test]
async fn unix_socket_is_refused_even_with_the_network() {
    let home = Home::new();
    let path = home.path("tmp/bus.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let script = "import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])";

    for network in [false, true] {
        let output = python(&home.allowed(network), script, &[path.to_str().unwrap()]).await;

        assert_refused(&output, "Operation not permitted");
    }
}

#[tokio::test]
async fn socketpair_works_without_the_network() {
    let home = Home::new();
    let script =
        "import socket; a, b = socket.socketpair(); a.send(b'x'); assert b.recv(1) == b'x'";

    let output = python(&home.allowed(false), script, &[]).await;

    assert_ok(&output);
}

/// A Python script that makes raw system call `argv[1]` with integer arguments
/// `argv[2..]` (a zeroed 256-byte buffer where an argument is `buf`) and prints the errno
/// name, or `ok`.
const RAW_SYSCALL: &str = r#"
import ctypes, errno, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
buf = ctypes.create_string_buffer(256)
args = [buf if a == "buf" else ctypes.c_long(int(a)) for a in sys.argv[2:]]
result = libc.syscall(ctypes.c_long(int(sys.argv[1])), *args)
print("ok" if result >= 0 else errno.errorcode[ctypes.get_errno()])
"#;

async fn raw_syscall(spec: &SandboxSpec, call: nix::libc::c_long, args: &[&str]) -> String {
    let call = call.to_string();
    let mut all = vec![call.as_str()];
    all.extend_from_slice(args);
    let output = python(spec, RAW_SYSCALL, &all).await;
    assert_ok(&output);
    stdout(&output).trim().to_owned()
}

#[tokio::test]
async fn kernel_keyrings_are_refused() {
    let home = Home::new();

    for network in [false, true] {
        // keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, create)
        let keyctl = raw_syscall(
            &home.allowed(network),
            nix::libc::SYS_keyctl,
            &["0", "-3", "1"],
        )
        .await;

        assert_eq!(keyctl, "EPERM");
    }
}

#[tokio::test]
async fn io_uring_is_refused() {
    let home = Home::new();

    for network in [false, true] {
        // io_uring_setup(1, &params)
        let setup = raw_syscall(
            &home.allowed(network),
            nix::libc::SYS_io_uring_setup,
            &["1", "buf"],
        )
        .await;

        assert_eq!(setup, "EPERM");
    }
}

#[cfg(target_arch = "x86_64")]
#[tokio::test]
async fn x32_system_calls_are_refused() {
    let home = Home::new();
    let x32_getpid = nix::libc::SYS_getpid | 0x4000_0000;

    let getpid = raw_syscall(&home.allowed(true), x32_getpid, &[]).await;

    assert_eq!(getpid, "EPERM");
}

#[tokio::test]
async fn signal_to_a_process_outside_the_sandbox_is_refused() {
    let home = Home::new();

    let outside = sh(&home.allowed(true), "kill -0 $PPID").await;
    let inside = sh(&home.allowed(true), "sleep 30 & kill $!").await;

    assert_refused(&outside, "Operation not permitted");
    assert_ok(&inside);
}

#[tokio::test]
async fn name_resolution_works_with_the_network() {
    let home = Home::new();
    let script =
        "import socket; socket.getaddrinfo('localhost', 80, 0, 0, 0, socket.AI_ADDRCONFIG)";

    let output = python(&home.allowed(true), script, &[]).await;

    assert_ok(&output);
}

#[tokio::test]
async fn symlink_in_a_carved_tree_does_not_grant_its_target() {
    let home = Home::new();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("private.txt"), "private").unwrap();
    std::os::unix::fs::symlink(outside.path(), home.path("outside")).unwrap();

    let output = run(
        &home.approved(false),
        "/bin/cat",
        &[&home.text("outside/private.txt")],
    )
    .await;

    assert_refused(&output, "Permission denied");
}

#[test]
fn landlock_alone_refuses_tcp_without_the_network() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();

    let connect_confined = |network: bool| {
        std::thread::spawn(move || {
            landlock::restrict_current_thread(&[], network).unwrap();
            std::net::TcpStream::connect(address).map(drop)
        })
        .join()
        .unwrap()
    };

    let offline = connect_confined(false).unwrap_err();
    assert_eq!(offline.kind(), std::io::ErrorKind::PermissionDenied);
    connect_confined(true).unwrap();
}

#[tokio::test]
async fn relative_excluded_path_fails_the_spawn() {
    let home = Home::new();
    let mut spec = home.allowed(false);
    spec.hidden.push(PathBuf::from("relative/path"));
    let mut cmd = tokio::process::Command::new("/bin/true");

    let err = spawn(&mut cmd, &spec).unwrap_err();

    assert!(
        matches!(err, SpawnError::Sandbox(SandboxError::Apply(_))),
        "{err:?}"
    );
}

#[tokio::test]
async fn restrictions_of_one_spawn_never_reach_the_next() {
    let home = Home::new();
    let mut narrow = home.allowed(false);
    narrow.hidden.push(home.path("read"));
    let wide = home.allowed(false);

    for _ in 0..3 {
        let refused = run(&narrow, "/bin/cat", &[&home.text("read/readme.txt")]).await;
        let read = run(&wide, "/bin/cat", &[&home.text("read/readme.txt")]).await;

        assert_refused(&refused, "Permission denied");
        assert_ok(&read);
    }
}

/// The default deny lists' literal paths, for `home`.
fn default_exclusions(home: &std::path::Path) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let literal = |list: &[&str]| -> Vec<PathBuf> {
        list.iter()
            .filter(|p| !p.contains('*'))
            .map(|p| home.join(p.trim_start_matches("~/")))
            .collect()
    };
    (
        literal(crate::policy::defaults::DENY_PATHS),
        literal(crate::policy::defaults::DENY_WRITE_PATHS),
    )
}

/// How many spawns a measurement times.
const RUNS: usize = 300;

/// Times `RUNS` spawns of `/bin/true` (confined by `spec`, or plain) and prints p50/p90 of
/// the `spawn` call alone and of spawn to exit.
async fn measure(name: &str, spec: Option<&SandboxSpec>) {
    let mut spawn_us = Vec::with_capacity(RUNS);
    let mut total_us = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let mut cmd = tokio::process::Command::new("/bin/true");
        let started = std::time::Instant::now();
        let child = match spec {
            Some(spec) => spawn(&mut cmd, spec).unwrap(),
            None => cmd.spawn().unwrap(),
        };
        spawn_us.push(started.elapsed().as_micros());
        child.wait_with_output().await.unwrap();
        total_us.push(started.elapsed().as_micros());
    }
    spawn_us.sort_unstable();
    total_us.sort_unstable();
    let pct = |v: &[u128], p: usize| v[v.len() * p / 100];
    println!(
        "{name:>9}: spawn p50 {} µs, p90 {} µs; spawn to exit p50 {} µs, p90 {} µs (n={RUNS})",
        pct(&spawn_us, 50),
        pct(&spawn_us, 90),
        pct(&total_us, 50),
        pct(&total_us, 90)
    );
}

/// Spawn overhead, plain and confined. Run with
/// `cargo test -p openclaw-worker --lib spawn_overhead -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement, not a check"]
async fn spawn_overhead() {
    let home = Home::new();
    let real_home = PathBuf::from(std::env::var_os("HOME").unwrap());
    let (hidden, read_only) = default_exclusions(&real_home);
    let mut allowed = home.allowed(false);
    allowed.hidden.extend(hidden.iter().cloned());
    allowed.read_only.extend(read_only.iter().cloned());
    let mut approved = allowed.clone();
    approved.trees.push(tree(real_home.clone(), Access::Full));

    measure("plain", None).await;
    measure("allowed", Some(&allowed)).await;
    measure("approved", Some(&approved)).await;
    let started = std::time::Instant::now();
    let grants = plan(&approved).unwrap();
    println!(
        "approved plan: {} rules in {} µs",
        grants.len(),
        started.elapsed().as_micros()
    );
    let started = std::time::Instant::now();
    let grants = plan(&allowed).unwrap();
    println!(
        "allowed plan: {} rules in {} µs",
        grants.len(),
        started.elapsed().as_micros()
    );
}
