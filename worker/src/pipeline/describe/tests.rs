//! Tests of the approval description: every fact that changes the effect is shown, the
//! task's text is shown whole and visibly, and what cannot be shown whole is refused.

use std::path::PathBuf;

use openclaw_shared::TaskId;

use super::*;
use crate::policy::Plan;
use crate::sandbox::{Access, Profile, SandboxSpec, Tree};

const NO_ARGS: &[String] = &[];

fn subject<'a>(spec: &'a TaskSpec, plan: &'a Plan) -> ApprovalSubject<'a> {
    ApprovalSubject {
        task_id: TaskId::new(),
        worker: "mac",
        spec,
        plan,
        timeout_ms: 30_000,
        shell: NO_ARGS,
        claude_bin: "/usr/local/bin/claude",
        claude_args: NO_ARGS,
        agent: None,
    }
}

fn command(text: &str) -> TaskSpec {
    TaskSpec::Command {
        command: text.into(),
        cwd: None,
    }
}

fn direct(argv: &[&str]) -> Plan {
    Plan {
        exec: Some(Exec::Direct {
            program: PathBuf::from("/bin").join(argv[0]),
            argv: argv.iter().map(|a| (*a).to_owned()).collect(),
        }),
        cwd: Some(PathBuf::from("/Users/me/Projects")),
        ..Plan::default()
    }
}

fn sandbox() -> SandboxSpec {
    SandboxSpec {
        profile: Profile::Allowed,
        trees: vec![Tree {
            path: "/Users/me/Projects".into(),
            access: Access::ReadWrite,
        }],
        hidden: Vec::new(),
        hidden_patterns: Vec::new(),
        read_only: Vec::new(),
        read_only_patterns: Vec::new(),
        network: false,
        tmpdir: "/tmp/task".into(),
    }
}

#[test]
fn a_direct_command_shows_its_size_first_then_where_how_long_and_how_confined() {
    let spec = command("rm -rf 'my build'");
    let plan = direct(&["rm", "-rf", "my build"]);

    let text = describe(&subject(&spec, &plan)).unwrap();

    assert_eq!(
        text,
        "command (17 bytes, 1 line), shown last:\n\
         in /Users/me/Projects · timeout 30s\n\
         NO SANDBOX: runs unconfined\n\
         1│ /bin/rm -rf 'my build'"
    );
}

#[test]
fn the_sandbox_and_the_extra_environment_are_shown() {
    let spec = command("git status");
    let mut plan = direct(&["git", "status"]);
    plan.env = vec![("GIT_CONFIG_NOSYSTEM".into(), "1".into())];
    plan.sandbox = Some(sandbox());

    let text = describe(&ApprovalSubject {
        timeout_ms: 90_500,
        ..subject(&spec, &plan)
    })
    .unwrap();

    assert!(
        text.contains("\nin /Users/me/Projects · timeout 90.5s\n"),
        "{text}"
    );
    assert!(text.contains("\nenv: GIT_CONFIG_NOSYSTEM=1\n"), "{text}");
    assert!(
        text.contains("\nsandbox `allowed`: writes only /Users/me/Projects; no network\n"),
        "{text}"
    );
    assert!(!text.contains("NO SANDBOX"));
}

#[test]
fn a_timeout_beyond_the_executors_bound_shows_the_bound() {
    let spec = command("ls");
    let plan = direct(&["ls"]);

    let text = describe(&ApprovalSubject {
        timeout_ms: u64::MAX,
        ..subject(&spec, &plan)
    })
    .unwrap();

    assert!(text.contains("timeout 604800s"), "{text}");
}

#[test]
fn shell_syntax_names_the_shell_and_numbers_every_line() {
    let script = "ls | wc -l\necho done";
    let spec = command(script);
    let plan = Plan {
        exec: Some(Exec::Shell {
            command: script.into(),
        }),
        ..Plan::default()
    };
    let shell = ["/bin/zsh".to_owned(), "-c".to_owned()];

    let text = describe(&ApprovalSubject {
        shell: &shell,
        ..subject(&spec, &plan)
    })
    .unwrap();

    assert!(
        text.starts_with(
            "shell command (20 bytes, 2 lines) through the shell /bin/zsh -c, shown last:\n"
        ),
        "{text}"
    );
    assert!(text.ends_with("\n1│ ls | wc -l\n2│ echo done"), "{text}");
}

