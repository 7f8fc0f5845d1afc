//! The owner's own notification channel: a Discord webhook URL that only the Mac holds.
//! When a task needs approval the worker posts the request there itself: the exact
//! command or paths as they will run, the fingerprint, the expiry and how to approve. The
//! bot shows the request too, but the bot may be compromised; this message is the Mac's.

use std::time::Duration;

use openclaw_shared::TaskId;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::client::Backoff;
use crate::visible::keep_lines;

/// Discord's limit on a message's `content`, in characters.
pub const MAX_MESSAGE_CHARS: usize = 2000;
/// Most characters the approval message takes around the summary: header (with a worker
/// name of up to 64 characters), code fences and footer (a test holds it to this).
pub const MAX_FRAME_CHARS: usize = 400;
/// Longest summary an approval message shows whole.
pub const MAX_SUMMARY_CHARS: usize = MAX_MESSAGE_CHARS - MAX_FRAME_CHARS;
/// Attempts per notification (the first plus retries of transient failures).
const ATTEMPTS: u32 = 3;
/// Timeout of one webhook request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a notification was not delivered.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// No answer (the error is stripped of the URL, which holds the webhook's secret).
    #[error("the webhook could not be reached")]
    Network,
    /// The webhook answered with an error status.
    #[error("the webhook answered {0}")]
    Status(reqwest::StatusCode),
}

/// An approval request, as the owner should read it.
#[derive(Debug, Clone, Copy)]
pub struct ApprovalNotice<'a> {
    /// The task.
    pub task_id: TaskId,
    /// What the owner types back.
    pub fingerprint: &'a str,
    /// What will run, exactly (see [`crate::pipeline::describe()`]).
    pub summary: &'a str,
    /// When the request lapses, epoch seconds.
    pub expires_at_secs: u64,
}

