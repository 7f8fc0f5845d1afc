//! Golden profiles, and what rendered profiles allow by our model of Seatbelt (last
//! matching rule wins). Set `UPDATE_GOLDEN=1` to rewrite the golden files after an
//! intended change, then review the diff.

use std::path::{Path, PathBuf};

use openclaw_shared::{TaskId, TaskSpec};

use super::model::{allows, parse, rules, strings, Rule};
use super::render;
use crate::policy::file::CommandRule;
use crate::policy::{Decision, Plan, Policy, Verdict};
use crate::sandbox::spec::{derive, Platform, SandboxEnv};
use crate::sandbox::{Access, SandboxSpec, Tree};

const HOME: &str = "/Users/me";

fn env() -> SandboxEnv {
    SandboxEnv {
        home: PathBuf::from(HOME),
        search: crate::policy::defaults::SEARCH_PATH
            .iter()
            .map(PathBuf::from)
            .collect(),
        tmp_base: PathBuf::from("/private/var/folders/zz/abc123/T"),
        claude_dir: Some(PathBuf::from(
            "/opt/homebrew/lib/node_modules/@anthropic-ai/claude-code",
        )),
        platform: Platform::MacOs,
    }
}

fn policy() -> Policy {
    let mut policy = Policy::default();
    policy.protect(format!("{HOME}/.config/openclaw-worker"));
    let mut curl = CommandRule::new("curl", &[], &["*"]);
    curl.network = true;
    policy.commands.allow = vec![CommandRule::new("ls", &[], &["*"]), curl];
    policy
}

fn decision(verdict: Verdict, allow_rule: Option<usize>) -> Decision {
    Decision {
        verdict,
        rule: "test".into(),
        reason: "test".into(),
        canary: None,
        allow_rule,
        plan: Plan::default(),
    }
}

fn task_id() -> TaskId {
    "6f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11".parse().unwrap()
}

fn command() -> TaskSpec {
    TaskSpec::Command {
        command: "ls".into(),
        cwd: None,
    }
}

fn allowed_spec() -> SandboxSpec {
    derive(
        &policy(),
        &command(),
        &decision(Verdict::Allow, Some(0)),
        task_id(),
        &env(),
    )
    .unwrap()
}

fn approved_spec() -> SandboxSpec {
    derive(
        &policy(),
        &command(),
        &decision(Verdict::Approve, None),
        task_id(),
        &env(),
    )
    .unwrap()
}

fn claude_spec() -> SandboxSpec {
    let claude = TaskSpec::Claude {
        prompt: "summarise".into(),
        session_id: None,
        cwd: None,
    };
    derive(
        &policy(),
        &claude,
        &decision(Verdict::Approve, None),
        task_id(),
        &env(),
    )
    .unwrap()
}

fn rules_of(spec: &SandboxSpec) -> Vec<Rule> {
    let profile = render(spec);
    rules(&parse(&profile).unwrap_or_else(|err| panic!("{err}\n{profile}")))
}

fn golden(name: &str, profile: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/sandbox/seatbelt/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, profile).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("{}: {err} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert!(
        expected == profile,
        "{} differs from the rendered profile; if intended, rerun with UPDATE_GOLDEN=1 and review the diff",
        path.display()
    );
}

#[test]
fn allowed_profile_without_network_matches_its_golden_file() {
    golden("allowed.sb", &render(&allowed_spec()));
}

#[test]
fn approved_profile_with_network_matches_its_golden_file() {
    golden("approved.sb", &render(&approved_spec()));
}

#[test]
fn claude_profile_matches_its_golden_file() {
    golden("claude.sb", &render(&claude_spec()));
}

#[test]
fn every_profile_starts_by_denying_everything() {
    for spec in [allowed_spec(), approved_spec(), claude_spec()] {
        let profile = render(&spec);
        let forms = parse(&profile).unwrap();
        let rules = rules(&forms);

        assert!(profile.starts_with("(version 1)\n"));
        assert_eq!(rules[0].operations, ["default"]);
        assert!(!rules[0].allow);
    }
}

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
fn without_network_no_rule_allows_a_socket() {
    let rules = rules_of(&allowed_spec());

    let networking = rules.iter().filter(|r| {
        r.allow
            && r.operations
                .iter()
                .any(|op| op.starts_with("network") || op.starts_with("system-socket"))
    });

    assert_eq!(networking.count(), 0);
}

#[test]
fn with_network_the_only_unix_socket_is_the_resolvers() {
    let spec = approved_spec();
    let profile = render(&spec);
    let rules = rules_of(&spec);

    assert!(spec.network);
    assert!(profile.contains("(allow network-outbound (remote ip))"));
    let unix_targets: Vec<_> = rules
        .iter()
        .filter(|r| r.allow && r.operations.iter().any(|op| op == "network-outbound"))
        .flat_map(|r| strings(&r.filters))
        .collect();
    assert_eq!(unix_targets, ["/private/var/run/mDNSResponder"]);
    assert!(!profile.contains("com.apple.SecurityServer"));
}

#[test]
fn a_path_cannot_break_out_of_its_string() {
    let evil = r#"/Users/me/x") (allow file-read* (subpath "/")) ; ("#;
    let newline = "/Users/me/line\nbreak\\";
    let mut spec = allowed_spec();
    spec.trees.push(Tree {
        path: PathBuf::from(evil),
        access: Access::ReadWrite,
    });
    spec.hidden.push(PathBuf::from(newline));
    let profile = render(&spec);
    let forms = parse(&profile).unwrap();
    let rules = rules(&forms);

    assert!(strings(&forms).iter().any(|s| s == evil));
    assert!(strings(&forms).iter().any(|s| s == newline));
    assert!(!allows(&rules, "file-read-data", "/Users/other/secret"));
    assert!(allows(&rules, "file-write-data", &format!("{evil}/file")));
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

#[test]
fn a_tree_path_with_a_nul_is_left_out_rather_than_cut_short() {
    use std::os::unix::ffi::OsStrExt as _;
    let mut spec = allowed_spec();
    spec.trees.push(Tree {
        path: PathBuf::from(std::ffi::OsStr::from_bytes(b"/Users\0/me/sub")),
        access: Access::Full,
    });
    let rules = rules_of(&spec);

    assert!(!allows(&rules, "file-write-data", "/Users/other/file"));
    assert!(!render(&spec).contains('\0'));
}
