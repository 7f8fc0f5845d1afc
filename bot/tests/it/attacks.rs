//! The server side of the attack suite. Each test plays an attacker against a real bot over
//! real HTTP and asserts that the attack fails AND that nothing changed: the task's status
//! and result are as before, and nothing was queued. Rate limits: `rate_limits.rs`.

use openclaw_shared::worker::{ClaimResponse, ClaimedTask, LEASE_HEADER, WORKER_HEADER};
use openclaw_shared::{LeaseId, TaskId};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use openclaw_bot::config::WorkerTokenConfig;

use crate::helpers::{assert_error, success, within, TestApp, ADMIN, CLIENT, WORKER};

/// `mac`'s own worker token in [`per_worker_app`].
pub const MAC: &str = "oc_worker_mac_Vd3Kp8Qs1Xz6Wn4Ty9Bf2Lh7";
/// `mini`'s own worker token in [`per_worker_app`].
pub const MINI: &str = "oc_worker_mini_Rg5Jc0Mv7Ua2Ek8Ho3Yt6Pq1";

/// A bot with per-worker tokens for `mac` and `mini` and no shared worker token.
pub async fn per_worker_app() -> TestApp {
    TestApp::spawn_with(|config| {
        config.auth.worker_token = None;
        config.auth.workers = vec![
            WorkerTokenConfig {
                name: "mac".into(),
                token: SecretString::from(MAC),
            },
            WorkerTokenConfig {
                name: "mini".into(),
                token: SecretString::from(MINI),
            },
        ];
    })
    .await
}

/// A claim by `worker` with `token`, without waiting.
async fn claim_with(app: &TestApp, token: &str, worker: &str) -> (StatusCode, Value) {
    let body = json!({"worker": worker, "slots": 8, "wait_ms": 0});
    app.post("/v1/worker/claim", Some(token), &body).await
}

/// The tasks `worker` claims with `token`; the claim must succeed.
async fn claimed_with(app: &TestApp, token: &str, worker: &str) -> Vec<ClaimedTask> {
    let (status, answer) = claim_with(app, token, worker).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    serde_json::from_value::<ClaimResponse>(answer)
        .unwrap()
        .tasks
}

/// A result for `id` as `worker` with `token` and `lease`.
async fn report_with(
    app: &TestApp,
    token: &str,
    id: TaskId,
    worker: &str,
    lease: LeaseId,
    stdout: &str,
) -> (StatusCode, Value) {
    let body = json!({"worker": worker, "lease": lease, "outcome": success(stdout)});
    let path = format!("/v1/worker/tasks/{id}/result");
    app.post(&path, Some(token), &body).await
}

/// The client's view of task `id`, which must exist.
async fn view(app: &TestApp, id: TaskId) -> Value {
    let (status, view) = app.task(id, 0).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    view
}

/// How many tasks the queue holds.
async fn task_count(app: &TestApp) -> usize {
    let (status, list) = app.get("/tasks?limit=100", Some(CLIENT)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["tasks"].as_array().unwrap().len()
}

/// `POST /tasks` with a raw `Authorization` header value.
async fn create_with_header(app: &TestApp, authorization: &str) -> (StatusCode, Value) {
    let response = app
        .http
        .post(app.url("/tasks"))
        .header("Authorization", authorization)
        .json(&json!({"command": "id"}))
        .send()
        .await
        .unwrap();
    crate::helpers::read(response).await
}

#[tokio::test]
async fn a_forged_result_for_another_workers_task_is_403_and_changes_nothing() {
    within(async {
        let app = per_worker_app().await;
        let (id, _) = app
            .create("/tasks", json!({"command": "id", "worker": "mac"}))
            .await;
        let lease = claimed_with(&app, MAC, "mac").await[0].lease;
        let before = view(&app, id).await;

        // mini's (stolen) token, posing as mac, then under its own name with mac's lease.
        let posing = report_with(&app, MINI, id, "mac", lease, "forged").await;
        let own_name = report_with(&app, MINI, id, "mini", lease, "forged").await;

        assert_error(
            &posing,
            StatusCode::FORBIDDEN,
            "forbidden",
            "may not act as",
        );
        assert_error(&own_name, StatusCode::FORBIDDEN, "forbidden", "");
        assert_eq!(
            view(&app, id).await,
            before,
            "a forged result changed the task"
        );
        let (status, _) = report_with(&app, MAC, id, "mac", lease, "real").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(view(&app, id).await["stdout"], "real");
    })
    .await
}

#[tokio::test]
async fn a_result_without_the_lease_or_with_a_made_up_one_is_refused() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("id").await;
        app.claim("mac").await;
        let before = view(&app, id).await;
        let path = format!("/v1/worker/tasks/{id}/result");

        let no_lease = app
            .post(
                &path,
                Some(WORKER),
                &json!({"worker": "mac", "outcome": success("forged")}),
            )
            .await;
        let made_up = report_with(&app, WORKER, id, "mac", LeaseId::new(), "forged").await;

        assert_error(&no_lease, StatusCode::BAD_REQUEST, "invalid_json", "lease");
        assert_error(&made_up, StatusCode::CONFLICT, "lease_mismatch", "");
        assert_eq!(
            view(&app, id).await,
            before,
            "a refused result changed the task"
        );
    })
    .await
}

