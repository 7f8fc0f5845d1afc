//! Tokens that are not quite right: no bearer scheme, a near miss, control characters,
//! the wrong role. Each is refused and nothing is queued or changed.

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{claim_with, create_with_header, per_worker_app, task_count, view, MAC, MINI};
use crate::helpers::{assert_error, success, within, TestApp, ADMIN, CLIENT, WORKER};

#[tokio::test]
async fn a_token_without_the_bearer_scheme_is_401_and_queues_nothing() {
    within(async {
        let app = TestApp::spawn().await;

        // The original accepted a bare token; we do not. Nor any other scheme or spacing.
        for header in [
            CLIENT.to_owned(),
            format!("Token {CLIENT}"),
            format!("Basic {CLIENT}"),
            format!("Bearer:{CLIENT}"),
            format!("Bearer  {CLIENT}"),
            format!("Bearer{CLIENT}"),
        ] {
            let answer = create_with_header(&app, &header).await;
            assert_error(&answer, StatusCode::UNAUTHORIZED, "unauthorized", "");
        }

        assert_eq!(task_count(&app).await, 0, "a refused request queued a task");
    })
    .await
}

#[tokio::test]
async fn the_scheme_is_case_insensitive_but_the_token_is_not() {
    within(async {
        let app = TestApp::spawn().await;

        // RFC 9110 §11.1: the auth scheme is case-insensitive. The token is compared exactly.
        let lower = create_with_header(&app, &format!("bearer {CLIENT}")).await;
        let upper = create_with_header(&app, &format!("BEARER {CLIENT}")).await;
        let shouted = create_with_header(&app, &format!("Bearer {}", CLIENT.to_uppercase())).await;

        // Whitespace after the value is HTTP framing, stripped before the app sees the
        // header (RFC 9110 §5.5), not part of the token: the exact token, so accepted.
        let trailing = raw_create(&app, &format!("Bearer {CLIENT} \t")).await;

        assert_eq!(lower.0, StatusCode::OK, "{}", lower.1);
        assert_eq!(upper.0, StatusCode::OK, "{}", upper.1);
        assert_error(&shouted, StatusCode::UNAUTHORIZED, "unauthorized", "");
        assert_eq!(trailing, "HTTP/1.1 200 OK");
        assert_eq!(task_count(&app).await, 3);
    })
    .await
}

#[tokio::test]
async fn a_near_miss_token_is_401_and_queues_nothing() {
    within(async {
        let app = TestApp::spawn().await;
        let flip = |at: usize| {
            let mut bytes = CLIENT.as_bytes().to_vec();
            bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
            String::from_utf8(bytes).unwrap()
        };
        let near_misses = [
            flip(0),
            flip(CLIENT.len() / 2),
            flip(CLIENT.len() - 1),
            CLIENT[..CLIENT.len() - 1].to_owned(),
            CLIENT[1..].to_owned(),
            format!("{CLIENT}x"),
            format!("{CLIENT} x"),
            format!("{CLIENT}{CLIENT}"),
            WORKER[..WORKER.len() - 1].to_owned(),
        ];

        for token in &near_misses {
            let answer = create_with_header(&app, &format!("Bearer {token}")).await;
            assert_error(&answer, StatusCode::UNAUTHORIZED, "unauthorized", "");
        }
        // A newline or other control character cannot travel inside a header value: the
        // HTTP layer refuses the request before the app sees it.
        for suffix in ["\n", "\r", "\x0b", "\0"] {
            let status = raw_create(&app, &format!("Bearer {CLIENT}{suffix}x")).await;
            assert_eq!(status, "HTTP/1.1 400 Bad Request", "{suffix:?}");
        }
        // Two spaces after the scheme put one inside the token.
        let spaced = raw_create(&app, &format!("Bearer  {CLIENT}")).await;
        assert_eq!(spaced, "HTTP/1.1 401 Unauthorized");

        assert_eq!(task_count(&app).await, 0, "a near miss queued a task");
    })
    .await
}

/// Sends `POST /tasks` with `authorization` as raw header bytes over plain TCP (reqwest
/// refuses control characters), and returns the response's status line.
async fn raw_create(app: &TestApp, authorization: &str) -> String {
    let addr = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = r#"{"command":"id"}"#;
    let request = format!(
        "POST /tasks HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {authorization}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    // The server may reset a connection it refused to parse; what arrived is enough.
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    text.lines().next().unwrap_or("<no response>").to_owned()
}

#[tokio::test]
async fn a_token_of_the_wrong_role_is_403_everywhere_and_changes_nothing() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("id").await;
        let claimed = app.claim("mac").await;
        let before = view(&app, id).await;
        let result = json!({"worker": "mac", "lease": claimed[0].lease, "outcome": success("x")});
        let heartbeat =
            json!({"worker": "mac", "leases": [{"task_id": id, "lease": claimed[0].lease}]});
        let claim = json!({"worker": "mac", "slots": 1, "wait_ms": 0});
        let result_path = format!("/v1/worker/tasks/{id}/result");
        let cancel_path = format!("/tasks/{id}/cancel");

        let mut answers = Vec::new();
        for token in [CLIENT, ADMIN] {
            answers.push(app.post("/v1/worker/claim", Some(token), &claim).await);
            answers.push(
                app.post("/v1/worker/heartbeat", Some(token), &heartbeat)
                    .await,
            );
            answers.push(app.post(&result_path, Some(token), &result).await);
        }
        for token in [WORKER, ADMIN] {
            answers.push(app.post(&cancel_path, Some(token), &json!({})).await);
        }
        // The admin token reads every task (owners.rs); only the worker token reads none.
        answers.push(app.get(&format!("/tasks/{id}"), Some(WORKER)).await);
        answers.push(app.get("/tasks", Some(WORKER)).await);
        for token in [CLIENT, WORKER] {
            answers.push(app.get("/admin/health", Some(token)).await);
        }

        for answer in &answers {
            assert_error(answer, StatusCode::FORBIDDEN, "forbidden", "role");
        }
        assert_eq!(
            view(&app, id).await,
            before,
            "a refused request changed the task"
        );
    })
    .await
}

#[tokio::test]
async fn a_worker_token_cannot_create_tasks() {
    within(async {
        let app = per_worker_app().await;
        let creates = [
            ("/tasks", json!({"command": "id"})),
            ("/files/read", json!({"path": "~/.ssh/id_rsa"})),
            ("/files/write", json!({"path": "/tmp/x", "content": "x"})),
            (
                "/files/edit",
                json!({"path": "/tmp/x", "old_string": "a", "new_string": "b"}),
            ),
            ("/claude", json!({"prompt": "cat ~/.ssh/id_rsa"})),
        ];

        for (path, body) in &creates {
            for token in [MAC, MINI] {
                let answer = app.post(path, Some(token), body).await;
                assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", "worker");
            }
        }

        assert_eq!(task_count(&app).await, 0, "a worker token queued a task");
    })
    .await
}

#[tokio::test]
async fn a_client_token_cannot_claim() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("id").await;
        let before = view(&app, id).await;

        let answer = claim_with(&app, CLIENT, "mac").await;

        assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", "client");
        assert_eq!(view(&app, id).await, before);
        assert_eq!(app.claim("mac").await[0].id, id, "the task is still there");
    })
    .await
}
