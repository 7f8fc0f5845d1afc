//! Schedules over HTTP: saved (or previewed) with their next runs, listed and read per
//! owner, paused, resumed and deleted; their runs become ordinary tasks of the owner, at the
//! schedules' priority; bad input is refused by field and saves nothing.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, within, TestApp, ADMIN, CLIENT};

/// An every-second schedule of `echo tick`.
fn every_second() -> Value {
    json!({"cron": "* * * * * *", "task": {"kind": "command", "command": "echo tick"}})
}

/// A bot whose schedules fire every 100 ms.
async fn spawn_fast() -> TestApp {
    TestApp::spawn_with(|c| c.schedules.tick_ms = 100).await
}

impl TestApp {
    /// `POST /schedules` with the client token; asserts a 200 and returns the view.
    pub async fn schedule(&self, body: Value) -> Value {
        let (status, view) = self.post("/schedules", Some(CLIENT), &body).await;
        assert_eq!(status, StatusCode::OK, "{view}");
        view
    }

    /// `DELETE path` with `token`.
    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        crate::helpers::read(response).await
    }
}

#[tokio::test]
async fn a_schedule_is_saved_with_its_next_runs_and_read_paused_resumed_and_deleted() {
    within(async {
        let app = TestApp::spawn().await;
        let body = json!({
            "cron": "0 9 * * MON-FRI",
            "tz": "Europe/Berlin",
            "name": "morning uptime",
            "worker": "mac",
            "task": {"kind": "command", "command": "uptime", "priority": 8},
        });

        let saved = app.schedule(body).await;
        let id = saved["id"].as_str().unwrap().to_owned();
        let path = format!("/schedules/{id}");
        let listed = app.get("/schedules", Some(CLIENT)).await;
        let paused = app
            .post(&format!("{path}/pause"), Some(CLIENT), &json!({}))
            .await;
        let resumed = app
            .post(&format!("{path}/resume"), Some(CLIENT), &json!({}))
            .await;
        let read = app.get(&path, Some(CLIENT)).await;
        let deleted = app.delete(&path, CLIENT).await;
        let gone = app.get(&path, Some(CLIENT)).await;

        assert_eq!(saved["tz"], "Europe/Berlin");
        assert_eq!(saved["owner"], "api");
        assert_eq!(saved["task"]["worker"], "mac", "{saved}");
        let runs = saved["nextRuns"].as_array().unwrap();
        assert_eq!(runs.len(), 5);
        assert!(
            runs[0]["local"].as_str().unwrap().contains("T09:00:00+0"),
            "{saved}"
        );
        assert_eq!(saved["nextRunAt"], runs[0]["at"]);
        assert_eq!(listed.1["schedules"][0]["id"], id.as_str());
        assert_eq!(paused.1["paused"], true);
        assert!(paused.1.get("nextRunAt").is_none(), "{}", paused.1);
        assert_eq!(resumed.1["paused"], false);
        assert!(resumed.1["nextRunAt"].is_u64());
        assert_eq!(read.1["nextRuns"].as_array().unwrap().len(), 5);
        assert_eq!(deleted.0, StatusCode::OK);
        assert_error(&gone, StatusCode::NOT_FOUND, "not_found", "Schedule");
    })
    .await
}

#[tokio::test]
async fn a_preview_answers_the_next_runs_and_saves_nothing() {
    within(async {
        let app = TestApp::spawn().await;
        let body = json!({
            "cron": "30 2 * * *",
            "tz": "Europe/Berlin",
            "preview": true,
            "task": {"kind": "file_read", "path": "/tmp/x"},
        });

        let (status, preview) = app.post("/schedules", Some(CLIENT), &body).await;
        let listed = app.get("/schedules", Some(CLIENT)).await;

        assert_eq!(status, StatusCode::OK, "{preview}");
        assert_eq!(preview["nextRuns"].as_array().unwrap().len(), 5);
        assert!(preview.get("id").is_none(), "{preview}");
        assert_eq!(listed.1["schedules"], json!([]));
    })
    .await
}

