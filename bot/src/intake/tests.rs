//! `check`: one rule per field whichever adapter asked.

use std::time::Duration;

use openclaw_shared::client::{DEFAULT_CLAUDE_TIMEOUT_MS, DEFAULT_COMMAND_TIMEOUT_MS};
use serde_json::json;

use super::*;
use openclaw_shared::task::AgentSession;

fn limits() -> LimitsConfig {
    LimitsConfig {
        max_timeout_ms: 60_000,
        ..LimitsConfig::default()
    }
}

/// Checks `request` with `limits` and an allow-list of channel 42 only.
fn check(request: TaskRequest, limits: &LimitsConfig) -> Result<NewTask, IntakeError> {
    let channels = CallbackChannels::new(&[42], false);
    super::check(
        request,
        &Rules {
            limits,
            channels: &channels,
            callbacks: super::callback::CallbackRule::default(),
        },
    )
}

fn command(command: &str) -> TaskRequest {
    TaskRequest::new(
        TaskSpec::Command {
            command: command.into(),
            cwd: None,
        },
        Requester::ApiClient,
    )
}

#[test]
fn timeouts_default_per_kind() {
    let run = check(command("ls"), &limits()).unwrap();
    let claude = check(
        TaskRequest::new(
            TaskSpec::Claude {
                prompt: "hi".into(),
                session: None,
                cwd: None,
            },
            Requester::ApiClient,
        ),
        &LimitsConfig::default(),
    )
    .unwrap();

    assert_eq!(
        run.timeout,
        Duration::from_millis(DEFAULT_COMMAND_TIMEOUT_MS)
    );
    assert_eq!(
        claude.timeout,
        Duration::from_millis(DEFAULT_CLAUDE_TIMEOUT_MS)
    );
}

#[test]
fn one_timeout_rule_worded_in_the_unit_the_user_typed() {
    let with = |timeout| TaskRequest {
        timeout: Some(timeout),
        ..command("ls")
    };

    assert_eq!(
        check(with(RequestedTimeout::Millis(60_000)), &limits())
            .unwrap()
            .timeout,
        Duration::from_secs(60)
    );
    assert_eq!(
        check(with(RequestedTimeout::Seconds(60)), &limits())
            .unwrap()
            .timeout,
        Duration::from_secs(60)
    );
    let millis = check(with(RequestedTimeout::Millis(60_001)), &limits()).unwrap_err();
    let seconds = check(with(RequestedTimeout::Seconds(61)), &limits()).unwrap_err();
    let zero = check(with(RequestedTimeout::Seconds(0)), &limits()).unwrap_err();
    let huge = check(with(RequestedTimeout::Seconds(u64::MAX)), &limits()).unwrap_err();

    assert_eq!(
        millis.to_string(),
        "timeout must be between 1 and 60000 ms, got 60001"
    );
    assert_eq!(
        seconds.to_string(),
        "timeout must be between 1 and 60 seconds"
    );
    assert_eq!(zero.field, "timeout");
    assert_eq!(huge.field, "timeout");
}

#[test]
fn file_tasks_always_get_the_command_default() {
    let request = TaskRequest {
        timeout: Some(RequestedTimeout::Millis(1)),
        ..TaskRequest::new(
            TaskSpec::FileRead {
                path: "/tmp/x".into(),
            },
            Requester::ApiClient,
        )
    };

    let task = check(request, &limits()).unwrap();

    assert_eq!(
        task.timeout,
        Duration::from_millis(DEFAULT_COMMAND_TIMEOUT_MS)
    );
}

#[test]
fn empty_optional_fields_become_absent_and_a_missing_session_is_made_up() {
    let request = TaskRequest {
        worker: Some(String::new()),
        ..TaskRequest::new(
            TaskSpec::Claude {
                prompt: "hi".into(),
                session: Some(AgentSession::resume("")),
                cwd: Some(String::new()),
            },
            Requester::ApiClient,
        )
    };

    let task = check(request, &LimitsConfig::default()).unwrap();

    assert_eq!(task.target_worker, None);
    let TaskSpec::Claude {
        prompt,
        session: Some(session),
        cwd: None,
    } = task.spec
    else {
        panic!("{:?}", task.spec);
    };
    assert_eq!(prompt, "hi");
    assert!(session.new, "a made-up session is started, not resumed");
    assert!(session.id.parse::<uuid::Uuid>().is_ok(), "{}", session.id);
}

#[test]
fn an_agent_task_names_a_plain_agent_and_claude_stays_claude() {
    let agent = |name: &str| {
        TaskRequest::new(
            TaskSpec::Agent {
                agent: name.into(),
                prompt: "hi".into(),
                session: Some(AgentSession::resume("s-1")),
                cwd: None,
            },
            Requester::ApiClient,
        )
    };

    let codex = check(agent("codex"), &LimitsConfig::default()).unwrap();
    let claude = check(agent("claude"), &LimitsConfig::default()).unwrap();
    let refused = check(agent("../x"), &LimitsConfig::default()).unwrap_err();

    assert_eq!(codex.spec.agent(), Some("codex"));
    assert_eq!(codex.spec.session(), Some(&AgentSession::resume("s-1")));
    assert_eq!(claude.spec.kind(), openclaw_shared::TaskKind::Claude);
    assert_eq!(refused.field, "agent");
}