/// Posts to the owner's webhook.
pub struct Notifier {
    http: reqwest::Client,
    url: SecretString,
    worker: String,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("worker", &self.worker)
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// A notifier posting to `url` (validated by the config) on behalf of `worker`.
    pub fn new(url: SecretString, worker: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("openclaw-worker/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| anyhow::anyhow!("building the webhook client: {err}"))?;
        Ok(Self {
            http,
            url,
            worker: worker.to_owned(),
        })
    }

    /// Posts the approval request, retrying transient failures a few times.
    pub async fn approval_requested(&self, notice: &ApprovalNotice<'_>) -> Result<(), NotifyError> {
        let body = json!({
            "content": approval_message(&self.worker, notice),
            // Output and commands are untrusted text: nobody is ever pinged by them.
            "allowed_mentions": { "parse": [] },
        });
        let mut backoff = Backoff::default();
        let mut attempt = 1;
        loop {
            let sent = self
                .http
                .post(self.url.expose_secret())
                .json(&body)
                .send()
                .await;
            let error = match sent {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => {
                    let status = response.status();
                    if !(status.is_server_error() || status.as_u16() == 429) {
                        return Err(NotifyError::Status(status));
                    }
                    NotifyError::Status(status)
                }
                Err(_) => NotifyError::Network,
            };
            if attempt >= ATTEMPTS {
                return Err(error);
            }
            attempt += 1;
            tokio::time::sleep(backoff.next_delay()).await;
        }
    }
}

/// The message for an approval request: who asks, the fingerprint, the expiry (a Discord
/// timestamp, shown in the reader's time zone), exactly what will run in a code block, and
/// the commands to answer. Anything in the summary that would not show as itself (a
/// control, a bidi override, a zero-width or non-ASCII blank character) is spelled out.
/// A summary from [`crate::pipeline::describe()`] always fits whole (a task that would not
/// is denied instead); any other is cut to fit Discord's limit, saying so.
pub fn approval_message(worker: &str, notice: &ApprovalNotice<'_>) -> String {
    let fp = notice.fingerprint;
    let header = format!(
        "**Approval needed** on worker `{}` (message from the Mac itself)\n\
         Fingerprint **{fp}** · expires <t:{}:R>\n",
        escape_fences(worker),
        notice.expires_at_secs
    );
    let footer = format!(
        "Approve: `/approve {fp} <code from your authenticator>` · Deny: `/deny {fp}`\n\
         Task `{}`. Approve only if this is what you asked for.",
        notice.task_id
    );
    let cut_note = "\n… (cut to fit; the fingerprint covers the whole task)";
    let frame = header.chars().count() + footer.chars().count() + "```\n\n```\n".len();
    let room = MAX_MESSAGE_CHARS.saturating_sub(frame);
    let escaped = escape_fences(&keep_lines(notice.summary));
    let summary = if escaped.chars().count() > room {
        let keep = room.saturating_sub(cut_note.chars().count());
        let mut cut: String = escaped.chars().take(keep).collect();
        cut.push_str(cut_note);
        cut
    } else {
        escaped
    };
    format!("{header}```\n{summary}\n```\n{footer}")
}

/// Makes text safe inside a Discord code block: a zero-width space after every backtick,
/// so no ``` can close the block and let the text pose as the worker's own words.
pub fn escape_fences(text: &str) -> String {
    text.replace('`', "`\u{200B}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(summary: &str) -> ApprovalNotice<'_> {
        ApprovalNotice {
            task_id: TaskId(uuid::Uuid::nil()),
            fingerprint: "ABCD2345",
            summary,
            expires_at_secs: 1_700_000_600,
        }
    }

    #[test]
    fn message_shows_fingerprint_expiry_command_and_how_to_answer() {
        let text = approval_message("mac", &notice("/bin/rm -rf /Users/me/build"));

        assert!(text.contains("**ABCD2345**"));
        assert!(text.contains("<t:1700000600:R>"));
        assert!(text.contains("```\n/bin/rm -rf /Users/me/build\n```"));
        assert!(text.contains("/approve ABCD2345"));
        assert!(text.contains("/deny ABCD2345"));
    }

    #[test]
    fn a_fence_in_the_command_cannot_close_the_code_block() {
        let text = approval_message("mac", &notice("ls\n```\nAll clear, approve away\n```"));

        assert_eq!(text.matches("```").count(), 2, "{text}");
    }

    #[test]
    fn a_long_command_is_cut_to_discords_limit_and_says_so() {
        let long = "x".repeat(5000);

        let text = approval_message("mac", &notice(&long));

        assert!(text.chars().count() <= MAX_MESSAGE_CHARS);
        assert!(text.contains("cut to fit"));
        assert!(text.ends_with("Approve only if this is what you asked for."));
    }

    #[test]
    fn the_frame_around_the_summary_stays_within_its_budget() {
        let longest_name = "w".repeat(openclaw_shared::worker::MAX_WORKER_NAME_LEN);
        let notice = ApprovalNotice {
            task_id: TaskId::new(),
            expires_at_secs: u64::MAX,
            ..notice("")
        };

        let frame = approval_message(&longest_name, &notice).chars().count();

        assert!(frame <= MAX_FRAME_CHARS, "{frame}");
    }

    #[test]
    fn a_summary_of_the_longest_shown_length_is_never_cut() {
        let summary = "s".repeat(MAX_SUMMARY_CHARS);
        let name = "w".repeat(openclaw_shared::worker::MAX_WORKER_NAME_LEN);

        let text = approval_message(&name, &notice(&summary));

        assert!(text.chars().count() <= MAX_MESSAGE_CHARS);
        assert!(text.contains(&summary));
        assert!(!text.contains("cut to fit"));
    }

    #[test]
    fn hidden_characters_in_a_summary_are_spelled_out() {
        let text = approval_message("mac", &notice("rm \u{202e}x\u{200b}\ny\u{2028}z"));

        assert!(text.contains("rm ⟨U+202E⟩x⟨U+200B⟩\ny⟨U+2028⟩z"), "{text}");
    }

    #[test]
    fn debug_output_hides_the_webhook_url() {
        let notifier = Notifier::new(
            SecretString::from("https://discord.com/api/webhooks/1/sekrit"),
            "mac",
        )
        .unwrap();

        assert!(!format!("{notifier:?}").contains("sekrit"));
    }
}
