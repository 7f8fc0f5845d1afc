//! Claude (and agent) sessions over HTTP: every agent task names its session, a new one
//! when none was asked for, and the caller's recent sessions are listed.

use std::time::Duration;

use openclaw_bot::queue::NewTask;
use openclaw_shared::task::AgentSession;
use openclaw_shared::TaskSpec;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, within, TestApp, ADMIN, CLIENT};

fn session_of(spec: &TaskSpec) -> AgentSession {
    spec.session()
        .cloned()
        .expect("an agent task names its session")
}

#[tokio::test]
async fn claude_without_a_session_gets_a_new_one_that_the_next_request_continues() {
    within(async {
        let app = TestApp::spawn().await;

        let (_, first) = app.create("/claude", json!({"prompt": "one"})).await;
        let id = first["sessionId"].as_str().unwrap().to_owned();
        let (_, second) = app
            .create("/claude", json!({"prompt": "two", "sessionId": id}))
            .await;
        let (_, fresh) = app
            .create(
                "/claude",
                json!({"prompt": "three", "sessionId": "mine-1", "newSession": true}),
            )
            .await;
        let claimed = app.claim("mac").await;

        assert!(id.parse::<uuid::Uuid>().is_ok(), "{id}");
        assert_eq!(second["sessionId"], id.as_str());
        assert_eq!(fresh["sessionId"], "mine-1");
        assert_eq!(session_of(&claimed[0].spec), AgentSession::start(&id));
        assert_eq!(session_of(&claimed[1].spec), AgentSession::resume(&id));
        assert_eq!(session_of(&claimed[2].spec), AgentSession::start("mine-1"));
    })
    .await;
}

#[tokio::test]
async fn a_session_id_the_worker_would_refuse_is_a_400_and_nothing_is_queued() {
    within(async {
        let app = TestApp::spawn().await;

        let dot = app
            .post(
                "/claude",
                Some(CLIENT),
                &json!({"prompt": "hi", "sessionId": "."}),
            )
            .await;
        let flag = app
            .post(
                "/claude",
                Some(CLIENT),
                &json!({"prompt": "hi", "sessionId": "--dangerously-skip-permissions"}),
            )
            .await;

        assert_error(&dot, StatusCode::BAD_REQUEST, "invalid_field", "sessionId");
        assert_error(&flag, StatusCode::BAD_REQUEST, "invalid_field", "sessionId");
        assert!(app.claim("mac").await.is_empty());
    })
    .await;
}

#[tokio::test]
async fn agents_are_queued_by_name_and_codex_and_gemini_have_their_own_routes() {
    within(async {
        let app = TestApp::spawn().await;

        let (_, named) = app.create("/agents/aider", json!({"prompt": "hi"})).await;
        app.create("/codex", json!({"prompt": "hi", "sessionId": "c-1"}))
            .await;
        app.create("/gemini", json!({"prompt": "hi"})).await;
        let (_, claude) = app.create("/agents/claude", json!({"prompt": "hi"})).await;
        let bad = app
            .post("/agents/..%2Fetc", Some(CLIENT), &json!({"prompt": "hi"}))
            .await;
        let claimed = app.claim("mac").await;

        assert_eq!(named["message"], "Agent CLI task created");
        assert!(named["sessionId"].is_string());
        assert_eq!(claude["message"], "Claude CLI task created");
        let agents: Vec<Option<&str>> = claimed.iter().map(|c| c.spec.agent()).collect();
        assert_eq!(
            agents,
            [Some("aider"), Some("codex"), Some("gemini"), Some("claude")]
        );
        assert_eq!(session_of(&claimed[1].spec), AgentSession::resume("c-1"));
        assert!(matches!(claimed[3].spec, TaskSpec::Claude { .. }));
        assert_error(&bad, StatusCode::BAD_REQUEST, "invalid_field", "agent");
    })
    .await;
}

