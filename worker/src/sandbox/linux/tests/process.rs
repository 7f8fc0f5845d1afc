//! What else a confined process cannot do, and that confinement stays with the child.

use super::*;

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
