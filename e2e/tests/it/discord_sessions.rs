//! Claude conversations from Discord: `/claude` continues the channel's session (the
//! binding survives a bot restart), `new:true` starts another, `/sessions` lists them and
//! `resume:` goes back to one, `/agent` offers the configured agents. The worker's fake
//! `claude` prints its argv, which the result message shows.

use discord_fake::{SlashCommand, StoredMessage};

use crate::helpers::{within_discord, DiscordTest};

/// The session id a result's facts line names (`session `<id>``).
fn session_of(result: &StoredMessage) -> String {
    let (_, rest) = result
        .content
        .split_once("session `")
        .unwrap_or_else(|| panic!("no session in {}", result.content));
    rest.split('`').next().unwrap().to_owned()
}

async fn ask(t: &DiscordTest, command: SlashCommand) -> StoredMessage {
    let ix = t.command(command).await;
    t.result(&ix).await
}

fn claude(prompt: &str) -> SlashCommand {
    SlashCommand::new("claude").option("prompt", prompt)
}

#[tokio::test]
async fn a_three_turn_conversation_continues_one_session_across_a_bot_restart() {
    within_discord(async {
        let mut t = DiscordTest::start().await;

        let one = ask(&t, claude("turn one")).await;
        let session = session_of(&one);
        let two = ask(&t, claude("turn two")).await;
        t.restart_bot(|_| {}).await;
        let three = ask(&t, claude("turn three")).await;

        assert!(
            one.content.contains(&format!(
                "claude args: -p --session-id {session} -- turn one"
            )),
            "{}",
            one.content
        );
        for (result, prompt) in [(&two, "turn two"), (&three, "turn three")] {
            assert!(
                result
                    .content
                    .contains(&format!("claude args: -p --resume {session} -- {prompt}")),
                "{}",
                result.content
            );
            assert_eq!(session_of(result), session);
        }
    })
    .await;
}

#[tokio::test]
async fn new_starts_another_session_and_sessions_resume_goes_back() {
    within_discord(async {
        let t = DiscordTest::start().await;
        let first = session_of(&ask(&t, claude("first topic")).await);

        let fresh = ask(&t, claude("second topic").option("new", true)).await;
        let second = session_of(&fresh);
        let list = t.command(SlashCommand::new("sessions")).await;
        let listed = t.discord.wait_for_callback(&list).await.unwrap();
        let resume = t
            .command(SlashCommand::new("sessions").option("resume", first.as_str()))
            .await;
        let resumed = t.discord.wait_for_callback(&resume).await.unwrap();
        let back = ask(&t, claude("first again")).await;
        let stranger = t
            .command(SlashCommand::new("sessions").option("resume", "not-mine-1"))
            .await;
        let refused = t.discord.wait_for_callback(&stranger).await.unwrap();

        assert_ne!(first, second);
        assert!(fresh
            .content
            .contains(&format!("--session-id {second} -- second topic")));
        let text = listed.content().unwrap();
        assert!(listed.is_ephemeral());
        assert!(text.contains(&first) && text.contains(&second), "{text}");
        assert!(text.contains("second topic"), "{text}");
        assert!(resumed.content().unwrap().contains(&first));
        assert!(
            back.content
                .contains(&format!("--resume {first} -- first again")),
            "{}",
            back.content
        );
        assert!(refused.content().unwrap().contains("No session"));
    })
    .await;
}

#[tokio::test]
async fn agent_queues_the_chosen_agent_and_a_worker_without_it_runs_nothing() {
    within_discord(async {
        let t = DiscordTest::start().await;

        // Discord sends the index of the choice picked: 0 is `codex`.
        let result = ask(
            &t,
            SlashCommand::new("agent")
                .option("agent", 0_i64)
                .option("prompt", "hello $(whoami)"),
        )
        .await;

        assert!(
            result.content.starts_with("⛔ `codex: hello $(whoami)`"),
            "{}",
            result.content
        );
        assert!(
            result.content.contains("no agent named codex"),
            "{}",
            result.content
        );
    })
    .await;
}
