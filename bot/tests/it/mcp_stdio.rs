//! `openclaw-bot mcp-stdio`, the real binary: only the protocol on stdout, logs on stderr
//! (never the token), and a bot it cannot reach reported as a tool error.

use serde_json::{json, Value};

use crate::helpers::{within, TestApp, CLIENT};
use crate::mcp::{all_tasks, tool_call};

/// Runs `openclaw-bot mcp-stdio --url base` with the client token in its environment, writes
/// `requests` (one JSON-RPC message a line), reads `answers` lines from its stdout, then
/// closes stdin: the answers, parsed, and everything it wrote to stderr. Fails if anything
/// else reaches stdout or the process fails.
async fn stdio_session(base: String, requests: Vec<Value>, answers: usize) -> (Vec<Value>, String) {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;

    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        // The token only in the environment, as the README says; debug logs on.
        let env = [("OPENCLAW_TOKEN", CLIENT), ("RUST_LOG", "debug")];
        let mut child =
            crate::helpers::bot_binary(dir.path(), &["mcp-stdio", "--url", &base], &env)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        for request in &requests {
            writeln!(stdin, "{request}").unwrap();
        }
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let stdout: Vec<Value> = (0..answers)
            .map(|_| serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap())
            .collect();
        // Closing stdin ends the session; the rest of stdout must be empty.
        drop(stdin);
        let rest: Vec<String> = lines.map(Result::unwrap).collect();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{:?}", output.status);
        assert!(rest.is_empty(), "{rest:?}");
        (stdout, String::from_utf8_lossy(&output.stderr).into_owned())
    })
    .await
    .unwrap()
}

fn stdio_requests(call: Value) -> Vec<Value> {
    vec![
        json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": { "name": "desktop", "version": "1" } } }),
        json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }),
        call,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_stdio_writes_only_the_protocol_to_stdout_and_logs_to_stderr() {
    within(async {
        let app = TestApp::spawn().await;
        let call = tool_call("run_command", json!({ "command": "id", "wait_seconds": 0 }));

        let (answers, stderr) = stdio_session(app.base.clone(), stdio_requests(call), 2).await;

        assert_eq!(answers[0]["id"], 0);
        assert_eq!(answers[0]["result"]["serverInfo"]["name"], "openclaw");
        assert_eq!(answers[1]["id"], 1);
        assert_eq!(
            answers[1]["result"]["structuredContent"]["status"],
            "pending"
        );
        assert!(stderr.contains("MCP over stdio: serving"), "{stderr}");
        assert!(!stderr.contains(CLIENT), "the token reached the log");
        assert_eq!(all_tasks(&app).await.len(), 1);
        app.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_stdio_reports_an_unreachable_bot_as_a_tool_error() {
    within(async {
        // A port nobody listens on: bound, then let go.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let call = tool_call("list_tasks", json!({}));

        let (answers, _) = stdio_session(base, stdio_requests(call), 2).await;

        let result = &answers[1]["result"];
        assert_eq!(result["isError"], true, "{result}");
        assert_eq!(
            result["structuredContent"]["code"], "unavailable",
            "{result}"
        );
    })
    .await;
}
