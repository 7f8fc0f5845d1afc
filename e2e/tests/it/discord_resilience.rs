//! Discord results survive the bot's trouble: a bot restart with a task in flight, and a
//! result Discord would not take for a while, delivered after a restart. (A gateway that
//! cannot connect needs no worker: the bot's own tests.)

use std::time::Duration;

use discord_fake::{FailMode, Route, SlashCommand};
use openclaw_bot::queue::Scope;

use crate::helpers::{is_result, within_discord, DiscordTest};

#[tokio::test]
async fn a_task_in_flight_during_a_bot_restart_is_still_answered_in_its_message() {
    within_discord(async {
        let mut t = DiscordTest::start().await;
        let gate = t.script(
            "gate.sh",
            "#!/bin/sh\nwhile [ ! -e go ]; do sleep 0.05; done\necho survived\n",
        );
        let ix = t
            .command(SlashCommand::new("run").option("command", gate.as_str()))
            .await;
        t.discord
            .wait_for_original(&ix, |m| m.content.contains("running on `mac`"))
            .await
            .unwrap();

        // Same data dir and port: the worker keeps its lease and reports to the new bot.
        t.restart_bot(|_| {}).await;
        t.discord.wait_for_identifies(2).await.unwrap();
        std::fs::write(t.path("go"), "").unwrap();
        let result = t.result(&ix).await;

        assert!(
            result.content.ends_with("```\nsurvived\n```"),
            "{}",
            result.content
        );
    })
    .await;
}

#[tokio::test]
async fn a_result_discord_refused_for_a_while_stays_stored_and_is_delivered_after_a_restart() {
    within_discord(async {
        let slow_edits = |c: &mut openclaw_bot::Config| c.discord.edit_interval_ms = 60_000;
        let mut t = DiscordTest::start_with(slow_edits).await;
        // Every try of the result edit fails (the test config makes 4 tries).
        t.discord
            .fail_times(Route::EditOriginal, FailMode::Status(503), 4);

        let ix = t
            .command(SlashCommand::new("run").option("command", "echo kept"))
            .await;
        // No event marks "out of attempts"; the fake's log shows all four refused.
        while t
            .discord
            .requests_to(Route::EditOriginal)
            .iter()
            .filter(|r| r.status == Some(503))
            .count()
            < 4
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let queue = t.bot().state.queue().clone();
        let id = queue.list(&Scope::All, None, 1).await.unwrap()[0].id;
        // A Discord user's task: the client token does not see it, the store keeps it.
        let stored = queue.get(id).await.unwrap().outcome.unwrap();
        let undelivered: Vec<_> = queue.undelivered(10).await.unwrap();
        assert_eq!(stored.stdout, "kept\n");
        assert_eq!(undelivered.len(), 1);
        assert_eq!(undelivered[0].id, id);
        assert!(!is_result(&t.discord.original_response(&ix).unwrap()));

        t.restart_bot(slow_edits).await;
        let result = t.result(&ix).await;

        assert!(
            result.content.ends_with("```\nkept\n```"),
            "{}",
            result.content
        );
        // The delivery is recorded just after Discord's answer; no event announces it.
        while !t
            .bot()
            .state
            .queue()
            .undelivered(10)
            .await
            .unwrap()
            .is_empty()
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}
