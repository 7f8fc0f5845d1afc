//! `/approve` and `/deny` end to end: the real poise bot against the Discord fake, with the
//! test playing the worker over HTTP (as `approvals.rs` does): it claims the task, reports an
//! approval request, reads the relayed answer from its heartbeat and reports its verdict.

use discord_fake::{CallbackKind, FakeDiscord, Interaction, InteractionCallback, SlashCommand};
use openclaw_shared::worker::{ApprovalDecision, ClaimedTask};
use openclaw_shared::{OutcomeStatus, TaskOutcome, TaskStatus};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::discord_support::{discord_config, is_result, within_discord};
use crate::helpers::{TestApp, WORKER};

/// The fingerprint the played worker reports.
const FINGERPRINT: &str = "ABCD2345";
/// The owner's TOTP code in these tests: it must never reach anything public.
const CODE: &str = "864209";

/// The fake Discord and the bot connected to it; no worker runs: the test is the worker.
struct ApprovalTest {
    app: TestApp,
    discord: FakeDiscord,
}

impl ApprovalTest {
    async fn start() -> ApprovalTest {
        let discord = FakeDiscord::start()
            .await
            .expect("starting the Discord fake");
        let app = TestApp::spawn_with(|config| discord_config(config, &discord)).await;
        discord
            .wait_for_commands_registered()
            .await
            .expect("the bot registers its commands");
        ApprovalTest { app, discord }
    }

    /// Sends a slash command as the allowed user and returns the bot's first answer to it.
    async fn answer(&self, command: SlashCommand) -> InteractionCallback {
        let ix = self.command(command).await;
        self.discord.wait_for_callback(&ix).await.unwrap()
    }

    async fn command(&self, command: SlashCommand) -> Interaction {
        self.discord
            .send_slash_command(command)
            .await
            .expect("the fake sends the command")
    }

    /// `/run rm -rf build`, claimed by the played worker `mac`, which then asks for approval
    /// under [`FINGERPRINT`]; returns the `/run` interaction once its message shows the
    /// request, and the claim.
    async fn awaiting_approval(&self) -> (Interaction, ClaimedTask) {
        let run = self
            .command(SlashCommand::new("run").option("command", "rm -rf build"))
            .await;
        let claimed = self.app.claim_waiting("mac", 5_000).await.remove(0);
        let requested = json!({
            "state": "requested",
            "fingerprint": FINGERPRINT,
            "summary": "/bin/rm -rf /Users/me/build",
            "expires_at": 1,
        });
        assert_eq!(
            self.report_approval(&claimed, requested).await,
            StatusCode::NO_CONTENT
        );
        self.discord
            .wait_for_original(&run, |m| {
                m.content
                    .contains(&format!("/approve {FINGERPRINT} <code>"))
            })
            .await
            .expect("the task's message shows the approval request");
        (run, claimed)
    }

    /// The played worker's `POST /v1/worker/tasks/:id/approval`.
    async fn report_approval(&self, claimed: &ClaimedTask, state: Value) -> StatusCode {
        let body = json!({ "worker": "mac", "lease": claimed.lease, "state": state });
        let path = format!("/v1/worker/tasks/{}/approval", claimed.id);
        self.app
            .http
            .post(self.app.url(&path))
            .bearer_auth(WORKER)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
    }

    /// What the played worker's next heartbeat relays for `claimed`.
    async fn relayed(&self, claimed: &ClaimedTask) -> Option<ApprovalDecision> {
        let beat = self.app.heartbeat("mac", &[claimed]).await;
        beat.leases[0].approval.clone()
    }

    async fn status(&self, claimed: &ClaimedTask) -> TaskStatus {
        self.app.state.queue().get(claimed.id).await.unwrap().status
    }

    /// Asserts that `code` never went back out to Discord: no request the bot made (channel
    /// messages, edits of a task's message, replies public or private, uploaded files)
    /// carries it. Stricter than "only ephemerally": the bot has no reason to repeat it.
    fn assert_code_stayed_private(&self, code: &str) {
        for request in self.discord.requests() {
            assert!(
                !request.payload.json.to_string().contains(code),
                "the code went out in {:?}: {}",
                request.route,
                request.payload.json
            );
            assert!(request
                .payload
                .files
                .iter()
                .all(|f| !String::from_utf8_lossy(&f.bytes).contains(code)));
        }
        let channel = self.discord.channel_messages(self.discord.channel_id());
        assert!(channel.iter().all(|m| !m.content.contains(code)));
    }
}

