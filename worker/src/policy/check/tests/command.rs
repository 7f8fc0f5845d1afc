//! Tests of `check` on command tasks: the attack cases of issue 4 that the policy decides
//! (allowlists, shell syntax, inline evaluation, look-alike and denied programs, denied
//! paths in arguments), on the [`Fixture`] home.

use std::os::unix::fs::symlink;

use openclaw_shared::TaskSpec;

use super::fixture::{assert_verdict, executable, Fixture};
use crate::policy::file::CommandRule;
use crate::policy::{Exec, Verdict};

#[test]
fn allowlisted_simple_command_is_allowed_and_runs_without_a_shell() {
    let f = Fixture::new();

    let decision = f.run("ls -la");

    assert_verdict(&decision, Verdict::Allow, "commands.allow[0]");
    assert_eq!(
        decision.plan.exec,
        Some(Exec::Direct {
            program: f.bin.join("ls"),
            argv: vec!["ls".into(), "-la".into()],
        })
    );
    assert_eq!(decision.plan.cwd, Some(f.home.join("Projects")));
}

#[test]
fn read_only_git_subcommands_are_allowed_in_a_repository() {
    let f = Fixture::new();
    std::fs::create_dir(f.home.join("Projects/.git")).unwrap();

    for command in [
        "git status -s",
        "git log --oneline -n 5",
        "git diff --stat HEAD~1",
        "git branch -a",
    ] {
        assert_eq!(f.run(command).verdict, Verdict::Allow, "{command}");
    }
}

#[test]
fn git_options_that_write_files_or_run_programs_are_not_allowed() {
    let f = Fixture::new();

    for command in [
        "git diff --output=/tmp/x",
        "git -c core.pager=sh log",
        "git log --ext-diff",
        "git diff --no-index /etc/hosts x",
        "git branch evil",
        "git push",
        "date 0101000070",
    ] {
        assert_eq!(f.run(command).verdict, Verdict::Approve, "{command}");
    }
}

#[test]
fn shell_syntax_smuggled_into_an_allowlisted_command_needs_approval() {
    let f = Fixture::new();

    for command in [
        "ls $(rm -rf ~)",
        "ls `rm -rf ~`",
        "ls; rm -rf ~",
        "ls | sh",
        "ls && rm -rf ~",
        "ls\nrm -rf ~",
        "ls 'a\nb'",
        "ls > ~/Projects/x",
        "ls $HOME",
    ] {
        let decision = f.run(command);
        assert_verdict(&decision, Verdict::Approve, "shell_syntax");
        assert_eq!(
            decision.plan.exec,
            Some(Exec::Shell {
                command: command.into()
            }),
            "{command}"
        );
    }
}

#[test]
fn inline_evaluation_needs_approval_even_when_allowlisted() {
    let mut f = Fixture::new();
    for program in ["sh", "python3", "node", "osascript", "env", "find"] {
        f.policy
            .commands
            .allow
            .push(CommandRule::new(program, &[], &["*"]));
    }

    for command in [
        "sh -c 'ls'",
        "bash -c ls",
        "python3 -c 'print(1)'",
        "node -e 1",
        "osascript -e 'beep'",
        "env sh",
        "find . -delete",
    ] {
        assert_verdict(&f.run(command), Verdict::Approve, "inline_eval");
    }
}

#[test]
fn builtins_like_eval_are_never_allowed() {
    let mut f = Fixture::new();
    f.policy.default = Verdict::Allow;

    let decision = f.run("eval ls");

    assert_verdict(&decision, Verdict::Approve, "program_not_found");
    assert!(decision.reason.contains("can run code"), "{decision:?}");
}

#[test]
fn unknown_program_takes_the_default_but_never_allow() {
    let mut f = Fixture::new();

    assert_verdict(&f.run("frobnicate"), Verdict::Approve, "program_not_found");
    f.policy.default = Verdict::Deny;
    assert_verdict(&f.run("frobnicate"), Verdict::Deny, "default");
}

#[test]
fn a_look_alike_program_in_the_cwd_is_not_the_allowed_one() {
    let f = Fixture::new();
    executable(&f.home.join("Projects/ls"));
    symlink(f.bin.join("ls"), f.home.join("Projects/myls")).unwrap();

    assert_verdict(&f.run("./ls"), Verdict::Approve, "default");
    assert_verdict(&f.run("./myls"), Verdict::Approve, "default");
}

#[test]
fn denied_programs_are_denied_directly_behind_runners_and_in_pipelines() {
    let f = Fixture::new();

    assert_verdict(&f.run("sudo ls"), Verdict::Deny, "builtin.deny_commands[0]");
    assert_verdict(
        &f.run("env sudo id"),
        Verdict::Deny,
        "builtin.deny_commands[0]",
    );
    assert_verdict(
        &f.run("security dump-keychain"),
        Verdict::Deny,
        "builtin.deny_commands",
    );
    assert_verdict(
        &f.run("ls | sudo sh"),
        Verdict::Deny,
        "builtin.deny_commands[0]",
    );
    assert_verdict(
        &f.run("ls; env -i sudo id"),
        Verdict::Deny,
        "builtin.deny_commands[0]",
    );
}

#[test]
fn file_deny_rule_matches_its_argument_prefix() {
    let mut f = Fixture::new();
    f.policy
        .commands
        .deny
        .push(CommandRule::new("git", &["push"], &[]));
    std::fs::create_dir(f.home.join("Projects/.git")).unwrap();

    assert_verdict(
        &f.run("git push --force"),
        Verdict::Deny,
        "commands.deny[0]",
    );
    assert_verdict(&f.run("ls | git push"), Verdict::Deny, "commands.deny[0]");
    assert_verdict(&f.run("git status"), Verdict::Allow, "commands.allow");
}

#[test]
fn arguments_naming_a_denied_path_are_denied_however_spelled() {
    let f = Fixture::new();
    let home = f.home.display();

    for command in [
        "ls ~/.ssh".to_owned(),
        "ls ~/.ssh/../.ssh/id_rsa".to_owned(),
        format!("ls /{home}//.ssh/./id_rsa"),
        "ls ../.ssh".to_owned(),
        "git log --format=%h ../.ssh/id_rsa".to_owned(),
        "cat app/.env".to_owned(),
        "echo hi; cat ~/.ssh/id_rsa".to_owned(),
        "git diff --output=../.ssh/x".to_owned(),
    ] {
        assert_verdict(&f.run(&command), Verdict::Deny, "builtin.deny_paths");
    }
}

#[test]
fn working_directory_inside_a_denied_path_is_denied() {
    let f = Fixture::new();

    let decision = f.check(TaskSpec::Command {
        command: "ls".into(),
        cwd: Some("~/.ssh".into()),
    });

    assert_verdict(&decision, Verdict::Deny, "builtin.deny_paths[0]");
}

#[test]
fn default_deny_also_denies_shell_syntax_and_default_allow_still_approves_it() {
    let mut f = Fixture::new();
    f.policy.default = Verdict::Deny;
    assert_verdict(&f.run("ls | wc"), Verdict::Deny, "default");

    f.policy.default = Verdict::Allow;
    assert_verdict(&f.run("ls | wc"), Verdict::Approve, "shell_syntax");
}

#[test]
fn empty_and_oversized_commands_are_denied() {
    let mut f = Fixture::new();
    f.policy.limits.max_command_bytes = 8;

    assert_verdict(&f.run("   "), Verdict::Deny, "command");
    assert_verdict(
        &f.run("ls -la /tmp"),
        Verdict::Deny,
        "limits.max_command_bytes",
    );
}