#[test]
fn a_session_id_the_worker_would_refuse_is_refused_here() {
    let request = TaskRequest::new(
        TaskSpec::Claude {
            prompt: "hi".into(),
            session: Some(AgentSession::resume(".")),
            cwd: None,
        },
        Requester::ApiClient,
    );

    let err = check(request, &LimitsConfig::default()).unwrap_err();

    assert_eq!(err.field, "sessionId");
}

#[test]
fn each_refusal_names_its_field() {
    let limits = LimitsConfig {
        max_command_bytes: 4,
        ..limits()
    };
    let cases = [
        (command(" "), "command", Problem::Required),
        (command("hello"), "command", Problem::TooLong { limit: 4 }),
        (command("a\0b"), "command", Problem::ContainsNul),
        (
            TaskRequest::new(
                TaskSpec::FileEdit {
                    path: "/x".into(),
                    old_string: String::new(),
                    new_string: "y".into(),
                    replace_all: false,
                },
                Requester::ApiClient,
            ),
            "old_string",
            Problem::Empty,
        ),
    ];
    for (request, field, problem) in cases {
        let err = check(request, &limits).unwrap_err();

        assert_eq!((err.field, err.problem), (field, problem));
    }
    let bad_worker = TaskRequest {
        worker: Some("mac book".into()),
        ..command("ls")
    };
    assert_eq!(check(bad_worker, &limits).unwrap_err().field, "worker");
}

#[test]
fn base64_content_is_made_canonical() {
    let request = TaskRequest::new(
        TaskSpec::FileWrite {
            path: "/x".into(),
            content: "aGk\n".into(),
            encoding: ContentEncoding::Base64,
        },
        Requester::ApiClient,
    );

    let task = check(request, &limits()).unwrap();

    assert!(matches!(task.spec, TaskSpec::FileWrite { content, .. } if content == "aGk="));
}

#[test]
fn a_named_channel_becomes_a_typed_channel_origin() {
    let request = TaskRequest {
        reply_to: ReplyTo::DiscordChannel("0042".into()),
        ..command("ls")
    };

    let task = check(request, &limits()).unwrap();

    assert_eq!(task.origin, Some(json!({"discord_channel_id": "42"})));
}

#[test]
fn a_malformed_channel_is_refused_and_an_empty_one_ignored() {
    let named = |raw: &str| TaskRequest {
        reply_to: ReplyTo::DiscordChannel(raw.into()),
        ..command("ls")
    };

    let err = check(named("0"), &limits()).unwrap_err();
    let empty = check(named(""), &limits()).unwrap();

    assert_eq!(err.field, "discordChannelId (callbackChannel)");
    assert_eq!(empty.origin, None);
}

#[test]
fn a_discord_channel_outside_the_allow_list_is_refused() {
    let request = TaskRequest {
        reply_to: ReplyTo::DiscordChannel("43".into()),
        ..command("ls")
    };

    let err = check(request, &limits()).unwrap_err();

    assert!(err.to_string().contains("does not post in"), "{err}");
}

#[test]
fn another_platforms_channel_key_is_stored_not_refused() {
    let request = TaskRequest {
        reply_to: ReplyTo::DiscordChannel("telegram:-100123".into()),
        ..command("ls")
    };

    let task = check(request, &limits()).unwrap();

    assert_eq!(
        task.origin,
        Some(json!({"channel_key": "telegram:-100123"}))
    );
}

#[test]
fn the_task_belongs_to_whoever_asked() {
    let from_api = check(command("ls"), &limits()).unwrap();
    let from_discord = check(
        TaskRequest {
            requester: Requester::DiscordUser(poise::serenity_prelude::UserId::new(42)),
            ..command("ls")
        },
        &limits(),
    )
    .unwrap();

    assert_eq!(from_api.owner.as_deref(), Some("api"));
    assert_eq!(from_discord.owner.as_deref(), Some("discord:42"));
}

#[test]
fn discord_commands_default_to_a_higher_priority_than_the_api_and_a_given_one_is_kept() {
    let discord = || {
        TaskRequest::new(
            TaskSpec::Command {
                command: "ls".into(),
                cwd: None,
            },
            Requester::DiscordUser(poise::serenity_prelude::UserId::new(42)),
        )
    };
    let given = TaskRequest {
        priority: Some(1),
        ..command("ls")
    };

    assert_eq!(
        check(discord(), &limits()).unwrap().priority,
        Priority::INTERACTIVE
    );
    assert_eq!(
        check(command("ls"), &limits()).unwrap().priority,
        Priority::API
    );
    assert_eq!(check(given, &limits()).unwrap().priority.get(), 1);
    for bad in [-1, 10] {
        let request = TaskRequest {
            priority: Some(bad),
            ..discord()
        };
        assert_eq!(check(request, &limits()).unwrap_err().field, "priority");
    }
}
