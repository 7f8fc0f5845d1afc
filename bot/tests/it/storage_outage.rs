//! A write outage longer than a lease does not turn work a live worker finished into
//! `lost`: the bot counts a heartbeat it could not store as contact, and the sweep spares
//! the lease when the store recovers.

use std::time::{Duration, Instant};

use openclaw_shared::worker::HeldLease;
use reqwest::StatusCode;
use serde_json::json;

use crate::disk::Tmpfs;
use crate::helpers::{success, TestApp, WORKER};

#[tokio::test]
async fn a_task_heartbeated_through_a_full_disk_ends_with_its_result_not_lost() {
    let disk = Tmpfs::mount("8m");
    let data_dir = disk.path().to_path_buf();
    let app = TestApp::spawn_with(move |c| {
        c.storage.data_dir = data_dir;
        c.queue.lease_ttl_secs = 1;
    })
    .await;
    let id = app.submit_command("make release").await;
    let claimed = app.claim("mac").await.remove(0);
    app.heartbeat("mac", &[&claimed]).await;
    let held = json!({
        "worker": "mac",
        "leases": [HeldLease { task_id: id, lease: claimed.lease }],
    });

    // Three lease TTLs of outage, the worker heartbeating as it does while it runs.
    let filler = disk.fill();
    let outage = Instant::now();
    let mut refused = Vec::new();
    while outage.elapsed() < Duration::from_secs(3) {
        let (status, body) = app.post("/v1/worker/heartbeat", Some(WORKER), &held).await;
        refused.push((status, body["code"].clone()));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    std::fs::remove_file(filler).unwrap();
    // The sweeper (every 50 ms) now writes again, long past the stored lease deadline.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reported = app.report(&claimed, "mac", &success("built")).await;
    let (_, task) = app.task(id, 0).await;

    assert!(
        refused
            .iter()
            .all(|(status, code)| *status == StatusCode::SERVICE_UNAVAILABLE
                && code == "storage_full"),
        "{refused:?}"
    );
    assert_eq!(reported.0, StatusCode::OK, "{}", reported.1);
    assert_eq!(task["status"], "succeeded", "{task}");
    assert_eq!(task["stdout"], "built");
    app.stop().await;
}
