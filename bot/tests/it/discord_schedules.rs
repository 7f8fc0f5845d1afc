//! `/schedule add|list|remove` through the real poise stack against the Discord fake: a
//! schedule added in a channel runs as the user's ordinary tasks, whose results are posted
//! in that channel; another user can neither see nor remove it.

use discord_fake::{FakeDiscord, SlashCommand};
use openclaw_bot::queue::Scope;
use openclaw_shared::client::ScheduleId;

use crate::discord_support::{discord_config, within_discord};
use crate::helpers::{success, TestApp};

/// A second allowed user, not an admin.
const OTHER: u64 = 555_000_000_000_000_002;

async fn start() -> (TestApp, FakeDiscord) {
    let discord = FakeDiscord::start()
        .await
        .expect("starting the Discord fake");
    let app = TestApp::spawn_with(|config| {
        discord_config(config, &discord);
        config.discord.allowed_user_ids = vec![discord.owner_id(), OTHER];
        config.schedules.tick_ms = 100;
    })
    .await;
    discord
        .wait_for_commands_registered()
        .await
        .expect("the bot registers its commands");
    (app, discord)
}

/// The bot's (ephemeral) reply to `command`.
async fn reply(discord: &FakeDiscord, command: SlashCommand) -> String {
    let ix = discord.send_slash_command(command).await.unwrap();
    let callback = discord.wait_for_callback(&ix).await.unwrap();
    callback.content().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_schedule_added_in_discord_runs_as_the_users_tasks_and_posts_in_its_channel() {
    within_discord(async {
        let (app, discord) = start().await;
        let add = SlashCommand::new("schedule")
            .subcommand("add")
            .option("cron", "* * * * * *")
            .option("command", "echo scheduled-hello")
            .option("tz", "Europe/Berlin")
            .option("name", "greeting");

        let added = reply(&discord, add).await;
        let schedules = app.state.queue().schedules(&Scope::All).await.unwrap();
        let owner = format!("discord:{}", discord.owner_id());
        // A run fires within a second; a worker takes it and reports.
        let mut claimed = Vec::new();
        while claimed.is_empty() {
            claimed = app.claim_waiting("mac", 2_000).await;
        }
        let task = app.state.queue().get(claimed[0].id).await.unwrap();
        app.report(&claimed[0], "mac", &success("scheduled-hello\n"))
            .await;
        let posted = discord
            .wait_for_channel_message(discord.channel_id(), |m| {
                m.content.contains("✅") && m.content.contains("scheduled-hello")
            })
            .await
            .expect("the run's result is posted in the channel");

        assert!(added.contains("Scheduled"), "{added}");
        assert!(added.contains("Europe/Berlin"), "{added}");
        assert_eq!(schedules.len(), 1);
        assert_eq!(schedules[0].owner, owner);
        assert_eq!(schedules[0].name.as_deref(), Some("greeting"));
        assert_eq!(task.owner.as_deref(), Some(owner.as_str()));
        assert_eq!(task.priority.get(), 7);
        let scheduled_by = format!("scheduled by <@{}>", discord.owner_id());
        assert!(posted.content.contains(&scheduled_by), "{}", posted.content);
        assert!(
            posted.mentions(None).users.is_empty(),
            "a run does not ping its owner"
        );
    })
    .await
}

#[tokio::test]
async fn schedules_are_listed_and_removed_by_their_owner_only() {
    within_discord(async {
        let (app, discord) = start().await;
        let add = SlashCommand::new("schedule")
            .subcommand("add")
            .option("cron", "0 9 * * *")
            .option("command", "uptime");
        reply(&discord, add).await;
        let id: ScheduleId = app.state.queue().schedules(&Scope::All).await.unwrap()[0].id;
        let prefix: String = id.to_string().chars().take(8).collect();

        let mine = reply(&discord, SlashCommand::new("schedule").subcommand("list")).await;
        let theirs = reply(
            &discord,
            SlashCommand::new("schedule").subcommand("list").user(OTHER),
        )
        .await;
        let refused = reply(
            &discord,
            SlashCommand::new("schedule")
                .subcommand("remove")
                .option("schedule", id.to_string())
                .user(OTHER),
        )
        .await;
        let still_there = app
            .state
            .queue()
            .schedules(&Scope::All)
            .await
            .unwrap()
            .len();
        let removed = reply(
            &discord,
            SlashCommand::new("schedule")
                .subcommand("remove")
                .option("schedule", prefix.as_str()),
        )
        .await;
        let bad = reply(
            &discord,
            SlashCommand::new("schedule")
                .subcommand("add")
                .option("cron", "every day")
                .option("command", "uptime"),
        )
        .await;

        assert!(mine.contains(&prefix), "{mine}");
        assert!(!theirs.contains(&prefix), "{theirs}");
        assert!(refused.contains("No schedule"), "{refused}");
        assert_eq!(still_there, 1);
        assert!(removed.contains("Removed"), "{removed}");
        assert!(bad.contains("cron"), "{bad}");
        assert_eq!(
            app.state.queue().schedules(&Scope::All).await.unwrap(),
            vec![]
        );
    })
    .await
}