#[tokio::test]
async fn recent_sessions_list_the_latest_prompt_of_each_and_only_the_callers() {
    within(async {
        let app = TestApp::spawn().await;
        let (_, first) = app.create("/claude", json!({"prompt": "old one"})).await;
        let id = first["sessionId"].as_str().unwrap().to_owned();
        app.create("/claude", json!({"prompt": "other", "worker": "mac"}))
            .await;
        app.create(
            "/claude",
            json!({"prompt": "fix\nthe tests", "sessionId": id}),
        )
        .await;
        app.create("/codex", json!({"prompt": "not claude"})).await;
        // A Discord user's session, through the same queue.
        let theirs = NewTask {
            spec: TaskSpec::Claude {
                prompt: "someone else's".into(),
                session: Some(AgentSession::start("theirs-1")),
                cwd: None,
            },
            timeout: Duration::from_secs(60),
            target_worker: None,
            origin: None,
            owner: Some("discord:42".into()),
            priority: openclaw_bot::queue::Priority::default(),
            callback_url: None,
        };
        app.state.queue().enqueue(theirs).await.unwrap();

        let (status, recent) = app.get("/claude/recent?limit=5", Some(CLIENT)).await;
        let (_, one) = app.get("/claude/recent?limit=1", Some(CLIENT)).await;
        let (_, codex) = app.get("/agents/codex/recent", Some(CLIENT)).await;
        let (_, admin) = app.get("/claude/recent", Some(ADMIN)).await;
        let unauthenticated = app.get("/claude/recent", None).await;

        assert_eq!(status, StatusCode::OK);
        let sessions = recent["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 2, "{recent}");
        assert_eq!(sessions[0]["sessionId"], id.as_str());
        assert_eq!(sessions[0]["lastPrompt"], "fix the tests");
        assert_eq!(sessions[0]["agent"], "claude");
        assert_eq!(sessions[1]["worker"], "mac");
        assert_eq!(one["sessions"].as_array().unwrap().len(), 1);
        assert_eq!(codex["sessions"].as_array().unwrap().len(), 1);
        assert_eq!(admin["sessions"].as_array().unwrap().len(), 3);
        assert!(!recent.to_string().contains("theirs-1"));
        assert_eq!(unauthenticated.0, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn a_session_whose_first_task_never_ran_is_started_again_not_resumed() {
    within(async {
        let app = TestApp::spawn().await;
        let (_, first) = app.create("/claude", json!({"prompt": "one"})).await;
        let id = first["sessionId"].as_str().unwrap().to_owned();
        let opener = app.claim("mac").await.remove(0);
        let denied = openclaw_shared::TaskOutcome::new(openclaw_shared::OutcomeStatus::Denied);
        assert_eq!(app.report(&opener, "mac", &denied).await.0, StatusCode::OK);

        app.create("/claude", json!({"prompt": "two", "sessionId": id}))
            .await;
        let retried = app.claim("mac").await.remove(0);
        let ok = crate::helpers::success("hi");
        assert_eq!(app.report(&retried, "mac", &ok).await.0, StatusCode::OK);
        app.create("/claude", json!({"prompt": "three", "sessionId": id}))
            .await;
        let continued = app.claim("mac").await.remove(0);

        assert_eq!(session_of(&retried.spec), AgentSession::start(&id));
        assert_eq!(session_of(&continued.spec), AgentSession::resume(&id));
    })
    .await;
}

#[tokio::test]
async fn a_client_cannot_continue_or_take_over_another_users_session() {
    within(async {
        let app = TestApp::spawn().await;
        let theirs = NewTask {
            spec: TaskSpec::Claude {
                prompt: "my secret plans".into(),
                session: Some(AgentSession::start("theirs-1")),
                cwd: None,
            },
            timeout: Duration::from_secs(60),
            target_worker: None,
            origin: None,
            owner: Some("discord:42".into()),
            priority: openclaw_bot::queue::Priority::default(),
            callback_url: None,
        };
        app.state.queue().enqueue(theirs).await.unwrap();
        assert_eq!(app.claim("mac").await.len(), 1);

        let resumed = app
            .post(
                "/claude",
                Some(CLIENT),
                &json!({"prompt": "what did we discuss?", "sessionId": "theirs-1"}),
            )
            .await;
        let restarted = app
            .post(
                "/claude",
                Some(CLIENT),
                &json!({"prompt": "hi", "sessionId": "theirs-1", "newSession": true}),
            )
            .await;

        assert_error(&resumed, StatusCode::FORBIDDEN, "forbidden", "another user");
        assert_error(
            &restarted,
            StatusCode::FORBIDDEN,
            "forbidden",
            "another user",
        );
        assert!(app.claim("mac").await.is_empty(), "nothing was queued");
        let (_, recent) = app.get("/claude/recent", Some(CLIENT)).await;
        assert_eq!(recent["sessions"], json!([]));
    })
    .await;
}
