//! Tests of the tightened parse layer (Security II), on the [`Fixture`] home and its
//! starter policy: git only hardened and only in the owner's repositories, git's own files
//! never written, path arguments of allowed programs read inside the roots, canaries
//! tripped by naming a directory that holds them, and the write quota. Paths compared by
//! identity and spelling are in [`identity`](super::identity).

use std::path::PathBuf;

use super::fixture::{assert_verdict, Fixture};
use crate::policy::{Exec, Verdict};

fn argv(decision: &crate::policy::Decision) -> Vec<String> {
    match &decision.plan.exec {
        Some(Exec::Direct { argv, .. }) => argv.clone(),
        other => panic!("not a direct exec: {other:?}"),
    }
}

/// The attack of the brief, step by step: a `.git` file pointing at a repository beside it
/// in the write root, whose config names a shell as `core.fsmonitor`.
#[test]
fn a_planted_git_file_in_a_write_root_is_refused_and_git_there_needs_approval() {
    let f = Fixture::new();
    let inbox = f.home.join("Downloads/openclaw");
    std::fs::create_dir_all(inbox.join("r")).unwrap();

    let dot_git = f.write("~/Downloads/openclaw/r/.git", "gitdir: ../g");
    let head = f.write("~/Downloads/openclaw/g/HEAD", "ref: refs/heads/main\n");
    let config = f.write(
        "~/Downloads/openclaw/g/config",
        "[core]\n\tfsmonitor = \"touch /tmp/pwned; false\"\n",
    );
    // Even had the `.git` file got there (an approved task, say), git would not run.
    std::fs::write(inbox.join("r/.git"), "gitdir: ../g").unwrap();
    let status = f.run_in("git status", &inbox.join("r"));

    assert_verdict(&dot_git, Verdict::Deny, "builtin.git_internals");
    assert_verdict(&head, Verdict::Allow, "paths.write_roots[0]");
    assert_verdict(&config, Verdict::Allow, "paths.write_roots[0]");
    assert_verdict(&status, Verdict::Approve, "git");
    assert!(status.reason.contains("paths.write_roots[0]"), "{status:?}");
    assert_eq!(argv(&status), ["git", "status"]);
}

#[test]
fn git_in_a_write_root_needs_approval_even_with_a_real_git_directory() {
    let f = Fixture::new();
    let repo = f.home.join("Downloads/openclaw/r");
    std::fs::create_dir_all(repo.join(".git")).unwrap();

    assert_verdict(&f.run_in("git status", &repo), Verdict::Approve, "git");
}

#[test]
fn git_diff_reaching_outside_the_work_tree_needs_approval() {
    let f = Fixture::new();
    std::fs::create_dir(f.home.join("Projects/.git")).unwrap();
    std::fs::create_dir_all(f.home.join("Downloads/openclaw/e")).unwrap();
    std::fs::create_dir_all(f.home.join("Projects/a")).unwrap();

    for command in [
        "git diff e ~",
        "git diff ~/Downloads/openclaw/e ~/.config",
        "git diff a ../Other",
        "git diff -- a /tmp",
    ] {
        let decision = f.run(command);
        assert_eq!(
            decision.verdict,
            Verdict::Approve,
            "{command}: {decision:?}"
        );
    }
    assert_verdict(
        &f.run("git diff a HEAD~1"),
        Verdict::Allow,
        "commands.allow",
    );
}

#[test]
fn git_outside_any_repository_needs_approval() {
    let f = Fixture::new();

    let decision = f.run("git diff a b");

    assert_verdict(&decision, Verdict::Approve, "git");
    assert!(decision.reason.contains("not inside a git repository"));
}

#[test]
fn git_whose_repository_is_a_git_file_or_bare_needs_approval() {
    let f = Fixture::new();
    std::fs::write(f.home.join("Projects/app/.git"), "gitdir: ../../Other").unwrap();
    let bare = f.home.join("Projects/bare.git");
    for sub in ["objects", "refs"] {
        std::fs::create_dir_all(bare.join(sub)).unwrap();
    }
    std::fs::write(bare.join("HEAD"), "ref: refs/heads/main\n").unwrap();

    let file = f.run_in("git status", &f.home.join("Projects/app"));
    let bare = f.run_in("git log", &bare);

    assert_verdict(&file, Verdict::Approve, "git");
    assert!(file.reason.contains("not a directory"), "{file:?}");
    assert_verdict(&bare, Verdict::Approve, "git");
    assert!(bare.reason.contains("bare"), "{bare:?}");
}

#[test]
fn git_in_a_work_tree_that_holds_a_write_root_needs_approval() {
    let f = Fixture::new();
    std::fs::create_dir(f.home.join("Downloads/.git")).unwrap();

    let decision = f.run_in("git status", &f.home.join("Downloads"));

    assert_verdict(&decision, Verdict::Approve, "git");
    assert!(
        decision.reason.contains("holds a write root"),
        "{decision:?}"
    );
}

