//! Task ownership over HTTP (issue 12, fault 6): the client token sees, waits for, cancels
//! and downloads from only the tasks it created; another owner's task is a 404 exactly like
//! an unknown one, and stays as it is. The admin token reads every task (and cannot create
//! or cancel any). Discord users' tasks against the same rules: `discord_owners.rs`.

use std::time::Duration;

use openclaw_bot::queue::{NewTask, Scope};
use openclaw_shared::{TaskId, TaskSpec, TaskStatus};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, within, TestApp, ADMIN, CLIENT};

/// Puts a task owned by `owner` on the bot's queue, as another door would (`None`: a task
/// stored before owners were recorded).
async fn enqueue_owned(app: &TestApp, owner: Option<&str>, command: &str) -> TaskId {
    let task = NewTask {
        spec: TaskSpec::Command {
            command: command.into(),
            cwd: None,
        },
        timeout: Duration::from_secs(30),
        target_worker: None,
        origin: None,
        owner: owner.map(str::to_owned),
        callback_url: None,
    };
    app.state.queue().enqueue(task).await.unwrap().id
}

/// The ids `GET /tasks` lists for `token`.
async fn listed(app: &TestApp, token: &str) -> Vec<String> {
    let (status, list) = app.get("/tasks?limit=200", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["taskId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_client_token_sees_and_cancels_only_the_tasks_it_created() {
    within(async {
        let app = TestApp::spawn().await;
        let own = app.submit_command("mine").await;
        let users = enqueue_owned(&app, Some("discord:42"), "their secret command").await;
        let legacy = enqueue_owned(&app, None, "from before owners").await;

        let list = listed(&app, CLIENT).await;
        let mut refused = Vec::new();
        for other in [users, legacy] {
            refused.push(app.task(other, 0).await);
            refused.push(app.task(other, 500).await);
            let cancel = format!("/tasks/{other}/cancel");
            refused.push(app.post(&cancel, Some(CLIENT), &json!({})).await);
            let download = format!("/tasks/{other}/attachments/shot.png");
            refused.push(app.get(&download, Some(CLIENT)).await);
        }

        assert_eq!(list, [own.to_string()]);
        for answer in &refused {
            assert_error(answer, StatusCode::NOT_FOUND, "not_found", "Task not found");
        }
        for other in [users, legacy] {
            let task = app.state.queue().get(other).await.unwrap();
            assert_eq!(
                task.status,
                TaskStatus::Queued,
                "a refused cancel changed it"
            );
            assert!(!task.cancel_requested);
        }
        let (status, _) = app
            .post(&format!("/tasks/{own}/cancel"), Some(CLIENT), &json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "its own task it cancels");
    })
    .await
}

#[tokio::test]
async fn the_admin_token_reads_every_task_but_creates_and_cancels_none() {
    within(async {
        let app = TestApp::spawn().await;
        let api = app.submit_command("scripted").await;
        let users = enqueue_owned(&app, Some("discord:42"), "from a phone").await;
        let legacy = enqueue_owned(&app, None, "from before owners").await;

        let list = listed(&app, ADMIN).await;
        let (_, rows) = app.get("/tasks", Some(ADMIN)).await;
        let (status, view) = app.get(&format!("/tasks/{users}"), Some(ADMIN)).await;
        let cancel = app
            .post(&format!("/tasks/{users}/cancel"), Some(ADMIN), &json!({}))
            .await;
        let create = app
            .post("/tasks", Some(ADMIN), &json!({"command": "id"}))
            .await;

        assert_eq!(
            list,
            [legacy.to_string(), users.to_string(), api.to_string()]
        );
        let owners: Vec<&Value> = rows["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| &t["owner"])
            .collect();
        assert_eq!(owners, [&Value::Null, &json!("discord:42"), &json!("api")]);
        assert_eq!(status, StatusCode::OK, "{view}");
        assert_eq!(view["taskId"], users.to_string());
        assert_eq!(view["owner"], "discord:42");
        assert_error(&cancel, StatusCode::FORBIDDEN, "forbidden", "role");
        assert_error(&create, StatusCode::FORBIDDEN, "forbidden", "role");
        assert_eq!(
            app.state
                .queue()
                .list(&Scope::All, None, 10)
                .await
                .unwrap()
                .len(),
            3,
            "nothing was queued"
        );
        let task = app.state.queue().get(users).await.unwrap();
        assert_eq!(task.status, TaskStatus::Queued);
    })
    .await
}
