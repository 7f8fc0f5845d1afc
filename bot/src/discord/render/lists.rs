//! The `/status`, `/tasks` and `/sessions` listings: one line per worker or task, cut to fit a message.

use openclaw_shared::{EpochMillis, TaskId, TaskStatus};

use super::text::{chars, inline_code, relative_time};
use super::{icon, status_words, MESSAGE_LIMIT};
use crate::intake::Requester;
use crate::queue::{QueueStats, SessionBrief, TaskBrief};

/// How recently a worker must have been seen to count as online: workers hold a long poll
/// for up to ~30 s and claim again as soon as it ends, so silence past this means trouble.
pub const ONLINE_WINDOW_MS: u64 = 90_000;
/// Longest task summary in a `/tasks` line.
const LIST_SUMMARY_CHARS: usize = 60;
/// Most worker lines in `/status`.
const MAX_WORKER_LINES: usize = 20;

/// The first 8 characters of a task id: enough to tell recent tasks apart, and what
/// `/cancel` accepts.
pub fn short_id(id: TaskId) -> String {
    id.to_string().chars().take(8).collect()
}

/// `/status`: workers (online or not, running tasks, last seen, which token) and the
/// depth of the queue: of the user's own tasks, or of `everyone`'s.
pub fn status(stats: &QueueStats, everyone: bool, now: EpochMillis) -> String {
    let mut lines = vec!["**Workers**".to_owned()];
    if stats.workers.is_empty() {
        lines.push("-# no worker has polled lately".to_owned());
    }
    for worker in stats.workers.iter().take(MAX_WORKER_LINES) {
        let online = now.saturating_sub(worker.last_seen) <= ONLINE_WINDOW_MS;
        let dot = if online { "🟢" } else { "⚫" };
        let running = match worker.running {
            0 => "idle".to_owned(),
            n => format!("{n} running"),
        };
        // Only the exception is worth a phone's screen: a worker that runs nothing without
        // approval because it has no sandbox.
        let sandbox = match &worker.sandbox {
            Some(report) if !report.enforced => " · ⚠️ no sandbox: everything needs approval",
            _ => "",
        };
        // Which token a name came with tells the real worker from a guest of the shared one.
        let token = match (&worker.token, worker.shared) {
            (Some(_), false) => " · own token",
            (Some(_), true) => " · shared token",
            (None, _) => "",
        };
        lines.push(format!(
            "{dot} `{}` · {running} · seen {}{token}{sandbox}",
            worker.name,
            relative_time(worker.last_seen)
        ));
    }
    if stats.workers.len() > MAX_WORKER_LINES {
        lines.push(format!(
            "-# and {} more",
            stats.workers.len() - MAX_WORKER_LINES
        ));
    }
    let count = |status: TaskStatus| {
        stats
            .by_status
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    };
    let whose = if everyone { "Queue" } else { "Your tasks" };
    lines.push(format!(
        "**{whose}** · {} queued · {} running · {} awaiting approval",
        count(TaskStatus::Queued),
        count(TaskStatus::Running),
        count(TaskStatus::AwaitingApproval)
    ));
    lines.join("\n")
}

/// `/tasks`: the given tasks (most recent first), one line each, as many as fit: the user's
/// own, or `everyone`'s with whose each is.
pub fn tasks(tasks: &[TaskBrief], everyone: bool) -> String {
    if tasks.is_empty() {
        return if everyone {
            "No tasks yet."
        } else {
            "You have no tasks yet."
        }
        .to_owned();
    }
    let mut out = String::from(if everyone {
        "**Recent tasks** · everyone's"
    } else {
        "**Your recent tasks**"
    });
    let reserve = 40; // for the "and N more" line
    for (shown, task) in tasks.iter().enumerate() {
        let line = task_line(task, everyone);
        if chars(&out) + 1 + chars(&line) > MESSAGE_LIMIT - reserve {
            out.push_str(&format!("\n-# and {} more", tasks.len() - shown));
            break;
        }
        out.push('\n');
        out.push_str(&line);
    }
    out
}

/// `/sessions`: the user's sessions, most recently used first, each with its id (to
/// `resume:`), agent, latest prompt, worker and when; as many as fit.
pub fn sessions(sessions: &[SessionBrief]) -> String {
    if sessions.is_empty() {
        return "You have no Claude sessions yet: /claude starts one.".to_owned();
    }
    let mut out =
        String::from("**Your recent sessions** · `/sessions resume:<id>` continues one here");
    for session in sessions {
        let mut parts = vec![
            format!("`{}`", session.session_id),
            session.agent.clone(),
            inline_code(&session.last_prompt, LIST_SUMMARY_CHARS),
        ];
        if let Some(worker) = &session.worker {
            parts.push(format!("`{worker}`"));
        }
        parts.push(relative_time(session.updated_at));
        let line = parts.join(" · ");
        if chars(&out) + 1 + chars(&line) > MESSAGE_LIMIT {
            break;
        }
        out.push('\n');
        out.push_str(&line);
    }
    out
}

