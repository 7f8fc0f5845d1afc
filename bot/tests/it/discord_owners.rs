//! Ownership in Discord (issue 12, fault 6), the real poise bot against the Discord fake: a
//! second allowed user used to see the first user's command in a channel-visible `/tasks`
//! and cancel their task. Now `/tasks`, `/status` and `/cancel` reach the user's own tasks,
//! their replies are ephemeral, and only an admin reaches everyone's (`all:true`). Also:
//! the HTTP client token against a Discord user's task, and `/status` after a flood of
//! made-up worker names.

use discord_fake::{CallbackKind, FakeDiscord, Interaction, InteractionCallback, SlashCommand};
use openclaw_bot::queue::Scope;
use openclaw_shared::{TaskId, TaskStatus};
use reqwest::StatusCode;
use serde_json::json;

use crate::attacks::flood_claims;
use crate::discord_support::{discord_config, within_discord};
use crate::helpers::{assert_error, TestApp, ADMIN, CLIENT, WORKER};

/// The second allowed user; the fake's own user (listed first) is the admin by default.
const SECOND: u64 = 555_000_000_000_000_001;
/// A command only its owner may see.
const PRIVATE: &str = "echo first-users-private-command";

/// The fake Discord and the bot, with two allowed users.
struct OwnersTest {
    app: TestApp,
    discord: FakeDiscord,
}

impl OwnersTest {
    async fn start() -> OwnersTest {
        let discord = FakeDiscord::start()
            .await
            .expect("starting the Discord fake");
        let app = TestApp::spawn_with(|config| {
            discord_config(config, &discord);
            config.discord.allowed_user_ids = vec![discord.owner_id(), SECOND];
            config.auth.max_shared_worker_names = 3;
        })
        .await;
        discord
            .wait_for_commands_registered()
            .await
            .expect("the bot registers its commands");
        OwnersTest { app, discord }
    }

    /// `command` as `user`, and the bot's first answer to it.
    async fn answer(&self, user: u64, command: SlashCommand) -> InteractionCallback {
        let ix = self.send(command.user(user)).await;
        self.discord.wait_for_callback(&ix).await.unwrap()
    }

    async fn send(&self, command: SlashCommand) -> Interaction {
        self.discord
            .send_slash_command(command)
            .await
            .expect("the fake sends the command")
    }

    /// `/run command` as `user` for a worker that never comes, so it stays queued; its id.
    async fn queued_run(&self, user: u64, command: &str) -> TaskId {
        let run = SlashCommand::new("run")
            .option("command", command)
            .option("worker", "elsewhere")
            .user(user);
        let ix = self.send(run).await;
        self.discord
            .wait_for_original(&ix, |m| m.content.contains("waiting for `elsewhere`"))
            .await
            .expect("the task is queued");
        let tasks = self.app.state.queue().list(&Scope::All, None, 50).await;
        let owner = format!("discord:{user}");
        tasks
            .unwrap()
            .into_iter()
            .find(|t| t.owner.as_deref() == Some(owner.as_str()))
            .expect("the user's task is stored")
            .id
    }

    async fn status(&self, id: TaskId) -> (TaskStatus, bool) {
        let task = self.app.state.queue().get(id).await.unwrap();
        (task.status, task.cancel_requested)
    }
}

/// Asserts an ephemeral reply (not a defer) whose text contains `fragment`.
fn assert_private(answer: &InteractionCallback, fragment: &str) -> String {
    let content = answer.content().unwrap_or_default().to_owned();
    assert_eq!(answer.kind, CallbackKind::Message, "{content}");
    assert!(answer.is_ephemeral(), "not ephemeral: {content}");
    assert!(content.contains(fragment), "{content:?} lacks {fragment:?}");
    content
}

fn cancel(task: &str) -> SlashCommand {
    SlashCommand::new("cancel").option("task", task)
}

