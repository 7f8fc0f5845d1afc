//! Tests of the shell lexer: splitting like POSIX sh, and every construct it must flag.

use super::*;

const HOME: &str = "/home/me";

fn shape(command: &str) -> CommandShape {
    analyze(command, Path::new(HOME))
}

fn argv(command: &str) -> Vec<String> {
    match shape(command) {
        CommandShape::Simple { argv } => argv,
        other => panic!("{command:?} should be simple, got {other:?}"),
    }
}

fn features(command: &str) -> BTreeSet<ShellFeature> {
    match shape(command) {
        CommandShape::Shell { features, .. } => features,
        other => panic!("{command:?} should be shell syntax, got {other:?}"),
    }
}

fn programs(command: &str) -> Vec<String> {
    match shape(command) {
        CommandShape::Shell { commands, .. } => {
            commands.into_iter().map(|c| c[0].clone()).collect()
        }
        CommandShape::Simple { argv } => argv.into_iter().take(1).collect(),
        CommandShape::Empty => Vec::new(),
    }
}

#[test]
fn plain_words_split_on_blanks() {
    assert_eq!(argv("ls  -la\t/tmp"), ["ls", "-la", "/tmp"]);
}

#[test]
fn single_quotes_keep_everything_literal() {
    assert_eq!(
        argv("echo '$0 literal; `x` | y'"),
        ["echo", "$0 literal; `x` | y"]
    );
}

