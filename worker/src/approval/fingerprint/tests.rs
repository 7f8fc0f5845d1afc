//! Tests of the approval fingerprint: stable, unambiguous, and changed by every input that
//! changes what the approved task does.

use super::*;
use crate::sandbox::Profile;
use openclaw_shared::task::AgentSession;

fn command(text: &str) -> TaskSpec {
    TaskSpec::Command {
        command: text.into(),
        cwd: None,
    }
}

fn claude(prompt: &str) -> TaskSpec {
    TaskSpec::Claude {
        prompt: prompt.into(),
        session: None,
        cwd: None,
    }
}

fn id() -> TaskId {
    "6f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11".parse().unwrap()
}

const SHELL: &[String] = &[];
const NO_ARGS: &[String] = &[];

/// The subject for `spec` and `plan` on worker `mac`, 30 s, no shell, plain `claude`.
fn subject<'a>(spec: &'a TaskSpec, plan: &'a Plan) -> ApprovalSubject<'a> {
    ApprovalSubject {
        task_id: id(),
        worker: "mac",
        spec,
        plan,
        timeout_ms: 30_000,
        shell: SHELL,
        claude_bin: "claude",
        claude_args: NO_ARGS,
        agent: None,
    }
}

fn fp(spec: &TaskSpec, plan: &Plan) -> Fingerprint {
    fingerprint(&subject(spec, plan))
}

fn sandbox() -> SandboxSpec {
    SandboxSpec {
        profile: Profile::Allowed,
        trees: vec![Tree {
            path: "/Users/me/src".into(),
            access: Access::ReadWrite,
        }],
        hidden: vec!["/Users/me/.ssh".into()],
        hidden_patterns: vec!["/Users/me/**/.env".into()],
        read_only: vec!["/Users/me/.zshrc".into()],
        read_only_patterns: vec!["/Users/me/**/.git/hooks/*".into()],
        network: false,
        tmpdir: "/tmp/openclaw-task-1".into(),
    }
}

fn with_sandbox(change: impl FnOnce(&mut SandboxSpec)) -> Plan {
    let mut spec = sandbox();
    change(&mut spec);
    Plan {
        sandbox: Some(spec),
        ..Plan::default()
    }
}

#[test]
fn fingerprint_is_eight_base32_characters_and_stable() {
    let first = fp(&command("ls"), &Plan::default());

    assert_eq!(first.as_str().len(), FINGERPRINT_LEN);
    assert_eq!(Fingerprint::parse(first.as_str()), Ok(first.clone()));
    assert_eq!(first, fp(&command("ls"), &Plan::default()));
}

