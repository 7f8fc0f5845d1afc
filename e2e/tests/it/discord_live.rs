//! Live and long output in Discord: a running task's message shows its output growing
//! (edits observed through the fake), and a long output's result shows its real end with a
//! note that says truthfully what was kept.

use std::time::Duration;

use discord_fake::SlashCommand;

use crate::helpers::{is_result, within_discord, DiscordTest};

/// Prints `tick 1` … `tick 10`, one a second.
const TICKER: &str =
    "#!/bin/sh\ni=1\nwhile [ $i -le 10 ]; do echo \"tick $i\"; i=$((i+1)); sleep 1; done\n";

#[tokio::test]
async fn a_running_tasks_message_shows_its_output_growing_before_the_result() {
    within_discord(async {
        let t = DiscordTest::start().await;
        let ticker = t.script("ticker.sh", TICKER);

        let ix = t
            .command(SlashCommand::new("run").option("command", ticker.as_str()))
            .await;
        let mut shown: Vec<String> = Vec::new();
        let result = loop {
            if let Some(message) = t.discord.original_response(&ix) {
                if is_result(&message) {
                    break message;
                }
                let live = message.content.contains("running on `mac`")
                    && message.content.contains("tick ");
                if live && shown.last() != Some(&message.content) {
                    shown.push(message.content.clone());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };

        assert!(shown.len() >= 2, "live edits seen: {shown:#?}");
        let ticks = |m: &String| m.matches("tick ").count();
        assert!(
            shown.windows(2).all(|w| ticks(&w[1]) > ticks(&w[0])),
            "{shown:#?}"
        );
        assert!(shown[0].contains("```\ntick 1\n"), "{}", shown[0]);
        assert!(
            result.content.ends_with("tick 9\ntick 10\n```"),
            "{}",
            result.content
        );
    })
    .await;
}

#[tokio::test]
async fn a_long_outputs_result_shows_its_real_end_and_says_what_was_kept() {
    within_discord(async {
        let t = DiscordTest::start().await;

        let result = t.run("seq 1 200000").await;

        assert!(result.content.chars().count() <= 2000);
        assert!(
            result.content.contains("\n199999\n200000\n```"),
            "{}",
            result.content
        );
        assert!(
            result
                .content
                .contains("stdout was 1.2 MiB: the worker kept the first 63.9 KiB and the last"),
            "{}",
            result.content
        );
        assert!(
            result
                .content
                .contains("`output.txt` holds all the worker kept"),
            "{}",
            result.content
        );
        let file =
            String::from_utf8(result.attachment("output.txt").unwrap().bytes.clone()).unwrap();
        assert!(file.starts_with("1\n2\n3\n"));
        assert!(file.contains(" bytes omitted …\n"));
        assert!(file.ends_with("\n200000\n"));
    })
    .await;
}