#[test]
fn git_whose_config_includes_other_files_needs_approval() {
    let f = Fixture::new();
    std::fs::create_dir(f.home.join("Projects/.git")).unwrap();
    std::fs::write(
        f.home.join("Projects/.git/config"),
        "[IncludeIf \"gitdir:~/\"]\n\tpath = ~/Downloads/openclaw/evil\n",
    )
    .unwrap();

    assert_verdict(&f.run("git status"), Verdict::Approve, "git");
}

#[test]
fn allowed_git_runs_hardened_in_the_repository_it_was_checked_in() {
    let f = Fixture::new();
    std::fs::create_dir(f.home.join("Projects/.git")).unwrap();

    let decision = f.run("git log --oneline");

    assert_verdict(&decision, Verdict::Allow, "commands.allow");
    let argv = argv(&decision);
    let git_dir = format!("--git-dir={}", f.home.join("Projects/.git").display());
    let subcommand = argv.iter().position(|a| a == "log").unwrap();
    for global in [
        "--no-pager",
        "core.fsmonitor=",
        "core.hooksPath=/dev/null",
        &git_dir,
    ] {
        let at = argv.iter().position(|a| a == global);
        assert!(at.is_some_and(|at| at < subcommand), "{global}: {argv:?}");
    }
    assert_eq!(
        argv[subcommand..],
        [
            "log",
            "--no-ext-diff",
            "--no-textconv",
            "--no-color",
            "--oneline"
        ]
    );
    let env = &decision.plan.env;
    for (key, value) in [
        ("GIT_CONFIG_GLOBAL", "/dev/null"),
        ("GIT_CONFIG_NOSYSTEM", "1"),
    ] {
        assert!(env.contains(&(key.into(), value.into())), "{env:?}");
    }
}

#[test]
fn git_allowed_by_the_default_is_hardened_and_checked_too() {
    let mut f = Fixture::new();
    f.policy.default = Verdict::Allow;
    f.policy.commands.allow.clear();
    std::fs::create_dir(f.home.join("Projects/.git")).unwrap();
    let inbox = f.home.join("Downloads/openclaw");

    let here = f.run("git show");
    let there = f.run_in("git show", &inbox);

    assert_verdict(&here, Verdict::Allow, "default");
    assert!(argv(&here).contains(&"core.fsmonitor=".to_owned()));
    assert_verdict(&there, Verdict::Approve, "git");
}

#[test]
fn git_global_options_aliases_and_program_options_need_approval() {
    let mut f = Fixture::new();
    f.policy.commands.allow = vec![crate::policy::file::CommandRule::new("git", &[], &["*"])];
    std::fs::create_dir(f.home.join("Projects/.git")).unwrap();

    for command in [
        "git --git-dir=/tmp/g status",
        "git -C /tmp status",
        "git st",
        "git help log",
        "git log --textc",
        "git grep -nO x",
        "git diff --no-i a b",
    ] {
        let decision = f.run(command);
        assert_eq!(
            decision.verdict,
            Verdict::Approve,
            "{command}: {decision:?}"
        );
    }
    assert_eq!(f.run("git status").verdict, Verdict::Allow);
}

#[test]
fn writes_of_git_internals_are_denied_however_spelled() {
    let f = Fixture::new();
    let home = f.home.display();

    for path in [
        "~/Downloads/openclaw/r/.git".to_owned(),
        "~/Downloads/openclaw/r/.GIT/config".to_owned(),
        "~/Downloads/openclaw/r/.Git/HEAD".to_owned(),
        "~/Downloads/openclaw/r/.g\u{200c}it".to_owned(),
        "~/Downloads/openclaw/g/gitdir".to_owned(),
        "~/Downloads/openclaw/g/CommonDir".to_owned(),
        format!("{home}/Other/.git/hooks/post-checkout"),
    ] {
        assert_verdict(&f.write(&path, "x"), Verdict::Deny, "builtin.git_internals");
    }
}

#[test]
fn a_write_through_a_link_into_a_git_directory_is_denied() {
    let f = Fixture::new();
    std::fs::create_dir(f.home.join("Projects/.git")).unwrap();
    std::os::unix::fs::symlink(
        f.home.join("Projects/.git"),
        f.home.join("Downloads/openclaw/innocent"),
    )
    .unwrap();

    let decision = f.write("~/Downloads/openclaw/innocent/config", "x");

    assert_verdict(&decision, Verdict::Deny, "builtin.git_internals");
}

