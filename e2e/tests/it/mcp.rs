//! MCP end to end: rmcp's own client drives the bot's `/mcp` (and a real `mcp-stdio` child)
//! against the real bot and the real worker binary. Every tool runs on the worker, results
//! and waits read as an agent reads them, and an approval-held task says whose job
//! approving is. The worker runs under [`crate::helpers::OPEN_POLICY`]: simple commands run,
//! shell syntax waits for the owner's approval.

use std::collections::BTreeSet;
use std::fs;

use serde_json::{json, Value};

use crate::helpers::{
    call, is_error, mcp_over_http, mcp_over_stdio, start_open_stack, structured, text_of,
    unique_sleep, within_limit, write_script, McpClient, WorkerProcess,
};

/// Every tool the server offers; approving is deliberately not one of them.
const TOOLS: [&str; 8] = [
    "ask_claude",
    "cancel_task",
    "edit_file",
    "get_task",
    "list_tasks",
    "read_file",
    "run_command",
    "write_file",
];

fn task_id(report: &Value) -> String {
    report["taskId"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tools_are_listed_with_described_parameters_and_none_approves() {
    within_limit(async {
        let (_dirs, bot) = start_open_stack().await;
        let client = mcp_over_http(&bot).await;

        let tools = client.list_all_tools().await.unwrap();

        let names: BTreeSet<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
        assert_eq!(names, TOOLS.into_iter().collect());
        for tool in &tools {
            let description = tool.description.as_deref().unwrap_or("");
            assert!(description.len() > 60, "{}: {description}", tool.name);
            let properties = tool.input_schema["properties"].as_object().unwrap();
            for (field, schema) in properties {
                assert!(
                    schema.get("description").is_some(),
                    "{}.{field} has no description",
                    tool.name
                );
            }
        }
        let info = client.peer_info().unwrap();
        let instructions = info.instructions.clone().unwrap_or_default();
        assert!(instructions.contains("cannot approve"), "{instructions}");
        client.cancel().await.unwrap();
        bot.stop().await;
    })
    .await;
}

/// How a test reaches the tools: the bot's `/mcp`, or a real `mcp-stdio` child.
#[derive(Debug, Clone, Copy)]
enum Transport {
    Http,
    Stdio,
}

async fn connect(transport: Transport, bot: &crate::helpers::TestBot) -> McpClient {
    match transport {
        Transport::Http => mcp_over_http(bot).await,
        Transport::Stdio => mcp_over_stdio(bot).await,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_and_files_run_end_to_end_over_mcp() {
    commands_and_files_run_end_to_end(Transport::Http).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_and_files_run_end_to_end_over_stdio() {
    commands_and_files_run_end_to_end(Transport::Stdio).await;
}

async fn commands_and_files_run_end_to_end(transport: Transport) {
    within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let echo = dirs.home.join("echo.sh");
        write_script(&echo, "#!/bin/sh\necho \"out:$1\"\necho err >&2\nexit 3\n");
        let worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        let client = connect(transport, &bot).await;

        let run = call(
            &client,
            "run_command",
            json!({ "command": format!("{} hello", echo.display()), "timeout_seconds": 10 }),
        )
        .await;
        let write = call(
            &client,
            "write_file",
            json!({ "path": "~/notes/plan.txt", "content": "one\ntwo\n" }),
        )
        .await;
        let edit = call(
            &client,
            "edit_file",
            json!({ "path": "~/notes/plan.txt", "old_string": "two", "new_string": "2" }),
        )
        .await;
        let missed = call(
            &client,
            "edit_file",
            json!({ "path": "~/notes/plan.txt", "old_string": "zzz", "new_string": "y" }),
        )
        .await;
        let read = call(&client, "read_file", json!({ "path": "~/notes/plan.txt" })).await;

        let report = structured(&run);
        assert_eq!(report["status"], "failed", "{}", text_of(&run));
        assert_eq!(report["result"]["exitCode"], 3);
        assert_eq!(report["result"]["stdout"], "out:hello\n");
        assert_eq!(report["result"]["stderr"], "err\n");
        let text = text_of(&run);
        assert!(text.contains("Exit code: 3."), "{text}");
        assert!(text.contains("--- stdout ---\nout:hello"), "{text}");
        assert_eq!(
            structured(&write)["status"],
            "succeeded",
            "{}",
            text_of(&write)
        );
        assert_eq!(
            structured(&edit)["status"],
            "succeeded",
            "{}",
            text_of(&edit)
        );
        assert_eq!(structured(&missed)["status"], "failed");
        assert!(text_of(&missed).contains("old_string not found"));
        assert_eq!(structured(&read)["result"]["stdout"], "one\n2\n");
        assert_eq!(
            fs::read_to_string(dirs.home.join("notes/plan.txt")).unwrap(),
            "one\n2\n"
        );
        client.cancel().await.unwrap();
        worker.stop().await;
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_claude_hands_the_prompt_and_session_to_the_cli() {
    ask_claude_hands_over(Transport::Http).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_claude_over_stdio_hands_the_prompt_and_session_to_the_cli() {
    ask_claude_hands_over(Transport::Stdio).await;
}

async fn ask_claude_hands_over(transport: Transport) {
    within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let claude = dirs.home.join("fake-claude");
        write_script(
            &claude,
            "#!/bin/sh\nfor a in \"$@\"; do printf 'arg:%s\\n' \"$a\"; done\n",
        );
        let worker = WorkerProcess::spawn(
            &bot.url(),
            &dirs.home,
            &[("OPENCLAW_WORKER_CLAUDE_BIN", claude.to_str().unwrap())],
        );
        let client = connect(transport, &bot).await;
        let prompt = "summarise $(touch pwned) the notes";

        let asked = call(
            &client,
            "ask_claude",
            json!({ "prompt": prompt, "session_id": "sess-mcp-1", "wait_seconds": 30 }),
        )
        .await;

        let report = structured(&asked);
        assert_eq!(report["status"], "succeeded", "{}", text_of(&asked));
        assert_eq!(report["kind"], "claude");
        assert_eq!(report["sessionId"], "sess-mcp-1");
        let stdout = report["result"]["stdout"].as_str().unwrap();
        assert!(stdout.contains(&format!("arg:{prompt}\n")), "{stdout}");
        assert!(stdout.contains("arg:sess-mcp-1\n"), "{stdout}");
        assert!(text_of(&asked).contains("Claude session: sess-mcp-1"));
        assert!(!dirs.home.join("pwned").exists());
        client.cancel().await.unwrap();
        worker.stop().await;
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_waits_for_the_result_and_list_and_cancel_see_the_tokens_tasks() {
    within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let slow = dirs.home.join("slow.sh");
        write_script(&slow, "#!/bin/sh\nsleep 1\necho slow done\n");
        let sleeper = dirs.home.join("sleeper.sh");
        write_script(&sleeper, "#!/bin/sh\nsleep \"$1\"\n");
        let worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        let client = mcp_over_http(&bot).await;

        let started = call(
            &client,
            "run_command",
            json!({ "command": slow.display().to_string(), "wait_seconds": 0 }),
        )
        .await;
        let id = task_id(&structured(&started));
        let waited = call(&client, "get_task", json!({ "task_id": id, "wait_seconds": 30 })).await;
        let long = call(
            &client,
            "run_command",
            json!({ "command": format!("{} {}", sleeper.display(), unique_sleep()), "wait_seconds": 0 }),
        )
        .await;
        let long_id = task_id(&structured(&long));
        let listed = call(&client, "list_tasks", json!({ "limit": 10 })).await;
        let cancelled = call(&client, "cancel_task", json!({ "task_id": long_id })).await;
        let ended = call(
            &client,
            "get_task",
            json!({ "task_id": long_id, "wait_seconds": 30 }),
        )
        .await;
        let unknown = call(&client, "get_task", json!({ "task_id": "not-a-task" })).await;

        assert!(!structured(&started)["finished"].as_bool().unwrap());
        assert!(text_of(&started).contains("call get_task"), "{}", text_of(&started));
        assert_eq!(structured(&waited)["status"], "succeeded", "{}", text_of(&waited));
        assert_eq!(structured(&waited)["result"]["stdout"], "slow done\n");
        let tasks = structured(&listed)["tasks"].as_array().unwrap().clone();
        let ids: Vec<&str> = tasks.iter().map(|t| t["taskId"].as_str().unwrap()).collect();
        assert_eq!(ids, [long_id.as_str(), id.as_str()]);
        assert!(!is_error(&cancelled), "{}", text_of(&cancelled));
        assert_eq!(structured(&ended)["status"], "cancelled", "{}", text_of(&ended));
        assert!(is_error(&unknown));
        assert_eq!(structured(&unknown)["code"], "invalid_field");
        assert_eq!(structured(&unknown)["field"], "task_id");
        client.cancel().await.unwrap();
        worker.stop().await;
        bot.stop().await;
    })
    .await;
}

/// Asserts `result` says plainly that the task waits for the owner's approval, with its
/// fingerprint, and that approving is not the agent's job (and, when the transport knows
/// it, until when). Returns the task id.
fn assert_awaits_approval(result: &rmcp::model::CallToolResult, expiry_known: bool) -> String {
    let report = structured(result);
    let text = text_of(result);
    assert_eq!(report["status"], "awaiting_approval", "{text}");
    let fingerprint = report["approval"]["fingerprint"].as_str().unwrap();
    assert!(!fingerprint.is_empty());
    assert!(text.contains("WAITS FOR THE OWNER'S APPROVAL"), "{text}");
    assert!(
        text.contains(&format!("fingerprint {fingerprint}")),
        "{text}"
    );
    assert!(text.contains("you cannot approve it"), "{text}");
    if expiry_known {
        assert!(text.contains("expires in about"), "{text}");
    }
    task_id(&report)
}

async fn held_for_approval(client: &McpClient, expiry_known: bool) -> String {
    // Shell syntax: the open policy holds it for the owner's approval.
    let held = call(
        client,
        "run_command",
        json!({ "command": "echo held; echo for approval", "wait_seconds": 30 }),
    )
    .await;
    let id = assert_awaits_approval(&held, expiry_known);
    let cancelled = call(client, "cancel_task", json!({ "task_id": id })).await;
    assert!(!is_error(&cancelled), "{}", text_of(&cancelled));
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_held_for_approval_says_so_at_once_with_its_fingerprint() {
    within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        let client = mcp_over_http(&bot).await;
        let started = std::time::Instant::now();

        let id = held_for_approval(&client, true).await;

        // The tool returned when the approval was asked for, not after its 30 s wait.
        assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
        let view = bot.finished(id.parse().unwrap()).await;
        assert_eq!(view.status, "cancelled");
        client.cancel().await.unwrap();
        worker.stop().await;
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stdio_server_runs_gets_and_reports_approvals_through_the_http_api() {
    within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let echo = dirs.home.join("echo.sh");
        write_script(&echo, "#!/bin/sh\necho \"stdio:$1\"\n");
        let worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        let client = mcp_over_stdio(&bot).await;

        let tools = client.list_all_tools().await.unwrap();
        let run = call(
            &client,
            "run_command",
            json!({ "command": format!("{} hi", echo.display()), "wait_seconds": 0 }),
        )
        .await;
        let id = task_id(&structured(&run));
        let got = call(
            &client,
            "get_task",
            json!({ "task_id": id, "wait_seconds": 30 }),
        )
        .await;
        let refused = call(&client, "run_command", json!({ "command": "  " })).await;
        // The HTTP API's view carries no expiry (yet): the stdio side cannot say it.
        held_for_approval(&client, false).await;

        assert_eq!(tools.len(), TOOLS.len());
        assert_eq!(structured(&got)["status"], "succeeded", "{}", text_of(&got));
        assert_eq!(structured(&got)["result"]["stdout"], "stdio:hi\n");
        assert!(is_error(&refused));
        assert_eq!(structured(&refused)["code"], "invalid_field");
        assert_eq!(structured(&refused)["field"], "command");
        assert!(
            text_of(&refused).contains("command is required"),
            "{}",
            text_of(&refused)
        );
        client.cancel().await.unwrap();
        worker.stop().await;
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_refusals_come_back_as_tool_errors_naming_the_field() {
    within_limit(async {
        let (_dirs, bot) = start_open_stack().await;
        let client = mcp_over_http(&bot).await;

        let blank = call(&client, "run_command", json!({ "command": " " })).await;
        let bad_worker = call(
            &client,
            "read_file",
            json!({ "path": "~/x", "worker": "no such/worker" }),
        )
        .await;
        let bad_timeout = call(
            &client,
            "run_command",
            json!({ "command": "ls", "timeout_seconds": 0 }),
        )
        .await;

        for (result, field) in [
            (&blank, "command"),
            (&bad_worker, "worker"),
            (&bad_timeout, "timeout_seconds"),
        ] {
            assert!(is_error(result), "{}", text_of(result));
            assert_eq!(structured(result)["code"], "invalid_field");
            assert_eq!(structured(result)["field"], field);
        }
        assert!(
            text_of(&bad_timeout).contains("seconds"),
            "{}",
            text_of(&bad_timeout)
        );
        assert_eq!(bot.count("pending").await, 0);
        client.cancel().await.unwrap();
        bot.stop().await;
    })
    .await;
}
