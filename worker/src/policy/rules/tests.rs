//! Tests of program resolution and rule matching, on a temp directory of fake programs.

use super::*;
use std::os::unix::fs::symlink;

fn executable(path: &Path) {
    std::fs::write(path, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

struct Bins {
    _dir: tempfile::TempDir,
    root: PathBuf,
    first: PathBuf,
    second: PathBuf,
}

fn bins() -> Bins {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let first = root.join("first");
    let second = root.join("second");
    std::fs::create_dir_all(&first).unwrap();
    std::fs::create_dir_all(&second).unwrap();
    executable(&first.join("ls"));
    executable(&second.join("ls"));
    executable(&second.join("git"));
    std::fs::write(second.join("notes"), "not executable").unwrap();
    Bins {
        _dir: dir,
        root,
        first,
        second,
    }
}

fn rule(program: &str, args: &[&str], options: &[&str]) -> CommandRule {
    CommandRule::new(program, args, options)
}

/// An allow rule matched as the checker does, its program resolved for this task.
fn allows(
    rule: &CommandRule,
    program: &Program,
    args: &[String],
    search: &[PathBuf],
    cwd: &Path,
) -> bool {
    let ruled = resolve_program(&rule.program, search, cwd);
    allow_matches(rule, ruled.as_ref(), program, args)
}

/// A deny rule matched as the checker does, its program resolved for this task.
fn denies(
    rule: &CommandRule,
    word: &str,
    resolved: Option<&Program>,
    args: &[String],
    search: &[PathBuf],
    cwd: &Path,
) -> bool {
    let ruled = resolve_program(&rule.program, search, cwd);
    deny_matches(rule, ruled.as_ref(), word, resolved, args)
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn program_resolves_through_the_first_search_dir_that_has_it() {
    let b = bins();

    let found = resolve_program("ls", &[b.first.clone(), b.second.clone()], &b.root).unwrap();

    assert_eq!(found.path, b.first.join("ls"));
}

#[test]
fn relative_search_dirs_and_non_executables_are_skipped() {
    let b = bins();
    let search = [PathBuf::from("first"), b.second.clone()];

    assert_eq!(
        resolve_program("ls", &search, &b.root).unwrap().path,
        b.second.join("ls")
    );
    assert_eq!(resolve_program("notes", &search, &b.root), None);
}

#[test]
fn word_with_a_slash_is_a_path_from_the_cwd() {
    let b = bins();

    let found = resolve_program("./second/git", &[], &b.root).unwrap();

    assert_eq!(found.path, b.second.join("git"));
}

#[test]
fn bare_name_rule_does_not_match_another_binary_of_that_name() {
    let b = bins();
    let search = [b.first.clone()];
    let other_ls = resolve_program("./second/ls", &search, &b.root).unwrap();

    assert!(!allows(
        &rule("ls", &[], &[]),
        &other_ls,
        &[],
        &search,
        &b.root
    ));
}

#[test]
fn link_under_another_name_does_not_match() {
    let b = bins();
    let search = [b.first.clone()];
    symlink(b.first.join("ls"), b.root.join("rm")).unwrap();
    let renamed = resolve_program("./rm", &search, &b.root).unwrap();

    assert_eq!(renamed.real, b.first.join("ls"));
    assert!(!allows(
        &rule("ls", &[], &[]),
        &renamed,
        &[],
        &search,
        &b.root
    ));
}

#[test]
fn leading_args_match_one_to_one_and_the_rest_by_options() {
    let b = bins();
    let search = [b.second.clone()];
    let git = resolve_program("git", &search, &b.root).unwrap();
    let log = rule("git", &["log"], &["--oneline", "-n", "[!-]*"]);
    let matches = |args: &[&str]| allows(&log, &git, &strings(args), &search, &b.root);

    assert!(matches(&["log"]));
    assert!(matches(&["log", "--oneline", "-n", "5", "main"]));
    assert!(!matches(&["status"]));
    assert!(!matches(&[]));
    assert!(!matches(&["log", "--output=/tmp/x"]));
    assert!(!matches(&["-c", "log"]));
}

#[test]
fn rule_without_options_takes_no_further_arguments() {
    let b = bins();
    let search = [b.first.clone()];
    let ls = resolve_program("ls", &search, &b.root).unwrap();

    assert!(allows(&rule("ls", &[], &[]), &ls, &[], &search, &b.root));
    assert!(!allows(
        &rule("ls", &[], &[]),
        &ls,
        &strings(&["-l"]),
        &search,
        &b.root
    ));
}

#[test]
fn star_in_an_argument_pattern_crosses_slashes() {
    assert!(arg_matches("*", "a/b/c"));
    assert!(arg_matches("--format=*", "--format=%h/%s"));
    assert!(!arg_matches("[!-]*", "--x"));
    assert!(arg_matches("[!-]*", "src/main.rs"));
}

#[test]
fn deny_rule_matches_by_name_anywhere_and_args_as_prefix() {
    let b = bins();
    let search = [b.second.clone()];
    let push = rule("git", &["push"], &[]);

    assert!(denies(
        &push,
        "/elsewhere/git",
        None,
        &strings(&["push", "-f"]),
        &search,
        &b.root
    ));
    assert!(!denies(
        &push,
        "git",
        None,
        &strings(&["status"]),
        &search,
        &b.root
    ));
    assert!(denies(
        &rule("sudo", &[], &[]),
        "sudo",
        None,
        &[],
        &search,
        &b.root
    ));
}

#[test]
fn interpreters_and_shells_evaluate_code_whatever_their_version() {
    for name in [
        "sh",
        "bash",
        "zsh",
        "python3",
        "python3.12",
        "node",
        "perl5.30",
        "ruby",
        "osascript",
        "awk",
        "env",
        "xargs",
        "eval",
    ] {
        assert!(evaluates_code(&[name], &[]).is_some(), "{name}");
    }
    assert_eq!(evaluates_code(&["ls"], &strings(&["-la"])), None);
}

#[test]
fn find_is_code_only_with_an_exec_action() {
    assert_eq!(
        evaluates_code(&["find"], &strings(&[".", "-name", "x"])),
        None
    );
    assert!(evaluates_code(&["find"], &strings(&[".", "-exec", "rm"])).is_some());
    assert!(evaluates_code(&["find"], &strings(&[".", "-delete"])).is_some());
}

#[test]
fn git_global_config_options_evaluate_code() {
    assert!(evaluates_code(&["git"], &strings(&["-c", "core.pager=sh", "log"])).is_some());
    assert!(evaluates_code(&["git"], &strings(&["--exec-path=/tmp", "log"])).is_some());
    assert!(evaluates_code(&["git"], &strings(&["diff", "--output=/tmp/x"])).is_some());
    // `-c` after the subcommand is `git log -c` (combined diff), harmless.
    assert_eq!(evaluates_code(&["git"], &strings(&["log", "-c"])), None);
}

#[test]
fn runner_target_is_the_first_plain_argument() {
    assert_eq!(
        runner_target("env", &strings(&["-i", "A=b", "sh"])),
        Some("sh")
    );
    assert_eq!(
        runner_target("/usr/bin/nice", &strings(&["-n", "10", "rm"])),
        Some("rm")
    );
    assert_eq!(runner_target("ls", &strings(&["sh"])), None);
}
