//! Tests of the deny regexes: paths and globs matched in either case and at the right
//! depth, metacharacters kept literal, and only constructs AppleMatch and POSIX share.

use super::*;

/// Compiles a regex we emit with the `regex` crate: what we write must mean the same in
/// a common dialect, and these tests check what it matches.
fn compiled(regex: &str) -> regex::Regex {
    regex::Regex::new(regex).unwrap_or_else(|err| panic!("{regex}: {err}"))
}

fn glob_matches(glob: &str, path: &str) -> bool {
    compiled(&glob_regex(glob)).is_match(path)
}

#[test]
fn a_path_regex_matches_the_path_and_below_in_any_case() {
    let regex = compiled(&path_regex(b"/Users/me/.ssh"));

    assert!(regex.is_match("/Users/me/.ssh"));
    assert!(regex.is_match("/Users/me/.ssh/id_rsa"));
    assert!(regex.is_match("/Users/me/.SSH/id_rsa"));
    assert!(regex.is_match("/users/ME/.Ssh"));
    assert!(!regex.is_match("/Users/me/.sshx"));
    assert!(!regex.is_match("/Users/me/Xssh"));
    assert!(!regex.is_match("/Users/me"));
}

#[test]
fn regex_metacharacters_in_a_path_are_literal() {
    let regex = compiled(&path_regex(b"/a.b/c+d/(e)|f/[g]/$h^/{i}/j*?/k\\l"));

    assert!(regex.is_match("/a.b/c+d/(e)|f/[g]/$h^/{i}/j*?/k\\l/x"));
    assert!(!regex.is_match("/aXb/c+d/(e)|f/[g]/$h^/{i}/j*?/k\\l"));
}

#[test]
fn an_exact_regex_matches_only_the_directory_itself() {
    let regex = compiled(&exact_regex(b"/Users/me/proj"));

    assert!(regex.is_match("/Users/me/proj"));
    assert!(regex.is_match("/USERS/me/Proj"));
    assert!(!regex.is_match("/Users/me/proj/file"));
    assert!(!regex.is_match("/Users/me/pro"));
}

#[test]
fn bytes_that_are_not_utf8_match_any_byte_so_the_deny_stays_as_wide() {
    let regex = path_regex(b"/Users/me/\xffsecret");

    assert_eq!(
        regex,
        "^/[uU][sS][eE][rR][sS]/[mM][eE]/.[sS][eE][cC][rR][eE][tT](/.*)?$"
    );
}

#[test]
fn non_ascii_letters_match_either_case_as_an_alternation() {
    let regex = path_regex("/Users/me/Ärger".as_bytes());

    assert!(regex.contains("(ä|Ä)"));
    assert!(compiled(&regex).is_match("/users/me/ärger/x"));
}

#[test]
fn star_stays_within_one_directory() {
    assert!(glob_matches("/Users/me/*.pem", "/Users/me/key.pem"));
    assert!(glob_matches("/Users/me/*.pem", "/Users/me/.pem"));
    assert!(!glob_matches("/Users/me/*.pem", "/Users/me/sub/key.pem"));
    assert!(!glob_matches("/Users/me/*.pem", "/Users/me/key.pemx"));
}

#[test]
fn double_star_spans_any_depth_including_none() {
    assert!(glob_matches("/**/.env", "/.env"));
    assert!(glob_matches("/**/.env", "/Users/me/proj/.env"));
    assert!(glob_matches("/**/.env", "/Users/me/proj/.ENV"));
    assert!(!glob_matches("/**/.env", "/Users/me/proj/x.env"));
    assert!(!glob_matches("/**/.env", "/Users/me/proj/.envrc"));
    assert!(glob_matches("/a/**/b", "/a/b"));
    assert!(glob_matches("/a/**/b", "/a/x/y/b"));
    assert!(!glob_matches("/a/**/b", "/ax/b"));
    assert!(glob_matches("/a/**", "/a/x/y"));
    assert!(!glob_matches("/a/**", "/a"));
}

#[test]
fn a_matching_directory_hides_everything_below_it() {
    assert!(glob_matches("/**/.git/hooks", "/p/.git/hooks"));
    assert!(glob_matches("/**/.git/hooks", "/p/.git/hooks/pre-commit"));
    assert!(glob_matches("/**/.git/hooks", "/p/.GIT/Hooks/pre-commit"));
    assert!(!glob_matches("/**/.git/hooks", "/p/.git/hooksx"));
}

#[test]
fn question_mark_is_one_character_but_never_a_slash() {
    assert!(glob_matches("/d/key?.txt", "/d/key1.txt"));
    assert!(!glob_matches("/d/key?.txt", "/d/key.txt"));
    assert!(!glob_matches("/d/a?b", "/d/a/b"));
}

#[test]
fn classes_match_their_members_in_either_case() {
    assert!(glob_matches("/d/id_[er]sa", "/d/id_rsa"));
    assert!(glob_matches("/d/id_[er]sa", "/d/ID_RSA"));
    assert!(!glob_matches("/d/id_[er]sa", "/d/id_dsa"));
    assert!(glob_matches("/d/f[0-9]", "/d/f7"));
    assert!(!glob_matches("/d/f[0-9]", "/d/fx"));
    assert!(glob_matches("/d/[]]x", "/d/]x"));
}

#[test]
fn negated_classes_exclude_their_members_in_either_case_and_the_slash() {
    assert!(glob_matches("/d/[!a]x", "/d/bx"));
    assert!(!glob_matches("/d/[!a]x", "/d/ax"));
    assert!(!glob_matches("/d/[!a]x", "/d/Ax"));
    assert!(!glob_matches("/d/x[!a]y", "/d/x/y"));
}

#[test]
fn a_class_that_cannot_be_written_safely_widens_to_any_character() {
    assert_eq!(glob_regex("/[!\\]"), "^/[^/](/.*)?$");
    assert_eq!(glob_regex("/[!é]"), "^/[^/](/.*)?$");
    assert_eq!(glob_regex("/[\u{0}-\u{10FFFF}]"), "^/[^/](/.*)?$");
}

#[test]
fn an_unclosed_bracket_is_literal() {
    assert!(glob_matches("/d/[x", "/d/[x"));
    assert!(!glob_matches("/d/[x", "/d/x"));
}

#[test]
fn a_relative_glob_matches_at_any_depth() {
    assert_eq!(glob_regex("id_rsa"), glob_regex("/**/id_rsa"));
}

#[test]
fn glob_parents_are_the_directories_a_rename_would_dodge_the_pattern_with() {
    let parents = glob_parent_regexes("/**/.git/hooks");

    assert_eq!(parents.len(), 1);
    let parent = compiled(&parents[0]);
    assert!(parent.is_match("/p/.git"));
    assert!(parent.is_match("/p/.Git"));
    assert!(!parent.is_match("/p/.git/hooks"));
    assert!(!parent.is_match("/p"));
    assert!(glob_parent_regexes("/**/.env").is_empty());
    assert_eq!(glob_parent_regexes("/a/*/key").len(), 1);
}

#[test]
fn a_very_long_path_keeps_its_regex_short_enough_for_the_profile() {
    let long = format!("/{}/secret", "abcdefghij".repeat(40));

    let regex = path_regex(long.as_bytes());

    assert!(super::super::sbpl::quote(&regex).len() <= MAX_STRING_BYTES);
    assert!(regex.ends_with("/[sS][eE][cC][rR][eE][tT](/.*)?$"));
    assert!(compiled(&regex).is_match(&format!("{long}/x")));
}