fn approve(fingerprint: &str, code: &str) -> SlashCommand {
    SlashCommand::new("approve")
        .option("fingerprint", fingerprint)
        .option("code", code)
}

fn deny(fingerprint: &str) -> SlashCommand {
    SlashCommand::new("deny").option("fingerprint", fingerprint)
}

/// Asserts an ephemeral reply (not a defer) whose text contains `fragment`.
fn assert_private_reply(answer: &InteractionCallback, fragment: &str) {
    let content = answer.content().unwrap_or_default();
    assert_eq!(answer.kind, CallbackKind::Message, "{content}");
    assert!(answer.is_ephemeral(), "{content}");
    assert!(content.contains(fragment), "{content:?} lacks {fragment:?}");
}

#[tokio::test]
async fn approve_and_deny_are_registered_with_their_options() {
    within_discord(async {
        let t = ApprovalTest::start().await;

        let commands = t.discord.registered_commands();

        for (name, expected) in [
            ("approve", vec!["fingerprint", "code"]),
            ("deny", vec!["fingerprint"]),
        ] {
            let command = commands.iter().find(|c| c.name == name).unwrap();
            let options: Vec<&str> = command.sent["options"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["name"].as_str().unwrap())
                .collect();
            assert_eq!(options, expected);
            assert!(command.sent["options"]
                .as_array()
                .unwrap()
                .iter()
                .all(|o| o["required"] == json!(true)));
            let description = command.sent["description"].as_str().unwrap();
            assert!(
                !description.is_empty() && description.len() <= 100,
                "{description}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn approve_relays_the_code_on_the_next_heartbeat_and_answers_only_the_user() {
    within_discord(async {
        let t = ApprovalTest::start().await;
        let (_, claimed) = t.awaiting_approval().await;

        // Typed on a phone: lower case, a dash, the code in two halves as apps show it.
        let answer = t.answer(approve("abcd-2345", "864 209")).await;
        let first = t.relayed(&claimed).await;
        let second = t.relayed(&claimed).await;

        assert_private_reply(&answer, &format!("Code sent for `{FINGERPRINT}`"));
        let content = answer.content().unwrap();
        assert!(content.contains("`rm -rf build`"), "{content}");
        assert!(
            content.contains("Your Mac checks the code itself"),
            "{content}"
        );
        assert!(!content.contains(CODE) && !content.contains("864 209"));
        assert_eq!(
            first,
            Some(ApprovalDecision::Approve {
                fingerprint: FINGERPRINT.into(),
                code: CODE.into(),
            })
        );
        // Relayed once; the task waits for the worker's verdict, not for the bot's.
        assert_eq!(second, None);
        assert_eq!(t.status(&claimed).await, TaskStatus::AwaitingApproval);
        t.assert_code_stayed_private(CODE);
        t.assert_code_stayed_private("864 209");
    })
    .await;
}

#[tokio::test]
async fn a_wrong_fingerprint_or_a_malformed_answer_is_refused_and_nothing_is_relayed() {
    within_discord(async {
        let t = ApprovalTest::start().await;
        let (_, claimed) = t.awaiting_approval().await;

        let other = t.answer(approve("ZZZZ7777", CODE)).await;
        let short = t.answer(approve(FINGERPRINT, "86420")).await;
        let smuggled = t.answer(approve("ABCD$(id)", CODE)).await;
        let deny_other = t.answer(deny("ZZZZ7777")).await;

        assert_private_reply(
            &other,
            "No task is awaiting approval with fingerprint `ZZZZ7777`",
        );
        assert_private_reply(&short, "6-digit code");
        assert_private_reply(&smuggled, "fingerprint must be");
        assert_private_reply(
            &deny_other,
            "No task is awaiting approval with fingerprint `ZZZZ7777`",
        );
        assert_eq!(t.relayed(&claimed).await, None);
        assert_eq!(t.status(&claimed).await, TaskStatus::AwaitingApproval);
        t.assert_code_stayed_private(CODE);
    })
    .await;
}

#[tokio::test]
async fn a_user_not_on_the_allow_list_can_neither_approve_nor_deny() {
    within_discord(async {
        let t = ApprovalTest::start().await;
        let (_, claimed) = t.awaiting_approval().await;
        let stranger = t.discord.owner_id() + 1;

        let approved = t.answer(approve(FINGERPRINT, CODE).user(stranger)).await;
        let denied = t.answer(deny(FINGERPRINT).user(stranger)).await;

        assert_private_reply(&approved, "not allowed");
        assert_private_reply(&denied, "not allowed");
        assert_eq!(t.relayed(&claimed).await, None);
        assert_eq!(t.status(&claimed).await, TaskStatus::AwaitingApproval);
        t.assert_code_stayed_private(CODE);
    })
    .await;
}

#[tokio::test]
async fn deny_relays_a_denial_and_the_task_message_shows_it_denied() {
    within_discord(async {
        let t = ApprovalTest::start().await;
        let (run, claimed) = t.awaiting_approval().await;

        let answer = t.answer(deny(FINGERPRINT)).await;
        let relayed = t.relayed(&claimed).await;
        // The worker ends the task as it does on a denial.
        let mut denied = TaskOutcome::new(OutcomeStatus::Denied);
        denied.error = Some("denied by the owner".into());
        let (status, body) = t.app.report(&claimed, "mac", &denied).await;
        let message = t.discord.wait_for_original(&run, is_result).await.unwrap();

        assert_private_reply(&answer, &format!("Denial sent for `{FINGERPRINT}`"));
        assert_eq!(relayed, Some(ApprovalDecision::Deny));
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            message.content.starts_with("⛔ `rm -rf build`\n-# denied"),
            "{}",
            message.content
        );
        assert!(message.content.contains("denied by the owner"));
    })
    .await;
}

#[tokio::test]
async fn a_code_the_worker_rejects_shows_on_the_task_message() {
    within_discord(async {
        let t = ApprovalTest::start().await;
        let (run, claimed) = t.awaiting_approval().await;

        t.answer(approve(FINGERPRINT, CODE)).await;
        assert!(t.relayed(&claimed).await.is_some());
        let rejected = json!({"state": "rejected", "reason": "code already used"});
        assert_eq!(
            t.report_approval(&claimed, rejected).await,
            StatusCode::NO_CONTENT
        );
        let message = t
            .discord
            .wait_for_original(&run, |m| m.content.contains("approval refused"))
            .await
            .expect("the task's message shows the worker's refusal");

        assert!(
            message
                .content
                .ends_with("⚠️ approval refused: `code already used`"),
            "{}",
            message.content
        );
        // Still waiting, and still saying how to answer.
        assert!(message
            .content
            .contains(&format!("/approve {FINGERPRINT} <code>")));
        assert!(!message.is_ephemeral());
        assert_eq!(t.status(&claimed).await, TaskStatus::AwaitingApproval);
        t.assert_code_stayed_private(CODE);
    })
    .await;
}

#[tokio::test]
async fn a_task_from_the_http_api_can_be_approved_from_discord() {
    within_discord(async {
        let t = ApprovalTest::start().await;
        let id = t.app.submit_command("rm -rf build").await;
        let claimed = t.app.claim("mac").await.remove(0);
        let requested = json!({"state": "requested", "fingerprint": "WXYZ6789", "summary": "rm", "expires_at": 1});
        assert_eq!(
            t.report_approval(&claimed, requested).await,
            StatusCode::NO_CONTENT
        );

        let answer = t.answer(approve("wxyz6789", CODE)).await;

        assert_eq!(claimed.id, id);
        assert_private_reply(&answer, "Code sent for `WXYZ6789`");
        assert_eq!(
            t.relayed(&claimed).await,
            Some(ApprovalDecision::Approve {
                fingerprint: "WXYZ6789".into(),
                code: CODE.into(),
            })
        );
    })
    .await;
}