#[test]
fn every_input_of_a_command_changes_the_fingerprint() {
    let ls = command("ls");
    let base_plan = with_sandbox(|_| {});
    let base = fp(&ls, &base_plan);
    let direct = |program: &str, argv: &[&str]| Plan {
        exec: Some(Exec::Direct {
            program: program.into(),
            argv: argv.iter().map(|a| (*a).to_owned()).collect(),
        }),
        ..base_plan.clone()
    };
    let plan = |change: fn(&mut Plan)| {
        let mut plan = base_plan.clone();
        change(&mut plan);
        plan
    };
    let shell_plan = plan(|p| {
        p.exec = Some(Exec::Shell {
            command: "ls".into(),
        });
    });
    let zsh = ["/bin/zsh".to_owned(), "-c".to_owned()];
    let bash = ["/bin/bash".to_owned(), "-c".to_owned()];
    let with_cwd_spec = TaskSpec::Command {
        command: "ls".into(),
        cwd: Some("/".into()),
    };

    let variants = [
        (
            "task id",
            fingerprint(&ApprovalSubject {
                task_id: TaskId::new(),
                ..subject(&ls, &base_plan)
            }),
        ),
        (
            "worker",
            fingerprint(&ApprovalSubject {
                worker: "mac2",
                ..subject(&ls, &base_plan)
            }),
        ),
        (
            "timeout",
            fingerprint(&ApprovalSubject {
                timeout_ms: 30_001,
                ..subject(&ls, &base_plan)
            }),
        ),
        ("command", fp(&command("ls "), &base_plan)),
        ("cwd as sent", fp(&with_cwd_spec, &base_plan)),
        (
            "kind",
            fp(&TaskSpec::FileRead { path: "ls".into() }, &base_plan),
        ),
        ("exec", fp(&ls, &direct("/bin/ls", &["ls"]))),
        ("program", fp(&ls, &direct("/tmp/ls", &["ls"]))),
        ("argv", fp(&ls, &direct("/bin/ls", &["ls", "-a"]))),
        ("cwd", fp(&ls, &plan(|p| p.cwd = Some("/tmp".into())))),
        ("paths", fp(&ls, &plan(|p| p.paths = vec!["/tmp".into()]))),
        (
            "content hash",
            fp(&ls, &plan(|p| p.content_sha256 = Some([7; 32]))),
        ),
        (
            "env name",
            fp(&ls, &plan(|p| p.env = vec![("A".into(), "1".into())])),
        ),
        (
            "env value",
            fp(&ls, &plan(|p| p.env = vec![("A".into(), "2".into())])),
        ),
        ("no sandbox", fp(&ls, &plan(|p| p.sandbox = None))),
        (
            "profile",
            fp(&ls, &with_sandbox(|s| s.profile = Profile::Approved)),
        ),
        (
            "tree path",
            fp(&ls, &with_sandbox(|s| s.trees[0].path = "/Users/me".into())),
        ),
        (
            "tree access",
            fp(&ls, &with_sandbox(|s| s.trees[0].access = Access::Full)),
        ),
        ("no trees", fp(&ls, &with_sandbox(|s| s.trees.clear()))),
        ("hidden", fp(&ls, &with_sandbox(|s| s.hidden.clear()))),
        (
            "hidden pattern",
            fp(&ls, &with_sandbox(|s| s.hidden_patterns[0].push('x'))),
        ),
        (
            "read-only",
            fp(
                &ls,
                &with_sandbox(|s| s.read_only[0] = "/Users/me/.bashrc".into()),
            ),
        ),
        (
            "read-only pattern",
            fp(&ls, &with_sandbox(|s| s.read_only_patterns.clear())),
        ),
        ("network", fp(&ls, &with_sandbox(|s| s.network = true))),
        (
            "tmpdir",
            fp(
                &ls,
                &with_sandbox(|s| s.tmpdir = "/tmp/openclaw-task-2".into()),
            ),
        ),
    ];
    let through = |shell: &[String]| {
        fingerprint(&ApprovalSubject {
            shell,
            ..subject(&ls, &shell_plan)
        })
    };

    let unchanged: Vec<&str> = variants
        .iter()
        .filter(|(_, variant)| variant == &base)
        .map(|(what, _)| *what)
        .collect();
    assert!(unchanged.is_empty(), "not covered: {unchanged:?}");
    assert_ne!(
        through(&zsh),
        through(&bash),
        "the shell did not change the fingerprint"
    );
}

#[test]
fn claudes_flags_program_and_session_change_the_fingerprint() {
    let prompt = claude("fix the tests");
    let plan = Plan::default();
    let base = fp(&prompt, &plan);
    let skip = ["--dangerously-skip-permissions".to_owned()];
    let resumed = TaskSpec::Claude {
        prompt: "fix the tests".into(),
        session: Some(AgentSession::resume("abc")),
        cwd: None,
    };
    let started = TaskSpec::Claude {
        prompt: "fix the tests".into(),
        session: Some(AgentSession::start("abc")),
        cwd: None,
    };

    let variants = [
        (
            "flags",
            fingerprint(&ApprovalSubject {
                claude_args: &skip,
                ..subject(&prompt, &plan)
            }),
        ),
        (
            "program",
            fingerprint(&ApprovalSubject {
                claude_bin: "/tmp/claude",
                ..subject(&prompt, &plan)
            }),
        ),
        ("session", fp(&resumed, &plan)),
        ("new session", fp(&started, &plan)),
        ("prompt", fp(&claude("fix the tests!"), &plan)),
    ];

    let unchanged: Vec<&str> = variants
        .iter()
        .filter(|(_, variant)| variant == &base)
        .map(|(what, _)| *what)
        .collect();
    assert!(unchanged.is_empty(), "not covered: {unchanged:?}");
}

