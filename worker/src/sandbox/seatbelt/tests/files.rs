//! What rendered profiles let a task do with files, by our model of Seatbelt: read its
//! roots, write only its write roots, run nothing from them, never see what is hidden,
//! never move a protected path away.

use super::*;

#[test]
fn an_allowed_task_reads_its_roots_writes_only_its_write_roots_and_sees_nothing_else() {
    let rules = rules_of(&allowed_spec());

    assert!(allows(
        &rules,
        "file-read-data",
        "/Users/me/Documents/notes.txt"
    ));
    assert!(!allows(
        &rules,
        "file-write-data",
        "/Users/me/Documents/notes.txt"
    ));
    assert!(allows(
        &rules,
        "file-write-create",
        "/Users/me/Downloads/openclaw/new.txt"
    ));
    assert!(!allows(
        &rules,
        "file-read-data",
        "/Users/me/Library/Notes/x"
    ));
    assert!(!allows(&rules, "file-read-data", "/Users/me/.ssh/id_rsa"));
    assert!(!allows(&rules, "file-write-data", "/usr/bin/ls"));
    assert!(allows(&rules, "process-exec", "/usr/bin/ls"));
}

#[test]
fn directories_above_a_tree_can_be_looked_up_but_not_listed() {
    let rules = rules_of(&allowed_spec());

    assert!(allows(&rules, "file-read-metadata", "/Users/me"));
    assert!(allows(&rules, "file-read-metadata", "/Users/me/Downloads"));
    assert!(!allows(&rules, "file-read-data", "/Users/me"));
    assert!(!allows(&rules, "file-read-metadata", "/Users/me/Library"));
}

#[test]
fn nothing_runs_or_maps_as_code_from_a_write_root_or_the_temp_dir() {
    let spec = allowed_spec();
    let rules = rules_of(&spec);
    let in_tmp = spec.tmpdir.join("evil");
    let in_tmp = in_tmp.to_str().unwrap();

    for path in ["/Users/me/Downloads/openclaw/evil", in_tmp] {
        assert!(!allows(&rules, "process-exec", path), "{path}");
        assert!(!allows(&rules, "file-map-executable", path), "{path}");
    }
    assert!(allows(
        &rules,
        "file-map-executable",
        "/usr/lib/libSystem.B.dylib"
    ));
}

#[test]
fn hidden_paths_stay_hidden_inside_an_approved_home_in_any_case() {
    let rules = rules_of(&approved_spec());

    assert!(allows(&rules, "file-read-data", "/Users/me/notes.txt"));
    assert!(allows(&rules, "file-write-data", "/Users/me/notes.txt"));
    for path in [
        "/Users/me/.ssh/id_rsa",
        "/Users/me/.SSH/ID_RSA",
        "/users/ME/.Ssh",
        "/Users/me/.aws/credentials",
        "/Users/me/.config/openclaw-worker/config.toml",
        "/Users/me/.Config/OpenClaw-Worker/totp.secret",
        "/Users/me/Library/Keychains/login.keychain-db",
    ] {
        for op in [
            "file-read-data",
            "file-read-metadata",
            "file-write-data",
            "file-write-unlink",
        ] {
            assert!(!allows(&rules, op, path), "{op} {path}");
        }
        assert!(!allows(&rules, "process-exec", path), "{path}");
    }
}

#[test]
fn hidden_patterns_match_at_any_depth_in_any_case() {
    let rules = rules_of(&approved_spec());

    for path in [
        "/Users/me/proj/.env",
        "/Users/me/proj/.ENV",
        "/Users/me/proj/.env.local",
        "/Users/me/proj/deploy/id_ed25519",
        "/Users/me/proj/deploy/ID_RSA",
    ] {
        assert!(!allows(&rules, "file-read-data", path), "{path}");
    }
    assert!(allows(&rules, "file-read-data", "/Users/me/proj/.envrc"));
}

#[test]
fn read_only_paths_can_be_read_but_not_written_renamed_or_replaced() {
    let rules = rules_of(&approved_spec());

    for path in [
        "/Users/me/.zshrc",
        "/Users/me/.ZSHRC",
        "/Users/me/.config/git/config",
        "/Users/me/Library/LaunchAgents/evil.plist",
        "/Users/me/proj/.git/config",
        "/Users/me/proj/.git/hooks/pre-commit",
        "/Users/me/proj/.GIT/HOOKS/pre-commit",
        "/Users/me/proj/.claude/settings.json",
    ] {
        assert!(allows(&rules, "file-read-data", path), "{path}");
        for op in ["file-write-data", "file-write-create", "file-write-unlink"] {
            assert!(!allows(&rules, op, path), "{op} {path}");
        }
    }
}

#[test]
fn the_directories_a_protected_path_sits_in_cannot_be_moved_away() {
    let rules = rules_of(&approved_spec());

    // `mv ~/.config x` would take ~/.config/git out from under its rule; `mv .git g`
    // would let g/hooks be written and moved back.
    for path in [
        "/Users/me/.config",
        "/Users/me/Library",
        "/Users/me/proj/.git",
        "/Users/me/proj/.Git",
    ] {
        assert!(!allows(&rules, "file-write-unlink", path), "{path}");
    }
    assert!(!allows(&rules, "file-write-create", "/Users/me/.config"));
    // Creating a new repository's .git stays possible, and unrelated directories move.
    assert!(allows(&rules, "file-write-create", "/Users/me/proj/.git"));
    assert!(allows(&rules, "file-write-unlink", "/Users/me/proj/build"));
}

#[test]
fn hard_links_and_clones_are_refused_everywhere() {
    for rules in [rules_of(&allowed_spec()), rules_of(&approved_spec())] {
        for op in ["file-link", "file-clone"] {
            assert!(
                !allows(&rules, op, "/Users/me/Downloads/openclaw/a"),
                "{op}"
            );
        }
    }
}

#[test]
fn claude_may_use_its_own_state_but_not_the_workers_files() {
    let rules = rules_of(&claude_spec());

    assert!(allows(
        &rules,
        "file-write-data",
        "/Users/me/.claude/projects/x.jsonl"
    ));
    assert!(allows(&rules, "file-write-data", "/Users/me/.claude.json"));
    assert!(allows(
        &rules,
        "process-exec",
        "/opt/homebrew/lib/node_modules/@anthropic-ai/claude-code/cli.js"
    ));
    assert!(!allows(
        &rules,
        "file-read-data",
        "/Users/me/.config/openclaw-worker/totp.secret"
    ));
    assert!(!allows(
        &rules,
        "file-write-data",
        "/Users/me/.claude/settings.json"
    ));
}

#[test]
fn a_spec_with_nothing_writable_has_no_write_rule_at_all() {
    let mut spec = allowed_spec();
    spec.trees.retain(|t| !t.access.writes());
    let rules = rules_of(&spec);

    assert!(!rules
        .iter()
        .any(|r| r.allow && r.operations.iter().any(|op| op.starts_with("file-write"))));
    assert!(!allows(&rules, "file-write-data", "/Users/me/anything"));
}
