//! Attacks on `/mcp`, over raw HTTP (JSON-RPC as an MCP client sends it): without the client
//! token nothing reaches the MCP server and nothing is queued; with it, a tool call obeys the
//! same intake limits and creation rate as the HTTP API, and an oversized body is refused with
//! our error. Also: an older protocol's client, and a long call through the connection layer.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{read, within, TestApp, ADMIN, CLIENT, WORKER};

/// A `tools/call` of `tool` with `arguments`, as a JSON-RPC request.
pub fn tool_call(tool: &str, arguments: Value) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": { "name": tool, "arguments": arguments },
    })
}

/// `POST /mcp` with `body` and the `Authorization` header value `authorization`.
async fn post_mcp(app: &TestApp, authorization: Option<&str>, body: &Value) -> (StatusCode, Value) {
    let mut request = app
        .http
        .post(app.url("/mcp"))
        .header("Accept", "application/json, text/event-stream")
        .json(body);
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    read(request.send().await.unwrap()).await
}

/// Every task in the store, whoever owns it (the admin's list).
pub async fn all_tasks(app: &TestApp) -> Vec<Value> {
    let (status, list) = app.get("/tasks?limit=200", Some(ADMIN)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["tasks"].as_array().unwrap().clone()
}

#[tokio::test]
async fn mcp_without_the_client_token_is_refused_before_the_mcp_server_and_queues_nothing() {
    within(async {
        let app = TestApp::spawn().await;
        let call = tool_call("run_command", json!({ "command": "id", "wait_seconds": 0 }));
        let wrong = format!("Bearer {}x", &CLIENT[..CLIENT.len() - 1]);
        let worker = format!("Bearer {WORKER}");
        let admin = format!("Bearer {ADMIN}");
        let bare = CLIENT.to_owned();

        let refusals = [
            (None, StatusCode::UNAUTHORIZED, "unauthorized"),
            (
                Some(wrong.as_str()),
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            ),
            (
                Some(bare.as_str()),
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            ),
            (Some(worker.as_str()), StatusCode::FORBIDDEN, "forbidden"),
            (Some(admin.as_str()), StatusCode::FORBIDDEN, "forbidden"),
        ];
        for (authorization, status, code) in refusals {
            let (got, body) = post_mcp(&app, authorization, &call).await;

            // Our JSON error, not a JSON-RPC answer: rmcp never saw the request.
            assert_eq!(got, status, "{authorization:?}: {body}");
            assert_eq!(body["code"], code, "{body}");
            assert!(body.get("jsonrpc").is_none(), "{body}");
        }
        let (get_status, _) = app.get("/mcp", Some(WORKER)).await;
        let (client_get, body) = app.get("/mcp", Some(CLIENT)).await;

        assert_eq!(get_status, StatusCode::FORBIDDEN);
        assert_eq!(client_get, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body["code"], "method_not_allowed");
        assert!(all_tasks(&app).await.is_empty());
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn an_mcp_tool_call_with_the_client_token_queues_a_task_the_api_owns() {
    within(async {
        let app = TestApp::spawn().await;
        let call = tool_call("run_command", json!({ "command": "id", "wait_seconds": 0 }));

        let (status, answer) = post_mcp(&app, Some(&format!("Bearer {CLIENT}")), &call).await;

        assert_eq!(status, StatusCode::OK, "{answer}");
        let report = &answer["result"]["structuredContent"];
        assert_eq!(report["status"], "pending", "{answer}");
        let tasks = all_tasks(&app).await;
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0]["taskId"], report["taskId"]);
        assert_eq!(tasks[0]["owner"], "api");
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn an_mcp_task_obeys_the_same_intake_limits_as_the_api() {
    within(async {
        let app = TestApp::spawn().await;
        let limit = app.state.limits().max_command_bytes;
        let token = format!("Bearer {CLIENT}");
        let too_long = "x".repeat(limit + 1);
        let calls = [
            (
                tool_call("run_command", json!({ "command": too_long })),
                "field_too_long",
                "command",
            ),
            (
                tool_call(
                    "ask_claude",
                    json!({ "prompt": "hi", "session_id": "--evil" }),
                ),
                "invalid_field",
                "session_id",
            ),
            (
                tool_call(
                    "edit_file",
                    json!({ "path": "~/a", "old_string": "", "new_string": "b" }),
                ),
                "invalid_field",
                "old_string",
            ),
            (
                tool_call(
                    "write_file",
                    json!({ "path": "~/a", "content": "%%%", "encoding": "base64" }),
                ),
                "invalid_field",
                "content",
            ),
        ];

        for (call, code, field) in calls {
            let (status, answer) = post_mcp(&app, Some(&token), &call).await;

            // A tool error the model can read and fix, not a protocol failure.
            assert_eq!(status, StatusCode::OK, "{answer}");
            let result = &answer["result"];
            assert_eq!(result["isError"], true, "{answer}");
            assert_eq!(result["structuredContent"]["code"], code, "{answer}");
            assert_eq!(result["structuredContent"]["field"], field, "{answer}");
        }
        assert!(all_tasks(&app).await.is_empty());
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn an_mcp_body_over_its_limit_is_refused_with_our_error() {
    within(async {
        let app = TestApp::spawn_with(|config| {
            config.limits.max_content_bytes = 1024;
            config.limits.max_prompt_bytes = 1024;
            config.limits.max_command_bytes = 1024;
        })
        .await;
        let limit = openclaw_bot::mcp::body_limit(app.state.config());
        let call = tool_call(
            "write_file",
            json!({ "path": "~/a", "content": "x".repeat(limit) }),
        );

        let (status, body) = post_mcp(&app, Some(&format!("Bearer {CLIENT}")), &call).await;

        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        assert_eq!(body["code"], "payload_too_large");
        assert!(all_tasks(&app).await.is_empty());
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn mcp_creations_share_the_tokens_creation_rate_with_the_api() {
    within(async {
        let app = TestApp::spawn_with(|config| {
            config.rate_limit.enabled = true;
            config.rate_limit.creates_per_sec = 1;
            config.rate_limit.creates_burst = 2;
        })
        .await;
        let token = format!("Bearer {CLIENT}");
        let call = tool_call("run_command", json!({ "command": "id", "wait_seconds": 0 }));

        let mut refused = None;
        for _ in 0..4 {
            let (status, answer) = post_mcp(&app, Some(&token), &call).await;
            assert_eq!(status, StatusCode::OK, "{answer}");
            if answer["result"]["isError"] == true {
                refused = Some(answer["result"]["structuredContent"].clone());
                break;
            }
        }
        // The API's own create now finds the budget spent as well.
        let (api_status, _) = app
            .post("/tasks", Some(CLIENT), &json!({ "command": "id" }))
            .await;

        let refused = refused.expect("an MCP create past the burst was not refused");
        assert_eq!(refused["code"], "rate_limited", "{refused}");
        assert!(all_tasks(&app).await.len() <= 2);
        assert_eq!(api_status, StatusCode::TOO_MANY_REQUESTS);
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_client_of_an_earlier_protocol_initializes_and_lists_the_tools() {
    within(async {
        let app = TestApp::spawn().await;
        let token = format!("Bearer {CLIENT}");
        let initialize = json!({
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": { "name": "an-older-agent", "version": "1.0" },
            },
        });
        let list = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" });

        let (status, answer) = post_mcp(&app, Some(&token), &initialize).await;
        let initialized = app
            .http
            .post(app.url("/mcp"))
            .header("Authorization", &token)
            .header("Accept", "application/json, text/event-stream")
            .header("MCP-Protocol-Version", "2025-06-18")
            .json(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }))
            .send()
            .await
            .unwrap()
            .status();
        let (list_status, tools) = post_mcp(&app, Some(&token), &list).await;

        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(
            answer["result"]["protocolVersion"], "2025-06-18",
            "{answer}"
        );
        assert_eq!(answer["result"]["serverInfo"]["name"], "openclaw");
        assert!(initialized.is_success(), "{initialized}");
        assert_eq!(list_status, StatusCode::OK, "{tools}");
        assert_eq!(
            tools["result"]["tools"].as_array().unwrap().len(),
            8,
            "{tools}"
        );
        app.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_long_tool_call_outlasts_the_header_timeout_of_the_connection_layer() {
    within(async {
        let app = TestApp::spawn_with(|config| config.http.header_read_timeout_secs = 1).await;
        let token = format!("Bearer {CLIENT}");
        let create = tool_call("run_command", json!({ "command": "id", "wait_seconds": 0 }));
        let (_, created) = post_mcp(&app, Some(&token), &create).await;
        let id = created["result"]["structuredContent"]["taskId"].clone();
        let started = std::time::Instant::now();

        // No worker: the call waits its whole 3 s, three header timeouts long.
        let get = tool_call("get_task", json!({ "task_id": id, "wait_seconds": 3 }));
        let (status, answer) = post_mcp(&app, Some(&token), &get).await;

        assert_eq!(status, StatusCode::OK, "{answer}");
        assert!(started.elapsed() >= std::time::Duration::from_secs(3));
        assert_eq!(
            answer["result"]["structuredContent"]["status"], "pending",
            "{answer}"
        );
        app.stop().await;
    })
    .await;
}