#[test]
fn field_boundaries_are_unambiguous() {
    // "ab" + "c" and "a" + "bc" would collide under plain concatenation.
    let a = fingerprint(&ApprovalSubject {
        worker: "ab",
        ..subject(&command("c"), &Plan::default())
    });
    let b = fingerprint(&ApprovalSubject {
        worker: "a",
        ..subject(&command("bc"), &Plan::default())
    });
    let argv = |argv: &[&str]| Plan {
        exec: Some(Exec::Direct {
            program: "/bin/echo".into(),
            argv: argv.iter().map(|a| (*a).to_owned()).collect(),
        }),
        ..Plan::default()
    };
    let env = |pairs: &[(&str, &str)]| Plan {
        env: pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        ..Plan::default()
    };

    assert_ne!(a, b);
    assert_ne!(
        fp(&command("echo"), &argv(&["a b"])),
        fp(&command("echo"), &argv(&["a", "b"]))
    );
    assert_ne!(
        fp(&command("x"), &env(&[("A", "1B=2")])),
        fp(&command("x"), &env(&[("A", "1"), ("B", "2")]))
    );
}

#[test]
fn write_content_is_covered() {
    let write = |content: &str| TaskSpec::FileWrite {
        path: "/tmp/x".into(),
        content: content.into(),
        encoding: ContentEncoding::Utf8,
    };

    assert_ne!(
        fp(&write("safe"), &Plan::default()),
        fp(&write("evil"), &Plan::default())
    );
}

#[test]
fn typed_fingerprints_parse_case_insensitively_and_bad_ones_do_not() {
    assert_eq!(
        Fingerprint::parse(" abcd2345 ").unwrap().as_str(),
        "ABCD2345"
    );
    for bad in [
        "",
        "ABCD234",
        "ABCD23456",
        "ABCD2341",
        "ABCD-345",
        "ÄBCD2345",
    ] {
        assert_eq!(Fingerprint::parse(bad), Err(BadFingerprint), "{bad}");
    }
}

#[test]
fn an_agents_program_argv_and_session_change_the_fingerprint() {
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
    let task = |session: AgentSession| TaskSpec::Agent {
        agent: "codex".into(),
        prompt: "fix the tests".into(),
        session: Some(session),
        cwd: None,
    };
    let plan = Plan::default();
    let resumed = task(AgentSession::resume("s-1"));
    let with = |spec: &TaskSpec, agent: &crate::agents::AgentConfig| {
        fingerprint(&ApprovalSubject {
            agent: Some(agent),
            ..subject(spec, &plan)
        })
    };
    let base = with(&resumed, &codex);
    let other_bin = crate::agents::AgentConfig {
        bin: "/tmp/codex".into(),
        ..codex.clone()
    };
    let other_flags = crate::agents::AgentConfig {
        resume_session: ["--yolo", "resume", "{id}"].map(String::from).to_vec(),
        ..codex.clone()
    };

    let variants = [
        ("program", with(&resumed, &other_bin)),
        ("flags", with(&resumed, &other_flags)),
        (
            "new session",
            with(&task(AgentSession::start("s-1")), &codex),
        ),
        (
            "session id",
            with(&task(AgentSession::resume("s-2")), &codex),
        ),
        ("agent missing", fp(&resumed, &plan)),
    ];

    for (what, changed) in variants {
        assert_ne!(changed, base, "{what} did not change the fingerprint");
    }
}
