//! Tests of paths compared by identity and folded spelling, on the [`Fixture`] home:
//! another case, another Unicode form, a hard link, a bind mount (the real kernel's, in a
//! mount namespace of its own) all name the guarded file they are.

use std::path::{Path, PathBuf};

use super::fixture::{assert_verdict, Fixture};
use crate::policy::{check, CheckEnv, Policy, Verdict};
use openclaw_shared::TaskSpec;

#[test]
fn other_spellings_of_the_workers_state_dir_are_denied() {
    let mut f = Fixture::new();
    let state = f.home.join(".config/openclaw-worker/state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("totp.secret"), "S").unwrap();
    f.policy.protect(&state);

    for path in [
        "~/.CONFIG/openclaw-worker/state/totp.secret",
        "~/.config/openclaw-wor\u{212A}er/state/totp.secret",
        "~/.config/OPENCLAW-WORKER/State",
        "~/.config/openclaw-worker/state/../STATE/totp.secret",
    ] {
        assert_verdict(&f.read(path), Verdict::Deny, "protected[0]");
        assert_verdict(&f.write(path, "x"), Verdict::Deny, "protected[0]");
    }
}

#[test]
fn nfd_and_nfc_spellings_of_a_denied_path_are_the_same() {
    let mut f = Fixture::new();
    f.policy.paths.deny = vec!["~/Projects/caf\u{e9}".into()];

    let decomposed = f.read("~/Projects/cafe\u{301}/menu.txt");

    assert_verdict(&decomposed, Verdict::Deny, "paths.deny[0]");
}

#[test]
fn a_hard_link_to_a_protected_file_inside_a_read_root_is_denied() {
    let mut f = Fixture::new();
    let state = f.home.join(".config/openclaw-worker/state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("totp.secret"), "S").unwrap();
    f.policy.protect(&state);
    std::fs::hard_link(
        state.join("totp.secret"),
        f.home.join("Projects/innocent.txt"),
    )
    .unwrap();

    assert_verdict(&f.read("innocent.txt"), Verdict::Deny, "protected[0]");
    assert_verdict(&f.run("ls innocent.txt"), Verdict::Deny, "protected[0]");
    assert_verdict(&f.write("innocent.txt", "x"), Verdict::Deny, "protected[0]");
}

#[test]
fn a_second_name_of_a_literal_deny_path_is_denied_by_identity() {
    let mut f = Fixture::new();
    std::fs::write(f.home.join("Other/secret.txt"), "S").unwrap();
    f.policy.paths.deny = vec!["~/Other/secret.txt".into()];
    std::fs::hard_link(
        f.home.join("Other/secret.txt"),
        f.home.join("Projects/copy.txt"),
    )
    .unwrap();

    assert_verdict(&f.read("copy.txt"), Verdict::Deny, "paths.deny[0]");
}

#[test]
fn a_hard_link_to_a_canary_trips_it() {
    let mut f = Fixture::new();
    std::fs::write(f.home.join("Other/passwords.txt"), "bait").unwrap();
    f.policy.paths.canary = vec!["~/Other/passwords.txt".into()];
    std::fs::hard_link(
        f.home.join("Other/passwords.txt"),
        f.home.join("Projects/list.txt"),
    )
    .unwrap();

    let decision = f.read("list.txt");

    assert_verdict(&decision, Verdict::Deny, "paths.canary[0]");
    assert!(decision.canary.is_some());
}

/// Set (by the test below) to the fake home and to a bind mount of it.
const BIND_HOME: &str = "OPENCLAW_TEST_BIND_HOME";
const BIND_ALIAS: &str = "OPENCLAW_TEST_BIND_ALIAS";

/// Runs in its own mount namespace, where the alias is a bind mount of the home: the key
/// read through the alias must be denied by identity (no spelling of it matches `~/.ssh`).
#[test]
#[ignore = "run by a_bind_mounted_second_name_of_a_denied_directory_is_denied, in a mount namespace"]
fn bind_mounted_alias_inner() {
    let home = PathBuf::from(std::env::var_os(BIND_HOME).expect("run by the outer test"));
    let alias = PathBuf::from(std::env::var_os(BIND_ALIAS).expect("run by the outer test"));
    let env = CheckEnv {
        home: home.clone(),
        default_cwd: home,
        path: Vec::new(),
    };
    let key = alias.join(".ssh/id_rsa").to_string_lossy().into_owned();

    let read = check(
        &Policy::default(),
        &TaskSpec::FileRead { path: key.clone() },
        &env,
    );

    assert!(Path::new(&key).exists(), "the bind mount is missing");
    assert_verdict(&read, Verdict::Deny, "builtin.deny_paths[0]");
}

#[cfg(target_os = "linux")]
#[test]
fn a_bind_mounted_second_name_of_a_denied_directory_is_denied() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let (home, alias) = (root.join("home"), root.join("alias"));
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::create_dir_all(&alias).unwrap();
    std::fs::write(home.join(".ssh/id_rsa"), "PRIVATE").unwrap();
    let test_binary = std::env::current_exe().unwrap();
    // The inner test's name as the harness knows it (without the crate), so it survives moves.
    let here = module_path!().split_once("::").map_or("", |(_, path)| path);
    let inner = format!("{here}::bind_mounted_alias_inner");

    // `unshare -r -m`: a user and mount namespace of its own, so the mount needs no
    // privilege and vanishes with the process.
    let out = std::process::Command::new("unshare")
        .args(["-r", "-m", "sh", "-c"])
        .arg(r#"mount --bind "$1" "$2" && exec "$3" --exact "$4" --include-ignored"#)
        .arg("sh")
        .args([&home, &alias, &test_binary])
        .arg(&inner)
        .env(BIND_HOME, &home)
        .env(BIND_ALIAS, &alias)
        .output()
        .expect("this test needs util-linux `unshare`");

    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("1 passed"), "{stdout}");
}
