//! Tests of the policy file: format, defaults, validation and the permission check.

use super::*;
use std::os::unix::fs::{symlink, PermissionsExt};

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A private directory (0700) holding a private policy file (0600) with `text`.
fn private_policy(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    chmod(dir.path(), 0o700);
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, text).unwrap();
    chmod(&path, 0o600);
    (dir, path)
}

#[test]
fn empty_file_is_the_default_policy() {
    let (_d, path) = private_policy("");

    assert_eq!(Policy::load(&path).unwrap(), Policy::default());
}

#[test]
fn default_verdict_is_approve() {
    assert_eq!(Policy::default().default, Verdict::Approve);
    assert_eq!(Policy::default().claude.tier, Verdict::Approve);
    assert!(!Policy::default().claude.dangerously_skip_permissions);
}

#[test]
fn sections_parse_and_replace_their_defaults() {
    let (_d, path) = private_policy(
        r#"
default = "deny"
[commands]
path = ["/bin"]
allow = [{ program = "ls", options = ["-l"] }]
deny = [{ program = "git", args = ["push"] }]
[paths]
read_roots = ["~/src"]
canary = ["~/passwords.txt"]
[claude]
tier = "allow"
allowed_tools = ["Read"]
[env]
extra = ["GITHUB_TOKEN"]
[approvals]
ttl_secs = 60
"#,
    );

    let policy = Policy::load(&path).unwrap();

    assert_eq!(policy.default, Verdict::Deny);
    assert_eq!(policy.commands.allow.len(), 1);
    assert_eq!(policy.commands.deny[0].args, ["push"]);
    assert_eq!(policy.paths.read_roots, ["~/src"]);
    assert_eq!(policy.paths.write_roots, PathPolicy::default().write_roots);
    assert_eq!(policy.claude.tier, Verdict::Allow);
    assert_eq!(policy.env.extra, ["GITHUB_TOKEN"]);
    assert_eq!(policy.approvals.ttl_secs, 60);
}

#[test]
fn unknown_key_is_refused_naming_it() {
    let (_d, path) = private_policy("[paths]\nread_root = [\"~\"]\n");

    let err = Policy::load(&path).unwrap_err().to_string();

    assert!(err.contains("read_root"), "{err}");
}

#[test]
fn unknown_verdict_is_refused() {
    let (_d, path) = private_policy("default = \"maybe\"\n");

    assert!(matches!(
        Policy::load(&path),
        Err(PolicyError::Parse { .. })
    ));
}

#[test]
fn bad_pattern_and_relative_root_name_their_key() {
    let (_d, bad_glob) = private_policy("[paths]\ndeny = [\"~/ok\", \"a[\"]\n");
    let (_e, relative) = private_policy("[paths]\nwrite_roots = [\"inbox\"]\n");

    let glob_err = Policy::load(&bad_glob).unwrap_err().to_string();
    let root_err = Policy::load(&relative).unwrap_err().to_string();

    assert!(glob_err.contains("paths.deny[1]"), "{glob_err}");
    assert!(root_err.contains("paths.write_roots[0]"), "{root_err}");
}

#[test]
fn group_writable_policy_file_is_refused() {
    let (_d, path) = private_policy("");
    chmod(&path, 0o620);

    let err = Policy::load(&path).unwrap_err();

    assert!(matches!(err, PolicyError::Insecure { .. }), "{err}");
    assert!(err.to_string().contains("chmod go-w"), "{err}");
}

#[test]
fn world_writable_policy_directory_is_refused() {
    let (dir, path) = private_policy("");
    chmod(dir.path(), 0o777);

    let err = Policy::load(&path).unwrap_err();

    assert!(
        matches!(err, PolicyError::Insecure { path: ref p, .. } if p == &std::fs::canonicalize(dir.path()).unwrap()),
        "{err}"
    );
}

#[test]
fn symlinked_policy_in_a_writable_directory_is_refused() {
    let (_d, target) = private_policy("");
    let open = tempfile::tempdir().unwrap();
    chmod(open.path(), 0o777);
    let link = open.path().join("policy.toml");
    symlink(&target, &link).unwrap();

    assert!(matches!(
        Policy::load(&link),
        Err(PolicyError::Insecure { .. })
    ));
}

#[test]
fn missing_policy_file_is_a_read_error_naming_it() {
    let err = Policy::load(Path::new("/no/such/policy.toml")).unwrap_err();

    assert!(err.to_string().contains("/no/such/policy.toml"), "{err}");
}

#[test]
fn default_policy_validates() {
    assert!(Policy::default().validate().is_ok());
}
