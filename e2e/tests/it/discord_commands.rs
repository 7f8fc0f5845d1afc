//! Each slash command end to end: the real poise bot against the Discord fake, with the real
//! worker running the tasks.

use discord_fake::{CallbackKind, SlashCommand};
use openclaw_bot::queue::Scope;
use openclaw_shared::TaskStatus;
use serde_json::json;

use crate::helpers::{within_discord, DiscordTest};

#[tokio::test]
async fn every_command_is_registered_in_the_guild_with_a_description() {
    within_discord(async {
        let t = DiscordTest::start().await;

        let commands = t.discord.registered_commands();

        let mut names: Vec<&str> = commands.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "agent", "approve", "cancel", "claude", "deny", "read", "run", "schedule",
                "sessions", "status", "tasks", "write"
            ]
        );
        for command in &commands {
            assert_eq!(command.guild_id, Some(t.discord.guild_id()));
            let description = command.sent["description"].as_str().unwrap();
            assert!(
                !description.is_empty() && description.len() <= 100,
                "{description}"
            );
        }
        let run = commands.iter().find(|c| c.name == "run").unwrap();
        let options: Vec<&str> = run.sent["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(options, ["command", "timeout", "worker", "cwd"]);
        // The agents a worker may configure, offered as choices (`discord.agents`).
        let agent = commands.iter().find(|c| c.name == "agent").unwrap();
        let choices: Vec<&str> = agent.sent["options"][0]["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(choices, ["codex", "gemini"]);
        let schedule = commands.iter().find(|c| c.name == "schedule").unwrap();
        let subcommands: Vec<&str> = schedule.sent["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(subcommands, ["add", "list", "remove"]);
    })
    .await;
}

#[tokio::test]
async fn run_is_acknowledged_in_time_and_answers_in_the_same_message() {
    within_discord(async {
        let t = DiscordTest::start().await;

        let ix = t
            .command(SlashCommand::new("run").option("command", "echo hello from the mac"))
            .await;
        // The fake refuses a callback after Discord's 3 seconds; this one was accepted.
        let callback = t.discord.wait_for_callback(&ix).await.unwrap();
        let result = t.result(&ix).await;

        assert_eq!(callback.kind, CallbackKind::DeferredMessage);
        assert!(!callback.is_ephemeral());
        assert!(
            result
                .content
                .starts_with("✅ `echo hello from the mac`\n-# succeeded · exit 0 · "),
            "{}",
            result.content
        );
        assert!(result.content.contains("on `mac`"), "{}", result.content);
        assert!(result.content.ends_with("```\nhello from the mac\n```"));
        let allowed = result.allowed_mentions.clone().unwrap();
        assert_eq!(allowed["parse"], json!([]));
        assert!(result.mentions(None).users.is_empty());
        assert!(t.discord.followups(&ix).is_empty());
        let tasks = t
            .bot()
            .state
            .queue()
            .list(&Scope::All, None, 10)
            .await
            .unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].status, TaskStatus::Succeeded);
    })
    .await;
}

#[tokio::test]
async fn a_user_not_on_the_allow_list_is_refused_and_nothing_is_queued() {
    within_discord(async {
        let t = DiscordTest::start().await;
        let stranger = t.discord.owner_id() + 1;

        let ix = t
            .command(
                SlashCommand::new("run")
                    .option("command", "touch pwned")
                    .user(stranger),
            )
            .await;
        let callback = t.discord.wait_for_callback(&ix).await.unwrap();
        let status = t.command(SlashCommand::new("status").user(stranger)).await;
        let status_callback = t.discord.wait_for_callback(&status).await.unwrap();

        assert_eq!(callback.kind, CallbackKind::Message);
        assert!(callback.is_ephemeral());
        assert!(callback.content().unwrap().contains("not allowed"));
        assert!(status_callback.is_ephemeral());
        assert!(status_callback.content().unwrap().contains("not allowed"));
        assert!(t
            .bot()
            .state
            .queue()
            .list(&Scope::All, None, 10)
            .await
            .unwrap()
            .is_empty());
        assert!(!t.path("pwned").exists());
    })
    .await;
}

#[tokio::test]
async fn read_shows_short_text_inline() {
    within_discord(async {
        let t = DiscordTest::start().await;
        std::fs::write(t.path("notes.txt"), "buy milk\n").unwrap();

        let ix = t
            .command(SlashCommand::new("read").option("path", "notes.txt"))
            .await;
        let result = t.result(&ix).await;

        assert!(
            result.content.starts_with("✅ `read notes.txt`"),
            "{}",
            result.content
        );
        assert!(result.content.ends_with("```\nbuy milk\n```"));
        assert!(result.attachments.is_empty());
    })
    .await;
}

#[tokio::test]
async fn read_of_a_binary_file_attaches_its_exact_bytes_under_its_name() {
    within_discord(async {
        let t = DiscordTest::start().await;
        let bytes: Vec<u8> = (0..=255).rev().collect();
        std::fs::write(t.path("blob.bin"), &bytes).unwrap();

        let ix = t
            .command(SlashCommand::new("read").option("path", "blob.bin"))
            .await;
        let result = t.result(&ix).await;

        assert_eq!(result.attachment("blob.bin").unwrap().bytes, bytes);
        assert!(
            result.content.contains("binary file, 256 B"),
            "{}",
            result.content
        );
    })
    .await;
}

