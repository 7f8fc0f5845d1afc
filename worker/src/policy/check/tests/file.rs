//! Tests of `check` on reads, writes and edits: the attack cases of issue 4 that the
//! policy decides (traversal, symlinks, other spellings, files that would run code later,
//! the worker's own files, canaries), on the [`Fixture`] home.

use std::os::unix::fs::symlink;

use openclaw_shared::{ContentEncoding, TaskSpec};
use sha2::{Digest, Sha256};

use super::fixture::{assert_verdict, Fixture};
use crate::policy::Verdict;

#[test]
fn read_inside_a_read_root_is_allowed_and_outside_needs_approval() {
    let mut f = Fixture::new();
    f.policy.paths.read_roots = vec!["~/Projects".into()];
    std::fs::write(f.home.join("Other/x"), "x").unwrap();

    assert_verdict(&f.read("notes.txt"), Verdict::Allow, "paths.read_roots[0]");
    assert_verdict(&f.read("~/Other/x"), Verdict::Approve, "default");
    assert_eq!(
        f.read("notes.txt").plan.paths,
        [f.home.join("Projects/notes.txt")]
    );
}

#[test]
fn traversal_out_of_a_root_into_ssh_is_denied() {
    let f = Fixture::new();

    assert_verdict(
        &f.read("../.ssh/id_rsa"),
        Verdict::Deny,
        "builtin.deny_paths[0]",
    );
    assert_verdict(
        &f.read("~/Projects/../.ssh/id_rsa"),
        Verdict::Deny,
        "builtin.deny_paths[0]",
    );
}

#[test]
fn symlink_inside_a_root_pointing_at_ssh_is_denied() {
    let f = Fixture::new();
    symlink(f.home.join(".ssh"), f.home.join("Projects/innocent")).unwrap();
    symlink(
        f.home.join(".ssh/id_rsa"),
        f.home.join("Downloads/openclaw/key.txt"),
    )
    .unwrap();

    let read = f.read("innocent/id_rsa");
    let write = f.write("~/Downloads/openclaw/key.txt", "overwrite");

    assert_verdict(&read, Verdict::Deny, "builtin.deny_paths[0]");
    assert_eq!(read.plan.paths, [f.home.join(".ssh/id_rsa")]);
    assert_verdict(&write, Verdict::Deny, "builtin.deny_paths[0]");
}

#[test]
fn deny_path_spelled_differently_is_still_denied() {
    let f = Fixture::new();
    let home = f.home.display();

    for path in [
        "~/.ssh/../.ssh/id_rsa".to_owned(),
        format!("/{home}//.ssh/./id_rsa"),
        format!("{home}/.ssh/."),
        "~/.ssh/".to_owned(),
        "~/.SSH/id_rsa".to_owned(),
        "~/Projects/./app/../../.ssh/id_rsa".to_owned(),
    ] {
        assert_verdict(&f.read(&path), Verdict::Deny, "builtin.deny_paths[0]");
    }
}

#[test]
fn env_files_are_denied_anywhere() {
    let f = Fixture::new();

    assert_verdict(&f.read("app/.env"), Verdict::Deny, "builtin.deny_paths");
    assert_verdict(
        &f.write("app/.env.local", "x"),
        Verdict::Deny,
        "builtin.deny_paths",
    );
}

#[test]
fn reads_over_the_limit_and_of_non_files_are_denied() {
    let mut f = Fixture::new();
    f.policy.limits.max_read_bytes = 4;

    assert_verdict(&f.read("notes.txt"), Verdict::Deny, "limits.max_read_bytes");
    assert_verdict(&f.read("app"), Verdict::Deny, "path");
}

#[test]
fn write_inside_the_write_root_is_allowed_with_its_content_hash() {
    let f = Fixture::new();

    let decision = f.write("~/Downloads/openclaw/new/note.txt", "hello");

    assert_verdict(&decision, Verdict::Allow, "paths.write_roots[0]");
    assert_eq!(
        decision.plan.content_sha256,
        Some(<[u8; 32]>::from(Sha256::digest(b"hello")))
    );
}

#[test]
fn base64_content_is_measured_and_hashed_decoded() {
    let mut f = Fixture::new();
    f.policy.limits.max_write_bytes = 5;
    let spec = |content: &str| TaskSpec::FileWrite {
        path: "~/Downloads/openclaw/b".into(),
        content: content.into(),
        encoding: ContentEncoding::Base64,
    };

    let ok = f.check(spec("aGVsbG8="));

    assert_verdict(&ok, Verdict::Allow, "paths.write_roots");
    assert_eq!(
        ok.plan.content_sha256,
        Some(<[u8; 32]>::from(Sha256::digest(b"hello")))
    );
    assert_verdict(
        &f.check(spec("aGVsbG8h")),
        Verdict::Deny,
        "limits.max_write_bytes",
    );
    assert_verdict(&f.check(spec("not base64!")), Verdict::Deny, "content");
}

