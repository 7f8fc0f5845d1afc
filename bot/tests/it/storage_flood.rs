//! The issue's storage flood against the real binary: 30 uploads of 10 MiB on one task and
//! 30 tasks of 20 MiB are refused past the quotas, and reading and cancelling afterwards
//! does not balloon the bot's memory (the issue saw +790 MiB). Measured as the process's
//! peak resident size, so nothing else in the test binary counts.

use std::process::Stdio;
use std::time::Duration;

use openclaw_shared::worker::{ClaimResponse, LEASE_HEADER, MAX_ATTACHMENT_BYTES, WORKER_HEADER};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::attachments::PNG;
use crate::helpers::{bot_binary, read, KillOnDrop, ADMIN, CLIENT, WORKER};

/// Uploads and creates, each, as in the issue.
const ATTEMPTS: usize = 30;
/// The storage budget the bot runs with.
const BUDGET: u64 = 100 << 20;
/// Highest peak resident size allowed: the budget, a few 20 MiB requests in flight and the
/// binary itself. Without the quota the peak passes 600 MiB.
const PEAK_LIMIT_KIB: u64 = 320 << 10;
/// Parsing 20 MiB bodies in a debug build takes a while.
const FLOOD_TIMEOUT: Duration = Duration::from_secs(180);

/// The process's peak resident set size, in KiB (Linux `/proc`).
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("no VmHWM in /proc/PID/status")
}

#[tokio::test]
async fn the_issues_storage_flood_is_refused_past_the_quota_and_memory_stays_flat() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (bind, data, budget) = (
        format!("127.0.0.1:{port}"),
        dir.path().join("data").display().to_string(),
        BUDGET.to_string(),
    );
    let bot = KillOnDrop(
        bot_binary(
            dir.path(),
            &[],
            &[
                ("OPENCLAW_HTTP__BIND", &bind),
                ("OPENCLAW_STORAGE__DATA_DIR", &data),
                ("OPENCLAW_AUTH__CLIENT_TOKEN", CLIENT),
                ("OPENCLAW_AUTH__WORKER_TOKEN", WORKER),
                ("OPENCLAW_AUTH__ADMIN_TOKEN", ADMIN),
                ("OPENCLAW_QUOTA__MAX_STORED_BYTES", &budget),
            ],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap(),
    );
    let pid = bot.0.id();
    let base = format!("http://{bind}");
    let http = reqwest::Client::new();
    tokio::time::timeout(FLOOD_TIMEOUT, async {
        while http.get(format!("{base}/health")).send().await.is_err() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let idle_kib = peak_rss_kib(pid);

        // 30 uploads of 10 MiB on one task: past the task's 32 MiB they are refused.
        let created: Value = http
            .post(format!("{base}/tasks"))
            .bearer_auth(CLIENT)
            .json(&json!({"command": "screencapture", "worker": "mac"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let claimed: ClaimResponse = http
            .post(format!("{base}/v1/worker/claim"))
            .bearer_auth(WORKER)
            .json(&json!({"worker": "mac", "slots": 1, "wait_ms": 0}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let task = &claimed.tasks[0];
        assert_eq!(created["taskId"], task.id.to_string());
        let mut image = PNG.to_vec();
        image.resize(MAX_ATTACHMENT_BYTES, 0);
        let mut uploads = Vec::new();
        for n in 0..ATTEMPTS {
            let response = http
                .put(format!(
                    "{base}/v1/worker/tasks/{}/attachments/shot{n}.png",
                    task.id
                ))
                .bearer_auth(WORKER)
                .header(WORKER_HEADER, "mac")
                .header(LEASE_HEADER, task.lease.to_string())
                .body(image.clone())
                .send()
                .await
                .unwrap();
            uploads.push(response.status());
        }

        // 30 edits of 2 × 10 MiB: past the 100 MiB budget they are refused.
        let big = "a".repeat(10 << 20);
        let edit = serde_json::to_vec(
            &json!({"path": "/tmp/f", "old_string": big, "new_string": big, "worker": "nobody"}),
        )
        .unwrap();
        drop(big);
        let mut creates = Vec::new();
        let mut last_refusal = Value::Null;
        for _ in 0..ATTEMPTS {
            let response = http
                .post(format!("{base}/files/edit"))
                .bearer_auth(CLIENT)
                .header("content-type", "application/json")
                .body(edit.clone())
                .send()
                .await
                .unwrap();
            let status = response.status();
            if status != StatusCode::OK {
                last_refusal = read(response).await.1;
            }
            creates.push(status);
        }

        // What the issue did next: list every task, cancel one.
        let list: Value = http
            .get(format!("{base}/tasks?limit=200"))
            .bearer_auth(CLIENT)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let first_edit = list["tasks"][0]["taskId"].as_str().unwrap().to_owned();
        let cancel = http
            .post(format!("{base}/tasks/{first_edit}/cancel"))
            .bearer_auth(CLIENT)
            .send()
            .await
            .unwrap()
            .status();
        let peak_kib = peak_rss_kib(pid);

        let count =
            |statuses: &[StatusCode], status| statuses.iter().filter(|s| **s == status).count();
        assert_eq!(count(&uploads, StatusCode::NO_CONTENT), 3, "{uploads:?}");
        assert_eq!(count(&uploads, StatusCode::PAYLOAD_TOO_LARGE), ATTEMPTS - 3);
        // 30 MiB of uploads and 3 × 20 MiB of edits fill the 100 MiB.
        assert_eq!(count(&creates, StatusCode::OK), 3, "{creates:?}");
        assert_eq!(
            count(&creates, StatusCode::INSUFFICIENT_STORAGE),
            ATTEMPTS - 3
        );
        assert_eq!(last_refusal["code"], "quota_exceeded", "{last_refusal}");
        assert_eq!(
            list["tasks"].as_array().unwrap().len(),
            4,
            "refused tasks were stored"
        );
        assert_eq!(cancel, StatusCode::OK);
        assert!(
            peak_kib < PEAK_LIMIT_KIB,
            "peak RSS {} MiB (idle {} MiB)",
            peak_kib >> 10,
            idle_kib >> 10
        );
    })
    .await
    .expect("the flood did not finish in time");
    drop(bot);
}