#[tokio::test]
async fn a_result_with_a_stale_lease_is_refused_and_changes_nothing() {
    within(async {
        let app = TestApp::spawn_with(|config| config.queue.lease_ttl_secs = 1).await;
        let id = app.submit_command("id").await;
        let claimed = app.claim("mac").await;
        let lease = claimed[0].lease;
        // Accepted, then no more heartbeats: the lease runs out and the sweeper marks the
        // task lost.
        app.heartbeat("mac", &[&claimed[0]]).await;
        let (_, lost) = app.task(id, 5_000).await;
        assert_eq!(lost["status"], "lost", "{lost}");

        let late = report_with(&app, WORKER, id, "mac", lease, "forged").await;

        assert_error(&late, StatusCode::CONFLICT, "conflict", "");
        assert_eq!(
            view(&app, id).await,
            lost,
            "a stale result changed the task"
        );
    })
    .await
}

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
            answers.push(app.get(&format!("/tasks/{id}"), Some(token)).await);
            answers.push(app.get("/tasks", Some(token)).await);
        }
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

#[tokio::test]
async fn a_per_worker_token_cannot_claim_as_another_worker() {
    within(async {
        let app = per_worker_app().await;
        let (id, _) = app
            .create("/tasks", json!({"command": "id", "worker": "mac"}))
            .await;
        let before = view(&app, id).await;

        let posing = claim_with(&app, MINI, "mac").await;
        let own = claimed_with(&app, MINI, "mini").await;

        assert_error(
            &posing,
            StatusCode::FORBIDDEN,
            "forbidden",
            "may not act as",
        );
        assert!(own.is_empty(), "mini got mac's task: {own:?}");
        assert_eq!(
            view(&app, id).await,
            before,
            "a refused claim changed the task"
        );
        assert_eq!(claimed_with(&app, MAC, "mac").await[0].id, id);
    })
    .await
}

#[tokio::test]
async fn a_per_worker_token_cannot_heartbeat_or_attach_as_another_worker() {
    within(async {
        let app = per_worker_app().await;
        let id = app.submit_command("screencapture").await;
        let lease = claimed_with(&app, MAC, "mac").await[0].lease;
        let before = view(&app, id).await;
        let heartbeat = json!({"worker": "mac", "leases": [{"task_id": id, "lease": lease}]});

        let beat = app
            .post("/v1/worker/heartbeat", Some(MINI), &heartbeat)
            .await;
        let response = app
            .http
            .put(app.url(&format!("/v1/worker/tasks/{id}/attachments/shot.png")))
            .bearer_auth(MINI)
            .header(WORKER_HEADER, "mac")
            .header(LEASE_HEADER, lease.to_string())
            .body(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR planted".to_vec())
            .send()
            .await
            .unwrap();
        let attach = crate::helpers::read(response).await;

        assert_error(&beat, StatusCode::FORBIDDEN, "forbidden", "may not act as");
        assert_error(
            &attach,
            StatusCode::FORBIDDEN,
            "forbidden",
            "may not act as",
        );
        assert_eq!(
            view(&app, id).await,
            before,
            "the task gained an attachment"
        );
    })
    .await
}

#[tokio::test]
async fn a_per_worker_token_cannot_report_approval_progress_as_another_worker() {
    within(async {
        let app = per_worker_app().await;
        let id = app.submit_command("rm -rf ~/build").await;
        let lease = claimed_with(&app, MAC, "mac").await[0].lease;
        let before = view(&app, id).await;
        let path = format!("/v1/worker/tasks/{id}/approval");

        // A fake approval request (to phish the owner's code), then a fake verdict.
        let mut answers = Vec::new();
        for state in [
            json!({"state": "requested", "fingerprint": "ABCD2345", "summary": "ls", "expires_at": 1}),
            json!({"state": "approved"}),
        ] {
            let body = json!({"worker": "mac", "lease": lease, "state": state});
            answers.push(app.post(&path, Some(MINI), &body).await);
        }

        for answer in &answers {
            assert_error(answer, StatusCode::FORBIDDEN, "forbidden", "may not act as");
        }
        assert_eq!(view(&app, id).await, before, "the task's approval state changed");
    })
    .await
}

#[tokio::test]
async fn an_oversized_body_is_413_and_queues_nothing() {
    within(async {
        // The smallest body limit the config allows with 1 KiB writes (base64 + 64 KiB).
        let app = TestApp::spawn_with(|config| {
            config.limits.max_content_bytes = 1024;
            config.http.body_limit_bytes = 70_000;
        })
        .await;
        let id = app.submit_command("id").await;
        let claimed = app.claim("mac").await;
        let before = view(&app, id).await;
        let huge = "A".repeat(200_000);

        let create = app
            .post("/tasks", Some(CLIENT), &json!({"command": huge}))
            .await;
        let write = app
            .post(
                "/files/write",
                Some(CLIENT),
                &json!({"path": "/tmp/x", "content": huge}),
            )
            .await;
        let result = app.report(&claimed[0], "mac", &success(&huge)).await;

        for answer in [&create, &write, &result] {
            assert_error(
                answer,
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "",
            );
        }
        assert_eq!(
            task_count(&app).await,
            1,
            "an oversized request queued a task"
        );
        assert_eq!(
            view(&app, id).await,
            before,
            "an oversized result was stored"
        );
    })
    .await
}

#[tokio::test]
async fn the_shared_worker_token_may_act_as_any_worker_the_documented_trade_off() {
    within(async {
        let app = TestApp::spawn().await;
        let (id, _) = app
            .create("/tasks", json!({"command": "id", "worker": "mac"}))
            .await;

        // One token for every Mac: whoever holds it may pose as any of them. Per-worker
        // tokens exist to close this; the README says so.
        let claimed = claimed_with(&app, WORKER, "mac").await;

        assert_eq!(claimed[0].id, id);
    })
    .await
}