#[test]
fn writes_that_would_run_code_later_are_denied() {
    let f = Fixture::new();
    let bin = f.bin.join("ls").display().to_string();

    assert_verdict(
        &f.write("~/.zshrc", "x"),
        Verdict::Deny,
        "builtin.deny_write_paths",
    );
    assert_verdict(
        &f.write("app/.git/config", "x"),
        Verdict::Deny,
        "builtin.git_internals",
    );
    assert_verdict(
        &f.write("app/.git/hooks/pre-commit", "x"),
        Verdict::Deny,
        "builtin.git_internals",
    );
    assert_verdict(&f.write(&bin, "x"), Verdict::Deny, "commands.path");
}

#[test]
fn the_workers_own_files_are_denied() {
    let mut f = Fixture::new();
    let state = f.home.join("Projects/state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("totp.secret"), "S").unwrap();
    f.policy.protect(&state);

    assert_verdict(&f.read("state/totp.secret"), Verdict::Deny, "protected[0]");
    assert_verdict(&f.run("ls state"), Verdict::Deny, "protected[0]");
    let edit = f.check(TaskSpec::FileEdit {
        path: "state/audit.jsonl".into(),
        old_string: "a".into(),
        new_string: "b".into(),
        replace_all: false,
    });
    assert_verdict(&edit, Verdict::Deny, "protected[0]");
}

#[test]
fn canary_touch_is_denied_and_asks_for_a_lock() {
    let mut f = Fixture::new();
    f.policy.paths.canary = vec!["~/Projects/passwords.txt".into()];
    std::fs::write(f.home.join("Projects/passwords.txt"), "bait").unwrap();

    let read = f.read("passwords.txt");
    let command = f.run("ls ./passwords.txt");
    let other = f.read("notes.txt");

    assert_verdict(&read, Verdict::Deny, "paths.canary[0]");
    assert_eq!(read.canary, Some(f.home.join("Projects/passwords.txt")));
    assert_verdict(&command, Verdict::Deny, "paths.canary[0]");
    assert!(command.canary.is_some());
    assert_eq!(other.canary, None);
}

#[test]
fn a_working_directory_the_task_names_trips_the_canary_it_holds() {
    let mut f = Fixture::new();
    f.policy.paths.canary = vec!["~/Projects/app/passwords.txt".into()];
    std::fs::write(f.home.join("Projects/app/passwords.txt"), "bait").unwrap();

    // `ls` in the canary's folder lists it, as `ls ~/Projects/app` would.
    let named = f.run_in("ls -la", &f.home.join("Projects/app"));
    let above = f.run_in("ls", &f.home.join("Projects"));
    // The default directory (here ~/Projects) is not named by the task.
    let default = f.run("ls notes.txt");
    let claude = f.check(TaskSpec::Claude {
        prompt: "list the files".into(),
        cwd: Some("~/Projects/app".into()),
        session: None,
    });

    assert_verdict(&named, Verdict::Deny, "paths.canary[0]");
    assert!(
        named.reason.starts_with("working directory"),
        "{}",
        named.reason
    );
    assert!(named.canary.is_some());
    assert_verdict(&above, Verdict::Deny, "paths.canary[0]");
    assert_eq!(default.canary, None);
    assert_verdict(&claude, Verdict::Deny, "paths.canary[0]");
}

#[test]
fn git_in_a_work_tree_that_holds_a_canary_trips_it() {
    let mut f = Fixture::new();
    std::fs::create_dir_all(f.home.join("Projects/app/.git")).unwrap();
    std::fs::create_dir_all(f.home.join("Projects/app/src")).unwrap();
    f.policy.paths.canary = vec!["~/Projects/app/passwords.txt".into()];
    std::fs::write(f.home.join("Projects/app/passwords.txt"), "bait").unwrap();

    // From a folder that does not hold it: git still reads the whole work tree (and the
    // canary's content, once committed, from its objects).
    let decision = f.run_in("git log -p", &f.home.join("Projects/app/src"));

    assert_verdict(&decision, Verdict::Deny, "paths.canary[0]");
    assert!(decision.canary.is_some());
}

#[test]
fn canary_inside_a_denied_directory_still_locks() {
    let mut f = Fixture::new();
    f.policy.paths.canary = vec!["~/.ssh/id_rsa".into()];

    let decision = f.read("~/.ssh/id_rsa");

    assert_verdict(&decision, Verdict::Deny, "paths.canary[0]");
    assert!(decision.canary.is_some());
}
