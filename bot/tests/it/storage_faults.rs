//! Storage faults tell the truth: a full disk is a 503 `storage_full` and `/admin/health`
//! says so until space returns; damage found at start is logged and shown, and a damaged
//! task reads as 503, not 500; a read-only data directory stops the bot at start.

use std::io::{Read, Seek, SeekFrom, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::disk::Tmpfs;
use crate::helpers::{bot_binary, TestApp, ADMIN, CLIENT};
use crate::log_flood::Captured;

/// `GET /admin/health`: status and body.
async fn admin_health(app: &TestApp) -> (StatusCode, Value) {
    app.get("/admin/health", Some(ADMIN)).await
}

/// `POST /tasks` with `command`: status, body and `Retry-After`.
async fn create(app: &TestApp, command: &str) -> (StatusCode, Value, Option<String>) {
    let response = app
        .http
        .post(app.url("/tasks"))
        .bearer_auth(CLIENT)
        .json(&json!({ "command": command }))
        .send()
        .await
        .unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let status = response.status();
    (status, response.json().await.unwrap(), retry_after)
}

#[tokio::test]
async fn a_full_disk_is_a_503_storage_full_shown_in_health_until_space_returns() {
    let disk = Tmpfs::mount("8m");
    let data_dir = disk.path().to_path_buf();
    let app = TestApp::spawn_with(move |c| c.storage.data_dir = data_dir).await;
    let before = app.submit_command("echo before the disk filled").await;

    let filler = disk.fill();
    let mut refused = None;
    for n in 0..20 {
        let (status, body, retry_after) =
            create(&app, &format!("echo {n} {}", "x".repeat(4000))).await;
        if status != StatusCode::OK {
            refused = Some((status, body, retry_after));
            break;
        }
    }
    let (full_status, full_health) = admin_health(&app).await;
    std::fs::remove_file(filler).unwrap();
    let (after_status, _, _) = create(&app, "echo after").await;
    let (ok_status, ok_health) = admin_health(&app).await;

    let (status, body, retry_after) = refused.expect("no create failed on a full disk");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "storage_full", "{body}");
    assert_eq!(retry_after.as_deref(), Some("30"));
    assert_eq!(
        full_status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{full_health}"
    );
    assert_eq!(full_health["status"], "degraded");
    assert_eq!(full_health["database"], "full");
    let failure = &full_health["storage"]["last_write_failure"];
    assert_eq!(failure["fault"], "full", "{full_health}");
    assert!(failure["at"].as_u64().unwrap() > 0);
    assert_eq!(
        after_status,
        StatusCode::OK,
        "writes work once space returns"
    );
    assert_eq!(ok_status, StatusCode::OK, "{ok_health}");
    assert_eq!(ok_health["database"], "ok");
    assert_eq!(
        ok_health["storage"]["last_write_failure"]["fault"], "full",
        "the failure stays on record"
    );
    let (status, task) = app.task(before, 0).await;
    assert_eq!(
        (status, task["status"].as_str()),
        (StatusCode::OK, Some("pending"))
    );
    app.stop().await;
}

/// Where `marker` is in the file at `path`, in bytes from its start.
fn find(path: &std::path::Path, marker: &[u8]) -> usize {
    let bytes = std::fs::read(path).unwrap();
    bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("marker not in the database file")
}

#[test]
fn damage_found_at_start_is_logged_and_shown_and_a_damaged_task_reads_503() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::ERROR)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    runtime.block_on(async {
        let app = TestApp::spawn().await;
        let mut ids = Vec::new();
        for n in 0..60 {
            let padding = "p".repeat(1000);
            ids.push(
                app.submit_command(&format!("echo marker-{n:03}- {padding}"))
                    .await,
            );
        }
        let dir = app.stop().await;
        let database = dir.path().join("openclaw.sqlite3");
        // Everything into the main file, so the damage below is the only copy.
        let conn = rusqlite::Connection::open(&database).unwrap();
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
        drop(conn);
        // The page holding task 30 gets a b-tree page type no page has.
        let page = find(&database, b"marker-030-") / 4096;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&database)
            .unwrap();
        file.seek(SeekFrom::Start((page * 4096) as u64)).unwrap();
        let mut kind = [0u8; 1];
        file.read_exact(&mut kind).unwrap();
        assert_eq!(kind[0], 0x0d, "the marker is on a table leaf page");
        file.seek(SeekFrom::Start((page * 4096) as u64)).unwrap();
        file.write_all(&[0x6b]).unwrap();
        drop(file);

        let app = TestApp::spawn_in(dir, |_| {}).await;
        let (status, health) = admin_health(&app).await;
        let damaged = app.task(ids[30], 0).await;
        let whole = app.task(ids[0], 0).await;

        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{health}");
        assert_eq!(health["database"], "corrupt", "{health}");
        assert_eq!(health["storage"]["integrity"]["result"], "corrupt");
        assert!(!health["storage"]["integrity"]["problems"]
            .as_array()
            .unwrap()
            .is_empty());
        assert_eq!(damaged.0, StatusCode::SERVICE_UNAVAILABLE, "{}", damaged.1);
        assert_eq!(damaged.1["code"], "storage_failed");
        assert_eq!(whole.0, StatusCode::OK, "tasks on whole pages still read");
        let log = captured.text();
        assert!(log.contains("the task database is damaged"), "{log}");
        app.stop().await;
    });
}

#[test]
fn the_binary_refuses_to_start_on_a_read_only_data_directory() {
    let disk = Tmpfs::mount("8m");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let data_dir = disk.path().to_path_buf();
    runtime.block_on(async move {
        let app = TestApp::spawn_with(move |c| c.storage.data_dir = data_dir).await;
        app.submit_command("echo kept").await;
        app.stop().await;
    });
    disk.remount_read_only();
    let dir = disk.path().to_str().unwrap();
    let env = [
        ("OPENCLAW_HTTP__BIND", "127.0.0.1:0"),
        ("OPENCLAW_STORAGE__DATA_DIR", dir),
        ("OPENCLAW_AUTH__CLIENT_TOKEN", CLIENT),
        ("OPENCLAW_AUTH__WORKER_TOKEN", crate::helpers::WORKER),
        ("OPENCLAW_AUTH__ADMIN_TOKEN", ADMIN),
    ];

    let mut child = bot_binary(disk.path(), &[], &env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("the bot kept running on a read-only data directory");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();

    assert!(!status.success());
    assert!(stderr.contains("cannot be written"), "{stderr}");
    assert!(stderr.contains("refuses to start"), "{stderr}");
    assert!(!stdout.contains("ready"), "{stdout}");
}