fn task_line(task: &TaskBrief, whose: bool) -> String {
    let mut parts = vec![
        format!("{} `{}`", icon(task.status), short_id(task.id)),
        inline_code(&task.summary, LIST_SUMMARY_CHARS),
        status_words(task.status).to_owned(),
    ];
    if let Some(code) = task.exit_code {
        parts.push(format!("exit {code}"));
    }
    if let Some(worker) = &task.worker {
        parts.push(format!("`{worker}`"));
    }
    if whose {
        parts.push(owner(task.owner.as_deref()));
    }
    parts.push(relative_time(task.created_at));
    parts.join(" · ")
}

/// Whose a task is, for an admin's listing: a Discord user as a mention (mentions are off
/// on every message, so it names without pinging), the API, or the admin for tasks from
/// before owners were recorded.
fn owner(key: Option<&str>) -> String {
    match key.map(Requester::from_owner) {
        Some(Some(Requester::DiscordUser(id))) => format!("<@{id}>"),
        Some(Some(Requester::ApiClient)) => "API".to_owned(),
        Some(None) => "someone else".to_owned(),
        None => "admin".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use openclaw_shared::TaskSpec;

    use super::*;
    use crate::discord::render::tests::sample_brief;
    use crate::queue::WorkerInfo;
    use openclaw_shared::worker::SandboxReport;

    fn task(command: &str, status: TaskStatus) -> TaskBrief {
        let spec = TaskSpec::Command {
            command: command.into(),
            cwd: None,
        };
        sample_brief(spec, status)
    }

    #[test]
    fn status_shows_workers_with_presence_and_the_queue_depth() {
        let stats = QueueStats {
            by_status: vec![(TaskStatus::Queued, 2), (TaskStatus::Running, 1)],
            workers: vec![
                WorkerInfo {
                    name: "mac".into(),
                    last_seen: 1_000_000,
                    running: 1,
                    sandbox: None,
                    token: Some("auth.workers (name = \"mac\")".into()),
                    shared: false,
                },
                WorkerInfo {
                    name: "old".into(),
                    last_seen: 1,
                    running: 0,
                    sandbox: Some(SandboxReport {
                        enforced: false,
                        detail: "unavailable: no Landlock".into(),
                    }),
                    token: Some("auth.worker_token".into()),
                    shared: true,
                },
            ],
        };

        let text = status(&stats, true, 1_000_500);

        assert!(
            text.contains("🟢 `mac` · 1 running · seen <t:1000:R> · own token\n"),
            "{text}"
        );
        assert!(
            text.contains("⚫ `old` · idle · seen <t:0:R> · shared token · ⚠️ no sandbox"),
            "{text}"
        );
        assert!(
            text.contains("**Queue** · 2 queued · 1 running · 0 awaiting approval"),
            "{text}"
        );
        assert!(status(&stats, false, 1_000_500).contains("**Your tasks** · 2 queued"));
    }

    #[test]
    fn status_without_workers_says_so() {
        let stats = QueueStats {
            by_status: Vec::new(),
            workers: Vec::new(),
        };

        assert!(status(&stats, false, 0).contains("no worker has polled lately"));
    }

    #[test]
    fn task_lines_carry_short_id_summary_status_and_worker() {
        let text = tasks(&[task("echo `hi`", TaskStatus::Running)], false);

        assert_eq!(
            text,
            "**Your recent tasks**\n⚙️ `6f1c1a8e` · `echo ˋhiˋ` · running · `mac` · <t:1700000000:R>"
        );
    }

    #[test]
    fn everyones_list_says_whose_each_task_is() {
        let owned = |owner: Option<&str>| {
            let mut task = task("id", TaskStatus::Queued);
            task.owner = owner.map(str::to_owned);
            task
        };

        let text = tasks(
            &[owned(Some("discord:42")), owned(Some("api")), owned(None)],
            true,
        );

        assert!(
            text.starts_with("**Recent tasks** · everyone's\n"),
            "{text}"
        );
        assert!(text.contains("· `mac` · <@42> · <t:"), "{text}");
        assert!(text.contains("· `mac` · API · <t:"), "{text}");
        assert!(text.contains("· `mac` · admin · <t:"), "{text}");
        assert!(!tasks(&[owned(Some("api"))], false).contains("API"));
    }

    #[test]
    fn a_long_list_is_cut_to_fit_a_message() {
        let many: Vec<TaskBrief> = (0..200)
            .map(|_| task(&"x".repeat(80), TaskStatus::Succeeded))
            .collect();

        let text = tasks(&many, false);

        assert!(chars(&text) <= MESSAGE_LIMIT);
        assert!(text.contains("more"), "{text}");
    }
}