#[tokio::test]
async fn a_second_user_neither_sees_nor_cancels_the_first_users_task() {
    within_discord(async {
        let t = OwnersTest::start().await;
        let first = t.discord.owner_id();
        let id = t.queued_run(first, PRIVATE).await;
        let short: String = id.to_string().chars().take(8).collect();

        let tasks = t.answer(SECOND, SlashCommand::new("tasks")).await;
        let everyone = t
            .answer(SECOND, SlashCommand::new("tasks").option("all", true))
            .await;
        let status = t.answer(SECOND, SlashCommand::new("status")).await;
        let by_prefix = t.answer(SECOND, cancel(&short)).await;
        let by_id = t.answer(SECOND, cancel(&id.to_string())).await;
        let owners_list = t.answer(first, SlashCommand::new("tasks")).await;

        let listing = assert_private(&tasks, "You have no tasks yet.");
        assert!(!listing.contains("first-users"), "{listing}");
        assert_private(&everyone, "Only an admin");
        assert_private(&status, "**Your tasks** · 0 queued");
        assert_private(&by_prefix, &format!("No task `{short}`"));
        assert_private(&by_id, "No task");
        assert_eq!(t.status(id).await, (TaskStatus::Queued, false), "unchanged");
        assert_private(&owners_list, "first-users-private-command");
        // Nothing the second user did showed the command to the channel either.
        let channel = t.discord.channel_messages(t.discord.channel_id());
        assert!(channel.iter().all(|m| !m.content.contains("first-users")));
    })
    .await;
}

#[tokio::test]
async fn the_admin_sees_and_cancels_everyones_tasks_with_all() {
    within_discord(async {
        let t = OwnersTest::start().await;
        let admin = t.discord.owner_id();
        let seconds = t.queued_run(SECOND, "echo second-users-task").await;
        t.app
            .create(
                "/tasks",
                json!({"command": "echo scripted", "worker": "elsewhere"}),
            )
            .await;

        let own = t.answer(admin, SlashCommand::new("tasks")).await;
        let all = t
            .answer(admin, SlashCommand::new("tasks").option("all", true))
            .await;
        let queue = t
            .answer(admin, SlashCommand::new("status").option("all", true))
            .await;
        let cancelled = t.answer(admin, cancel(&seconds.to_string())).await;

        assert_private(&own, "You have no tasks yet.");
        let listing = assert_private(&all, "**Recent tasks** · everyone's");
        assert!(
            listing.contains(&format!("`echo second-users-task` · queued · <@{SECOND}>")),
            "{listing}"
        );
        assert!(
            listing.contains("`echo scripted` · queued · API"),
            "{listing}"
        );
        assert_private(&queue, "**Queue** · 2 queued");
        assert_private(&cancelled, "🛑 Cancelled");
        assert_eq!(t.status(seconds).await.0, TaskStatus::Cancelled);
    })
    .await;
}

#[tokio::test]
async fn the_client_token_neither_sees_nor_cancels_a_discord_users_task() {
    within_discord(async {
        let t = OwnersTest::start().await;
        let id = t.queued_run(t.discord.owner_id(), PRIVATE).await;

        let (_, list) = t.app.get("/tasks", Some(CLIENT)).await;
        let get = t.app.task(id, 0).await;
        let cancel = t
            .app
            .post(&format!("/tasks/{id}/cancel"), Some(CLIENT), &json!({}))
            .await;
        let (admin_status, admin_view) = t.app.get(&format!("/tasks/{id}"), Some(ADMIN)).await;

        assert_eq!(list["tasks"], json!([]), "{list}");
        assert_error(&get, StatusCode::NOT_FOUND, "not_found", "Task not found");
        assert_error(
            &cancel,
            StatusCode::NOT_FOUND,
            "not_found",
            "Task not found",
        );
        assert_eq!(t.status(id).await, (TaskStatus::Queued, false), "unchanged");
        assert_eq!(admin_status, StatusCode::OK, "{admin_view}");
    })
    .await;
}

#[tokio::test]
async fn status_shows_the_real_worker_after_thousands_of_made_up_names() {
    within_discord(async {
        let t = OwnersTest::start().await;
        assert!(t.app.claim("mac").await.is_empty(), "the real worker polls");
        let names = (0..3_000).map(|n| format!("a-impostor-{n:04}")).collect();

        let answers = flood_claims(&t.app, WORKER, names).await;
        let status = t
            .answer(t.discord.owner_id(), SlashCommand::new("status"))
            .await;

        let refused = answers
            .iter()
            .filter(|(s, _)| *s == StatusCode::FORBIDDEN)
            .count();
        assert_eq!(
            refused,
            3_000 - 2,
            "past the cap of 3, every name is refused"
        );
        let content = assert_private(&status, "🟢 `mac` · idle");
        assert_eq!(content.matches("🟢").count(), 3, "{content}");
        assert!(content.contains("· shared token"), "{content}");
    })
    .await;
}