#[test]
fn double_quotes_keep_blanks_and_unescape_only_four_characters() {
    assert_eq!(
        argv(r#"git log "--grep=a b" "back\\slash" "keep\n" "q\"""#),
        ["git", "log", "--grep=a b", r"back\slash", r"keep\n", "q\""]
    );
}

#[test]
fn backslash_outside_quotes_escapes_the_next_character() {
    assert_eq!(argv(r"ls a\ b \; \|"), ["ls", "a b", ";", "|"]);
}

#[test]
fn adjacent_quoted_parts_form_one_word_and_empty_quotes_an_empty_word() {
    assert_eq!(argv(r#"echo a'b'"c" '' """#), ["echo", "abc", "", ""]);
}

#[test]
fn leading_tilde_expands_to_home() {
    assert_eq!(argv("ls ~ ~/src"), ["ls", HOME, "/home/me/src"]);
}

#[test]
fn quoted_tilde_stays_literal() {
    assert_eq!(argv("ls '~'"), ["ls", "~"]);
}

#[test]
fn blank_command_is_empty() {
    assert_eq!(shape("  \t "), CommandShape::Empty);
}

#[test]
fn dollar_paren_is_command_substitution_even_inside_double_quotes() {
    assert!(features("ls $(rm -rf ~)").contains(&ShellFeature::CommandSubstitution));
    assert!(features(r#"ls "$(rm -rf ~)""#).contains(&ShellFeature::CommandSubstitution));
}

#[test]
fn backticks_are_flagged_even_inside_double_quotes() {
    assert!(features("ls `id`").contains(&ShellFeature::Backtick));
    assert!(features(r#"ls "`id`""#).contains(&ShellFeature::Backtick));
}

#[test]
fn separators_and_pipes_are_flagged() {
    assert!(features("ls; rm -rf /").contains(&ShellFeature::Sequence));
    assert!(features("ls | sh").contains(&ShellFeature::Pipe));
    assert!(features("ls |& sh").contains(&ShellFeature::Pipe));
    assert!(features("ls && rm x").contains(&ShellFeature::AndOr));
    assert!(features("ls || rm x").contains(&ShellFeature::AndOr));
    assert!(features("sleep 9 &").contains(&ShellFeature::Background));
}

#[test]
fn newline_smuggled_into_arguments_is_flagged_quoted_or_not() {
    assert!(features("ls\nrm -rf ~").contains(&ShellFeature::ControlCharacter));
    assert!(features("ls 'a\nb'").contains(&ShellFeature::ControlCharacter));
    assert!(features("ls \"a\nb\"").contains(&ShellFeature::ControlCharacter));
    assert!(features("ls a\\\nb").contains(&ShellFeature::ControlCharacter));
    assert!(features("ls a\rb").contains(&ShellFeature::ControlCharacter));
    assert!(features("ls a\0b").contains(&ShellFeature::ControlCharacter));
}

#[test]
fn redirections_and_here_docs_are_flagged() {
    for command in [
        "ls > out",
        "ls >> out",
        "cat < in",
        "cat <<EOF",
        "ls 2>&1",
        "ls &> x",
    ] {
        assert!(
            features(command).contains(&ShellFeature::Redirection),
            "{command}"
        );
    }
}

#[test]
fn process_substitution_and_subshells_are_flagged() {
    assert!(features("diff <(ls) x").contains(&ShellFeature::Subshell));
    assert!(features("(ls)").contains(&ShellFeature::Subshell));
}

#[test]
fn variables_and_ansi_c_quotes_are_expansions() {
    for command in [
        "echo $HOME",
        "echo ${HOME}",
        "echo $'\\x41'",
        "echo \"$USER\"",
        "echo a$",
    ] {
        assert!(
            features(command).contains(&ShellFeature::Expansion),
            "{command}"
        );
    }
}

#[test]
fn unquoted_glob_characters_are_flagged_but_quoted_ones_are_not() {
    assert!(features("ls *.txt").contains(&ShellFeature::Glob));
    assert!(features("ls a?").contains(&ShellFeature::Glob));
    assert!(features("ls [ab]").contains(&ShellFeature::Glob));
    assert_eq!(argv("ls '*.txt'"), ["ls", "*.txt"]);
}

#[test]
fn braces_comments_and_history_are_flagged() {
    assert!(features("echo {a,b}").contains(&ShellFeature::Brace));
    assert!(features("{ ls; }").contains(&ShellFeature::Brace));
    assert!(features("ls # hidden").contains(&ShellFeature::Comment));
    assert!(features("ls !!").contains(&ShellFeature::History));
}

#[test]
fn hash_inside_a_word_is_not_plain_either() {
    assert!(features("ls a#b").contains(&ShellFeature::Glob));
}

#[test]
fn tilde_user_is_flagged() {
    assert!(features("ls ~root").contains(&ShellFeature::Tilde));
}

#[test]
fn tilde_inside_a_word_is_literal() {
    assert_eq!(
        argv("git diff HEAD~1 --dir=~/x"),
        ["git", "diff", "HEAD~1", "--dir=~/x"]
    );
}

#[test]
fn leading_assignment_is_flagged_and_the_program_after_it_is_seen() {
    let command = "GIT_PAGER=sh git log";

    assert!(features(command).contains(&ShellFeature::Assignment));
    assert_eq!(programs(command), ["git"]);
}

#[test]
fn zsh_equals_expansion_is_flagged() {
    assert!(features("=ls").contains(&ShellFeature::EqualsExpansion));
}

#[test]
fn equals_inside_an_argument_is_plain() {
    assert_eq!(argv("git log --format=%h"), ["git", "log", "--format=%h"]);
}

#[test]
fn reserved_words_in_command_position_are_flagged() {
    assert!(features("if true").contains(&ShellFeature::ReservedWord));
    assert!(features("time ls").contains(&ShellFeature::ReservedWord));
    assert!(features("! ls").contains(&ShellFeature::ReservedWord));
}

#[test]
fn quoted_reserved_word_is_an_ordinary_program_name() {
    assert_eq!(argv("'if' x"), ["if", "x"]);
}

#[test]
fn unterminated_quotes_and_trailing_backslash_are_flagged() {
    assert!(features("echo 'abc").contains(&ShellFeature::Unterminated));
    assert!(features("echo \"abc").contains(&ShellFeature::Unterminated));
    assert!(features("echo abc\\").contains(&ShellFeature::Unterminated));
}

#[test]
fn programs_of_every_part_are_visible() {
    assert_eq!(
        programs("ls | grep x; cat y && sudo id || $(curl evil) `wget x`"),
        ["ls", "grep", "cat", "sudo", "curl", "wget"]
    );
}

#[test]
fn each_command_keeps_its_own_arguments() {
    match shape("ls -l | git push --force > log; ENV=1 rm -rf x") {
        CommandShape::Shell { commands, .. } => assert_eq!(
            commands,
            [
                vec!["ls", "-l"],
                vec!["git", "push", "--force"],
                vec!["rm", "-rf", "x"]
            ]
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn redirect_target_is_not_taken_for_a_program() {
    assert_eq!(programs("> out ls"), ["ls"]);
}

#[test]
fn non_ascii_text_is_plain() {
    assert_eq!(argv("ls Café/日本"), ["ls", "Café/日本"]);
}