#[tokio::test]
async fn write_stores_text_content_exactly() {
    within_discord(async {
        let t = DiscordTest::start().await;

        let ix = t
            .command(
                SlashCommand::new("write")
                    .option("path", "sub/dir/todo.txt")
                    .option("content", "line one\n  line two  \n"),
            )
            .await;
        let result = t.result(&ix).await;

        assert!(
            result.content.starts_with("✅ `write sub/dir/todo.txt"),
            "{}",
            result.content
        );
        let written = std::fs::read(t.path("sub/dir/todo.txt")).unwrap();
        assert_eq!(written, b"line one\n  line two  \n");
    })
    .await;
}

#[tokio::test]
async fn write_from_an_attached_binary_file_stores_its_exact_bytes() {
    within_discord(async {
        let t = DiscordTest::start().await;
        let bytes = vec![0xff, 0, 0xfe, b'\n', 0x80];

        let ix = t
            .command(
                SlashCommand::new("write")
                    .option("path", "upload.bin")
                    .attachment("file", "upload.bin", bytes.clone()),
            )
            .await;
        t.result(&ix).await;

        assert_eq!(std::fs::read(t.path("upload.bin")).unwrap(), bytes);
    })
    .await;
}

#[tokio::test]
async fn write_without_content_or_file_is_explained_and_queues_nothing() {
    within_discord(async {
        let t = DiscordTest::start().await;

        let ix = t
            .command(SlashCommand::new("write").option("path", "x.txt"))
            .await;
        let callback = t.discord.wait_for_callback(&ix).await.unwrap();

        assert!(callback.is_ephemeral());
        assert!(callback.content().unwrap().contains("`content` or `file`"));
        assert!(t
            .bot()
            .state
            .queue()
            .list(&Scope::All, None, 10)
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}

#[tokio::test]
async fn claude_passes_the_prompt_as_one_argument_with_its_session() {
    within_discord(async {
        let t = DiscordTest::start().await;

        let ix = t
            .command(
                SlashCommand::new("claude")
                    .option("prompt", "what is $(whoami)?")
                    .option("session", "s-123"),
            )
            .await;
        let result = t.result(&ix).await;

        assert!(
            result
                .content
                .starts_with("✅ `claude: what is $(whoami)?`"),
            "{}",
            result.content
        );
        assert!(
            result
                .content
                .contains("--resume s-123 -- what is $(whoami)?"),
            "{}",
            result.content
        );
    })
    .await;
}

#[tokio::test]
async fn status_lists_the_worker_and_the_queue() {
    within_discord(async {
        let t = DiscordTest::start().await;
        // A finished task proves the worker has polled.
        t.run("true").await;

        let ix = t.command(SlashCommand::new("status")).await;
        let callback = t.discord.wait_for_callback(&ix).await.unwrap();

        let content = callback.content().unwrap();
        assert!(content.contains("🟢 `mac`"), "{content}");
        assert!(content.contains("**Your tasks** · 0 queued"), "{content}");
    })
    .await;
}

#[tokio::test]
async fn tasks_lists_recent_tasks_with_their_status() {
    within_discord(async {
        let t = DiscordTest::start().await;
        t.run("echo listed").await;

        let ix = t.command(SlashCommand::new("tasks")).await;
        let callback = t.discord.wait_for_callback(&ix).await.unwrap();

        let content = callback.content().unwrap();
        assert!(
            content.contains("`echo listed` · succeeded · exit 0 · `mac`"),
            "{content}"
        );
    })
    .await;
}

#[tokio::test]
async fn cancel_by_short_id_cancels_a_queued_task_and_its_message_says_so() {
    within_discord(async {
        let t = DiscordTest::start().await;
        // Targets a worker that does not exist, so it stays queued.
        let queued = t
            .command(
                SlashCommand::new("run")
                    .option("command", "echo never")
                    .option("worker", "elsewhere"),
            )
            .await;
        t.discord
            .wait_for_original(&queued, |m| m.content.contains("waiting for `elsewhere`"))
            .await
            .unwrap();
        let id = t
            .bot()
            .state
            .queue()
            .list(&Scope::All, None, 1)
            .await
            .unwrap()[0]
            .id;
        let short: String = id.to_string().chars().take(8).collect();

        let ix = t
            .command(SlashCommand::new("cancel").option("task", short.as_str()))
            .await;
        let answer = t.discord.wait_for_callback(&ix).await.unwrap();
        let original = t.result(&queued).await;

        assert!(answer
            .content()
            .unwrap()
            .starts_with(&format!("🛑 Cancelled `{short}`")));
        assert!(
            original.content.starts_with("🛑 `echo never`"),
            "{}",
            original.content
        );
        let task = t.bot().state.queue().get(id).await.unwrap();
        assert_eq!(task.status, TaskStatus::Cancelled);
    })
    .await;
}

#[tokio::test]
async fn options_out_of_range_are_explained_and_queue_nothing() {
    within_discord(async {
        let t = DiscordTest::start().await;

        let long = t
            .command(
                SlashCommand::new("run")
                    .option("command", "true")
                    .option("timeout", 99_999_999_i64),
            )
            .await;
        let bad_worker = t
            .command(
                SlashCommand::new("run")
                    .option("command", "true")
                    .option("worker", "no such/worker"),
            )
            .await;
        let long_answer = t.discord.wait_for_callback(&long).await.unwrap();
        let worker_answer = t.discord.wait_for_callback(&bad_worker).await.unwrap();

        assert!(long_answer.is_ephemeral());
        assert_eq!(
            long_answer.content(),
            Some("⚠️ timeout must be between 1 and 3600 seconds")
        );
        assert!(worker_answer.content().unwrap().contains("worker must be"));
        assert!(t
            .bot()
            .state
            .queue()
            .list(&Scope::All, None, 10)
            .await
            .unwrap()
            .is_empty());
    })
    .await;
}