#[tokio::test]
async fn bad_schedules_are_refused_by_field_and_nothing_is_saved() {
    within(async {
        let app = TestApp::spawn().await;
        let with =
            |cron: &str, tz: &str, task: Value| json!({"cron": cron, "tz": tz, "task": task});
        let echo = json!({"kind": "command", "command": "echo"});

        let cases = [
            (with("every minute", "UTC", echo.clone()), "cron"),
            (with("* * * * *", "Mars/Olympus", echo.clone()), "tz"),
            (with("0 0 30 2 *", "UTC", echo.clone()), "cron"),
            (
                with(
                    "* * * * *",
                    "UTC",
                    json!({"kind": "command", "command": " "}),
                ),
                "command",
            ),
            (
                with(
                    "* * * * *",
                    "UTC",
                    json!({"kind": "command", "command": "x", "priority": 10}),
                ),
                "priority",
            ),
            (
                json!({"cron": "* * * * *", "name": "a\nb", "task": echo.clone()}),
                "name",
            ),
            // A channel outside the allow-list: the same refusal as a create route's.
            (
                with(
                    "* * * * *",
                    "UTC",
                    json!({"kind": "command", "command": "x", "discordChannelId": "43"}),
                ),
                "discordChannelId",
            ),
        ];
        for (body, field) in &cases {
            let answer = app.post("/schedules", Some(CLIENT), body).await;
            assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_field", field);
        }
        let unknown_kind = app
            .post(
                "/schedules",
                Some(CLIENT),
                &with("* * * * *", "UTC", json!({"kind": "rm"})),
            )
            .await;
        let by_admin = app.post("/schedules", Some(ADMIN), &every_second()).await;

        assert_eq!(
            unknown_kind.0,
            StatusCode::BAD_REQUEST,
            "{}",
            unknown_kind.1
        );
        assert_eq!(by_admin.0, StatusCode::FORBIDDEN);
        assert_eq!(
            app.get("/schedules", Some(ADMIN)).await.1["schedules"],
            json!([])
        );
    })
    .await
}

#[tokio::test]
async fn each_run_is_an_ordinary_task_of_the_owner_at_the_schedules_priority() {
    within(async {
        let app = spawn_fast().await;
        let saved = app.schedule(every_second()).await;
        let id = saved["id"].as_str().unwrap();

        // Runs fire each second; wait for two.
        let mut claimed = Vec::new();
        while claimed.len() < 2 {
            claimed.extend(app.claim_waiting("mac", 2_000).await);
        }
        let task = app.task(claimed[0].id, 0).await.1;
        let after = app.get(&format!("/schedules/{id}"), Some(CLIENT)).await.1;

        assert_eq!(task["owner"], "api");
        assert_eq!(task["priority"], 7);
        assert_eq!(task["kind"], "command");
        assert!(after["runs"].as_u64().unwrap() >= 2, "{after}");
        assert!(after["lastTaskId"].is_string());
        assert!(after.get("lastError").is_none(), "{after}");
    })
    .await
}

#[tokio::test]
async fn a_schedule_is_its_owners_alone_and_the_admin_may_stop_anyones() {
    within(async {
        let app = TestApp::spawn().await;
        let saved = app.schedule(every_second()).await;
        let id = saved["id"].as_str().unwrap();
        let path = format!("/schedules/{id}");
        // Another owner's schedule: saved through the queue, as Discord would.
        let other = app
            .state
            .queue()
            .create_schedule(openclaw_bot::queue::NewSchedule {
                owner: "discord:5".into(),
                name: None,
                cron: "0 * * * *".into(),
                tz: "UTC".into(),
                task: json!({"kind": "command", "command": "uptime"}),
                next_run_at: Some(u64::MAX / 4),
            })
            .await
            .unwrap();
        let other_path = format!("/schedules/{}", other.id);

        let mine = app.get("/schedules", Some(CLIENT)).await.1;
        let all = app.get("/schedules", Some(ADMIN)).await.1;
        let peek = app.get(&other_path, Some(CLIENT)).await;
        let pause_other = app
            .post(&format!("{other_path}/pause"), Some(CLIENT), &json!({}))
            .await;
        let delete_other = app.delete(&other_path, CLIENT).await;
        let admin_pause = app
            .post(&format!("{path}/pause"), Some(ADMIN), &json!({}))
            .await;

        assert_eq!(mine["schedules"].as_array().unwrap().len(), 1);
        assert_eq!(all["schedules"].as_array().unwrap().len(), 2);
        for answer in [&peek, &pause_other, &delete_other] {
            assert_error(answer, StatusCode::NOT_FOUND, "not_found", "Schedule");
        }
        let untouched = app.get(&other_path, Some(ADMIN)).await.1;
        assert_eq!(untouched["paused"], false);
        assert_eq!(admin_pause.1["paused"], true);
    })
    .await
}