#[test]
fn a_newline_inside_an_argument_cannot_fake_a_line_of_the_message() {
    let spec = command("echo");
    let plan = direct(&["echo", "hi\nsandbox `allowed`: no network"]);

    let text = describe(&subject(&spec, &plan)).unwrap();

    assert!(
        text.ends_with("1│ /bin/echo 'hi⟨LF⟩sandbox `allowed`: no network'"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 4, "{text}");
}

#[test]
fn bidi_overrides_and_zero_width_characters_are_spelled_out() {
    let spec = command("cat x");
    let plan = direct(&["cat", "\u{202e}txt.exe\u{200b}", "a\u{a0}b"]);

    let text = describe(&subject(&spec, &plan)).unwrap();

    assert!(
        text.ends_with("/bin/cat '⟨U+202E⟩txt.exe⟨U+200B⟩' 'a⟨U+00A0⟩b'"),
        "{text}"
    );
    assert!(!text.contains('\u{202e}') && !text.contains('\u{200b}'));
}

#[test]
fn argv0_other_than_the_programs_name_is_shown() {
    let spec = command("rm x");
    let plan = Plan {
        exec: Some(Exec::Direct {
            program: "/bin/busybox".into(),
            argv: vec!["rm".into(), "x".into()],
        }),
        ..Plan::default()
    };

    let text = describe(&subject(&spec, &plan)).unwrap();

    assert!(text.ends_with("1│ /bin/busybox (as rm) x"), "{text}");
}

#[test]
fn claude_shows_its_flags_session_and_a_warning_when_it_skips_permissions() {
    let spec = TaskSpec::Claude {
        prompt: "fix the tests\nthen commit".into(),
        session: Some(openclaw_shared::task::AgentSession::resume("abc-123")),
        cwd: None,
    };
    let plan = Plan::default();
    let flags = [
        "--allowedTools".to_owned(),
        "Read".to_owned(),
        "--dangerously-skip-permissions".to_owned(),
    ];

    let text = describe(&ApprovalSubject {
        claude_args: &flags,
        ..subject(&spec, &plan)
    })
    .unwrap();

    assert_eq!(
        text,
        "claude prompt (25 bytes, 2 lines), shown last:\n\
         runs /usr/local/bin/claude with flags --allowedTools Read \
         --dangerously-skip-permissions (SKIPS CLAUDE'S PERMISSION PROMPTS)\n\
         resumes session abc-123\n\
         in the default directory · timeout 30s\n\
         NO SANDBOX: runs unconfined\n\
         1│ fix the tests\n\
         2│ then commit"
    );
}

#[test]
fn an_agent_shows_its_program_argv_and_whether_it_starts_the_session() {
    let codex = crate::agents::AgentConfig {
        bin: "/usr/local/bin/codex".into(),
        args: ["exec", "{session}", "--", "{prompt}"]
            .map(String::from)
            .to_vec(),
        new_session: ["--session-id", "{id}"].map(String::from).to_vec(),
        resume_session: ["resume", "{id}"].map(String::from).to_vec(),
        tier: crate::policy::Verdict::Approve,
        network: true,
        state: Vec::new(),
        cwd: None,
    };
    let spec = TaskSpec::Agent {
        agent: "codex".into(),
        prompt: "--yolo $(id)".into(),
        session: Some(openclaw_shared::task::AgentSession::start("s-1")),
        cwd: None,
    };
    let plan = Plan::default();

    let text = describe(&ApprovalSubject {
        agent: Some(&codex),
        ..subject(&spec, &plan)
    })
    .unwrap();
    let missing = describe(&subject(&spec, &plan)).unwrap();

    assert_eq!(
        text,
        "agent codex prompt (12 bytes, 1 line), shown last:\n\
         runs /usr/local/bin/codex with arguments exec --session-id s-1 -- <prompt>\n\
         starts session s-1\n\
         in the default directory · timeout 30s\n\
         NO SANDBOX: runs unconfined\n\
         1│ --yolo $(id)"
    );
    assert!(missing.contains("this worker has no such agent: nothing runs"));
}

#[test]
fn a_command_too_long_to_show_whole_cannot_be_described() {
    let long = format!("echo {}", "x".repeat(MAX_SHOWN_TEXT_CHARS));
    let spec = command(&long);
    let plan = Plan {
        exec: Some(Exec::Shell {
            command: long.clone(),
        }),
        ..Plan::default()
    };

    let refused = describe(&subject(&spec, &plan)).unwrap_err();

    assert_eq!(
        refused,
        Unshowable::Text {
            what: "command",
            bytes: long.len()
        }
    );
    let reason = refused.to_string();
    assert!(reason.contains(&format!("is {} bytes, too long to show whole", long.len())));
    assert!(reason.ends_with("run it on the Mac"), "{reason}");
}

#[test]
fn characters_that_grow_when_spelled_out_count_as_shown() {
    // 200 characters sent, 1,800 shown.
    let hidden = "\u{200b}".repeat(200);
    let spec = command("echo");
    let plan = direct(&["echo", &hidden]);

    let refused = describe(&subject(&spec, &plan));

    assert!(
        matches!(refused, Err(Unshowable::Text { .. })),
        "{refused:?}"
    );
}

#[test]
fn a_long_prompt_or_edit_cannot_be_described_either() {
    let prompt = TaskSpec::Claude {
        prompt: "p".repeat(MAX_SHOWN_TEXT_CHARS + 1),
        session: None,
        cwd: None,
    };
    let edit = TaskSpec::FileEdit {
        path: "/x".into(),
        old_string: "o".repeat(600),
        new_string: "n".repeat(600),
        replace_all: false,
    };
    let plan = Plan::default();

    assert!(matches!(
        describe(&subject(&prompt, &plan)),
        Err(Unshowable::Text { what: "prompt", .. })
    ));
    assert!(matches!(
        describe(&subject(&edit, &plan)),
        Err(Unshowable::Text {
            what: "edit",
            bytes: 1200
        })
    ));
}

#[test]
fn a_write_shows_size_hash_and_resolved_path_not_content() {
    let spec = TaskSpec::FileWrite {
        path: "~/x".into(),
        content: "secret content".into(),
        encoding: ContentEncoding::Utf8,
    };
    let plan = Plan {
        paths: vec![PathBuf::from("/Users/me/x")],
        content_sha256: Some([0xab; 32]),
        ..Plan::default()
    };

    let text = describe(&subject(&spec, &plan)).unwrap();

    assert!(text.starts_with("write 14 bytes, SHA-256 abab"), "{text}");
    assert!(text.ends_with("to /Users/me/x"));
    assert!(!text.contains("secret content"));
}

#[test]
fn an_edit_numbers_both_texts_under_their_sizes() {
    let spec = TaskSpec::FileEdit {
        path: "~/x".into(),
        old_string: "a".into(),
        new_string: "b\nc".into(),
        replace_all: true,
    };
    let plan = Plan {
        paths: vec![PathBuf::from("/Users/me/x")],
        ..Plan::default()
    };

    let text = describe(&subject(&spec, &plan)).unwrap();

    assert_eq!(
        text,
        "edit /Users/me/x: replace every occurrence of (1 bytes, 1 line):\n1│ a\n\
         with (3 bytes, 2 lines):\n1│ b\n2│ c"
    );
}

#[test]
fn quoting_is_unambiguous() {
    assert_eq!(quote("plain-1.txt"), "plain-1.txt");
    assert_eq!(quote(""), "''");
    assert_eq!(quote("it's"), r"'it'\''s'");
    assert_eq!(quote("$(id)"), "'$(id)'");
}
