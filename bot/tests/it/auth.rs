//! Tokens and roles: 401 without a valid bearer token, 403 for the wrong role, public health.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{read, within, TestApp, ADMIN, CLIENT, WORKER};

/// Sends `method path` with a raw `Authorization` header value (or none).
async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    authorization: Option<&str>,
) -> (StatusCode, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = app
        .http
        .request(method, app.url(path))
        .json(&json!({"command": "id"}));
    if let Some(value) = authorization {
        req = req.header("Authorization", value);
    }
    read(req.send().await.unwrap()).await
}

#[tokio::test]
async fn requests_without_a_valid_bearer_token_are_401_json() {
    within(async {
        let app = TestApp::spawn().await;
        let near_miss = format!("Bearer {}x", &CLIENT[..CLIENT.len() - 1]);
        let bare = CLIENT.to_owned();
        let shouted = format!("Bearer {}", CLIENT.to_uppercase());
        let basic = format!("Basic {CLIENT}");
        let headers = [
            None,
            Some(bare.as_str()),
            Some(basic.as_str()),
            Some(near_miss.as_str()),
            Some(shouted.as_str()),
            Some("Bearer "),
        ];
        let routes = [
            ("POST", "/tasks"),
            ("GET", "/tasks"),
            ("GET", "/tasks/6f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11"),
            ("POST", "/v1/worker/claim"),
            ("GET", "/admin/health"),
        ];

        for (method, path) in routes {
            for header in headers {
                let answer = send(&app, method, path, header).await;
                assert_eq!(
                    answer,
                    (
                        StatusCode::UNAUTHORIZED,
                        json!({"error": "Unauthorized", "code": "unauthorized"})
                    ),
                    "{method} {path} with {header:?}"
                );
            }
        }
        assert!(
            app.claim("mac").await.is_empty(),
            "a refused request queued a task"
        );
    })
    .await
}

#[tokio::test]
async fn a_token_of_the_wrong_role_is_403_and_does_nothing() {
    within(async {
        let app = TestApp::spawn().await;
        let id = app.submit_command("true").await;
        let claimed = app.claim("mac").await;
        let bearer = |token: &str| format!("Bearer {token}");

        let worker_creates = send(&app, "POST", "/tasks", Some(&bearer(WORKER))).await;
        let admin_creates = send(&app, "POST", "/tasks", Some(&bearer(ADMIN))).await;
        let worker_reads = send(&app, "GET", &format!("/tasks/{id}"), Some(&bearer(WORKER))).await;
        let client_claims = send(&app, "POST", "/v1/worker/claim", Some(&bearer(CLIENT))).await;
        let client_reports = app
            .post(
                &format!("/v1/worker/tasks/{id}/result"),
                Some(CLIENT),
                &json!({"worker": "mac", "lease": claimed[0].lease, "outcome": {"status": "succeeded"}}),
            )
            .await;
        let client_admin = send(&app, "GET", "/admin/health", Some(&bearer(CLIENT))).await;
        let worker_admin = send(&app, "GET", "/admin/health", Some(&bearer(WORKER))).await;

        for answer in [&worker_creates, &admin_creates, &worker_reads, &client_claims, &client_reports, &client_admin, &worker_admin] {
            assert_eq!(answer.0, StatusCode::FORBIDDEN, "{}", answer.1);
            assert_eq!(answer.1["code"], "forbidden");
        }
        let (_, list) = app.get("/tasks", Some(CLIENT)).await;
        assert_eq!(list["tasks"].as_array().unwrap().len(), 1, "a refused request queued a task");
        let (_, view) = app.task(id, 0).await;
        assert_eq!(view["status"], "running", "a refused report changed the task");
    })
    .await
}

#[tokio::test]
async fn health_is_public_and_says_nothing_else() {
    within(async {
        let app = TestApp::spawn().await;
        app.submit_command("true").await;

        let answer = app.get("/health", None).await;

        assert_eq!(
            answer,
            (
                StatusCode::OK,
                json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
            )
        );
    })
    .await
}

#[tokio::test]
async fn admin_health_reports_queue_workers_database_and_discord() {
    within(async {
        let app = TestApp::spawn().await;
        app.submit_command("true").await;
        app.submit_command("true").await;
        app.claim_waiting("mac", 0).await;
        app.submit_command("true").await;

        let (status, health) = app.get("/admin/health", Some(ADMIN)).await;

        assert_eq!(status, StatusCode::OK);
        assert_eq!(health["status"], "ok");
        assert_eq!(health["database"], "ok");
        assert_eq!(health["discord_state"], "disabled");
        assert_eq!(health["queue_depth"]["queued"], 1);
        assert_eq!(health["queue_depth"]["running"], 2);
        assert_eq!(health["queue_depth"]["lost"], 0);
        assert_eq!(health["workers"][0]["name"], "mac");
        assert_eq!(health["workers"][0]["running"], 2);
        assert!(health["workers"][0]["last_seen"].as_u64().unwrap() > 0);
        assert!(health["uptime_secs"].is_u64());
    })
    .await
}

#[tokio::test]
async fn admin_health_shows_the_sandbox_each_worker_reports() {
    within(async {
        let app = TestApp::spawn().await;
        let confined = json!({"worker": "mac", "leases": [],
            "sandbox": {"enforced": true, "detail": "landlock (ABI 7) + seccomp"}});
        let bare = json!({"worker": "old", "slots": 1, "wait_ms": 0,
            "sandbox": {"enforced": false, "detail": "unavailable: no Landlock"}});
        let forged = json!({"worker": "mac", "leases": [],
            "sandbox": {"enforced": true, "detail": "ok\n🟢 `impostor`"}});

        let (beat, _) = app
            .post("/v1/worker/heartbeat", Some(WORKER), &confined)
            .await;
        let (claim, _) = app.post("/v1/worker/claim", Some(WORKER), &bare).await;
        let (refused, body) = app
            .post("/v1/worker/heartbeat", Some(WORKER), &forged)
            .await;
        app.claim("legacy").await;
        let (_, health) = app.get("/admin/health", Some(ADMIN)).await;

        assert_eq!((beat, claim), (StatusCode::OK, StatusCode::OK));
        assert_eq!(refused, StatusCode::BAD_REQUEST);
        assert_eq!(body["code"], "invalid_field");
        let worker = |name: &str| {
            health["workers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|w| w["name"] == name)
                .cloned()
                .unwrap()
        };
        assert_eq!(
            worker("mac")["sandbox"]["detail"],
            "landlock (ABI 7) + seccomp"
        );
        assert_eq!(worker("old")["sandbox"]["enforced"], false);
        assert!(worker("legacy")["sandbox"].is_null());
    })
    .await
}