#[test]
fn arguments_outside_the_roots_make_an_allowed_program_need_approval() {
    let f = Fixture::new();
    let other = f.home.join("Other").display().to_string();

    let outside = f.run("ls ~/Other");
    let value = f.run(&format!("ls --hide={other}"));
    let inside = f.run("ls app ~/Downloads/openclaw");

    assert_verdict(&outside, Verdict::Approve, "arguments.outside_roots");
    assert!(outside.reason.contains("/home/Other`"), "{outside:?}");
    assert_eq!(outside.allow_rule, Some(0));
    assert_verdict(&value, Verdict::Approve, "arguments.outside_roots");
    assert_verdict(&inside, Verdict::Allow, "commands.allow[0]");
}

#[test]
fn arguments_outside_the_roots_fall_to_a_denying_default() {
    let mut f = Fixture::new();
    f.policy.default = Verdict::Deny;

    assert_verdict(
        &f.run("ls ~/Other"),
        Verdict::Deny,
        "arguments.outside_roots",
    );
}

#[test]
fn a_directory_argument_holding_a_denied_or_protected_path_needs_approval() {
    let mut f = Fixture::new();
    f.policy.paths.read_roots.push("~".into());
    let state = f.home.join("Other/state");
    std::fs::create_dir_all(&state).unwrap();
    f.policy.protect(&state);

    let home = f.run("ls -R ~");
    let other = f.run("ls -R ~/Other");
    let projects = f.run("ls -R ~/Projects");

    assert_verdict(&home, Verdict::Approve, "arguments.holds_denied");
    assert_verdict(&other, Verdict::Approve, "arguments.holds_denied");
    assert!(other.reason.contains("protected[0]"), "{other:?}");
    assert_verdict(&projects, Verdict::Allow, "commands.allow[0]");
}

#[test]
fn a_directory_argument_holding_a_denied_path_names_it() {
    let mut f = Fixture::new();
    f.policy.paths.read_roots.push("~".into());

    let decision = f.run("ls -R ~");

    assert_verdict(&decision, Verdict::Approve, "arguments.holds_denied");
    assert!(decision.reason.contains("`~/.ssh`"), "{decision:?}");
}

#[test]
fn naming_a_directory_that_holds_a_canary_trips_it() {
    let mut f = Fixture::new();
    f.policy.paths.canary = vec!["~/Projects/app/passwords.txt".into()];
    let canary = f.home.join("Projects/app/passwords.txt");
    std::fs::write(&canary, "bait").unwrap();

    for command in ["ls app", "ls -R .", "ls ~ | wc", "ls /", "ls --dir=app/."] {
        let decision = f.run(command);
        assert_verdict(&decision, Verdict::Deny, "paths.canary[0]");
        assert_eq!(decision.canary.as_ref(), Some(&canary), "{command}");
    }
    let elsewhere = f.run("ls ~/Downloads");
    assert_eq!(elsewhere.canary, None, "{elsewhere:?}");
}

#[test]
fn a_write_over_the_write_root_quota_is_denied() {
    let mut f = Fixture::new();
    f.policy.paths.write_quota_bytes = 10;
    let inbox = f.home.join("Downloads/openclaw");
    std::fs::write(inbox.join("old.txt"), "123456").unwrap();

    let over = f.write("~/Downloads/openclaw/new.txt", "12345");
    let replace = f.write("~/Downloads/openclaw/old.txt", "123456789");
    let fits = f.write("~/Downloads/openclaw/new.txt", "1234");
    let grows = f.edit("~/Downloads/openclaw/old.txt", "1", "123456", false);
    let shrinks = f.edit("~/Downloads/openclaw/old.txt", "123", "", true);

    assert_verdict(&over, Verdict::Deny, "paths.write_quota_bytes");
    assert!(over.reason.contains("paths.write_roots[0]"), "{over:?}");
    assert_verdict(&replace, Verdict::Allow, "paths.write_roots[0]");
    assert_verdict(&fits, Verdict::Allow, "paths.write_roots[0]");
    assert_verdict(&grows, Verdict::Deny, "paths.write_quota_bytes");
    assert_verdict(&shrinks, Verdict::Allow, "paths.write_roots[0]");
}

#[test]
fn the_quota_applies_only_inside_a_write_root() {
    let mut f = Fixture::new();
    f.policy.paths.write_quota_bytes = 1;

    assert_verdict(&f.write("~/Other/x", "12345"), Verdict::Approve, "default");
}

#[test]
fn a_file_read_does_not_trip_a_canary_in_its_directory() {
    let mut f = Fixture::new();
    f.policy.paths.canary = vec!["~/Projects/passwords.txt".into()];
    std::fs::write(f.home.join("Projects/passwords.txt"), "bait").unwrap();

    let decision = f.read("notes.txt");

    assert_verdict(&decision, Verdict::Allow, "paths.read_roots");
    assert_eq!(decision.canary, None::<PathBuf>);
}
