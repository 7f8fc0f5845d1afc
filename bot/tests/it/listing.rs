//! Lists read only what they show: `GET /tasks` never loads a spec's content or a result's
//! output, so a list of large tasks costs what a list of small ones does.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{success, TestApp, CLIENT};

#[tokio::test]
async fn a_list_reads_neither_spec_content_nor_results() {
    let app = TestApp::spawn().await;
    let content = "x".repeat(5 * 1024 * 1024);
    let (write, _) = app
        .create(
            "/files/write",
            json!({"path": "~/big.bin", "content": content}),
        )
        .await;
    let run = app.submit_command("make test").await;
    let claimed = app
        .claim("mac")
        .await
        .into_iter()
        .find(|c| c.id == run)
        .unwrap();
    app.heartbeat("mac", &[&claimed]).await;
    let (status, _) = app.report(&claimed, "mac", &success("all passed")).await;
    assert_eq!(status, StatusCode::OK);
    // Spoil what a list must not read: if it read them, it would fail to parse them.
    let conn = rusqlite::Connection::open(app.state.config().storage.database_path()).unwrap();
    conn.execute(
        "UPDATE tasks SET spec = 'not json', metadata = 'not json' WHERE id IN (?1, ?2)",
        [write.to_string(), run.to_string()],
    )
    .unwrap();
    drop(conn);

    let (status, list) = app.get("/tasks", Some(CLIENT)).await;
    let (full_status, full) = app.task(run, 0).await;

    assert_eq!(status, StatusCode::OK, "{list}");
    let tasks = list["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0]["taskId"], run.to_string());
    assert_eq!(tasks[0]["summary"], "make test");
    assert_eq!(tasks[0]["status"], "succeeded");
    assert_eq!(tasks[0]["exitCode"], 0);
    assert_eq!(tasks[1]["summary"], "write ~/big.bin (5242880 bytes)");
    // Reading the whole task does parse them: the damage is real.
    assert_eq!(full_status, StatusCode::SERVICE_UNAVAILABLE, "{full}");
    assert_eq!(full["code"], "storage_failed");
}
