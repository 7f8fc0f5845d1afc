//! Tests of the resolved roots and of [`Policy::check_roots`], on a fake home.

use super::*;

struct Home {
    _dir: tempfile::TempDir,
    home: PathBuf,
    policy: Policy,
}

/// A home with the worker's files in `~/.config/openclaw-worker` (protected) and the
/// default roots.
fn home() -> Home {
    let dir = tempfile::tempdir().unwrap();
    let home = std::fs::canonicalize(dir.path()).unwrap();
    let own = home.join(".config/openclaw-worker");
    std::fs::create_dir_all(own.join("state")).unwrap();
    std::fs::write(own.join("state/totp.secret"), "S").unwrap();
    for root in ["Projects", "Downloads/openclaw"] {
        std::fs::create_dir_all(home.join(root)).unwrap();
    }
    let mut policy = Policy::default();
    policy.protect(&own);
    Home {
        _dir: dir,
        home,
        policy,
    }
}

fn key_of(result: Result<(), PolicyError>) -> String {
    match result {
        Err(PolicyError::Invalid { key, reason }) => {
            assert!(reason.contains("openclaw-worker"), "{reason}");
            key
        }
        other => panic!("expected an invalid root, got {other:?}"),
    }
}

#[test]
fn the_default_roots_hold_none_of_the_workers_files() {
    let h = home();

    h.policy.check_roots(&h.home).unwrap();
}

#[test]
fn a_read_root_holding_the_workers_files_is_refused_naming_the_key() {
    let mut h = home();
    h.policy.paths.read_roots.push("~".into());

    assert_eq!(key_of(h.policy.check_roots(&h.home)), "paths.read_roots[4]");
}

#[test]
fn a_write_root_inside_the_workers_files_is_refused() {
    let mut h = home();
    h.policy.paths.write_roots = vec!["~/.config/openclaw-worker/state".into()];

    assert_eq!(
        key_of(h.policy.check_roots(&h.home)),
        "paths.write_roots[0]"
    );
}

#[test]
fn a_sandbox_read_entry_equal_to_the_workers_files_is_refused_however_spelled() {
    let mut h = home();
    h.policy.sandbox.read = vec!["~/.CONFIG/openclaw-wor\u{212A}er".into()];

    assert_eq!(key_of(h.policy.check_roots(&h.home)), "sandbox.read[0]");
}

#[test]
fn a_root_reaching_the_workers_files_through_a_link_is_refused() {
    let mut h = home();
    std::os::unix::fs::symlink(h.home.join(".config"), h.home.join("Projects/cfg")).unwrap();
    h.policy.paths.read_roots.push("~/Projects/cfg".into());

    assert_eq!(key_of(h.policy.check_roots(&h.home)), "paths.read_roots[4]");
}

#[test]
fn write_roots_are_found_under_any_name_but_grant_only_as_spelled() {
    let h = home();
    let roots = Roots::new(&h.policy, &h.home);
    let spelled = h.home.join("DOWNLOADS/openclaw/x");

    assert!(roots.touched_write_root(&spelled).is_some());
    assert!(roots.write_root_for(&spelled).is_none());
    assert!(roots.write_root_below(&h.home.join("Downloads")).is_some());
    assert_eq!(
        roots
            .write_root_for(&h.home.join("Downloads/openclaw/x"))
            .map(|r| r.key.as_str()),
        Some("paths.write_roots[0]")
    );
}
