//! Intake: the one place a task request from any adapter (the HTTP API, Discord, and the
//! adapters still to come) becomes a [`NewTask`] — zero2prod's parse-don't-validate `domain`.
//! Adapters translate their own shape into a [`TaskRequest`], call [`check`], and turn an
//! [`IntakeError`] into their own error (`From<IntakeError>` for `ApiError` and the Discord
//! `CommandError`), so every rule is written once and names the field it refused.

pub mod admission;
pub mod callback;
pub mod channels;
pub mod fields;
pub mod origin;
pub mod owner;

use std::fmt;
use std::time::Duration;

use openclaw_shared::client::{DEFAULT_CLAUDE_TIMEOUT_MS, DEFAULT_COMMAND_TIMEOUT_MS};
use openclaw_shared::task::{AgentSession, CLAUDE_AGENT};
use openclaw_shared::{ContentEncoding, TaskSpec};

use crate::config::LimitsConfig;
use crate::queue::{NewTask, Priority};
pub use admission::{CreateAdmission, RetryAfter};
pub use channels::{CallbackChannels, ChannelVerdict};
pub use origin::{InteractionOrigin, Origin};
pub use owner::Requester;

use fields::ReplyChannel;

/// A refused field: which one (as the client spells it) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} {problem}")]
pub struct IntakeError {
    /// The field's name as the client spells it (`command`, `sessionId`, …).
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: Problem,
}

impl IntakeError {
    /// `field` has `problem`.
    pub fn new(field: &'static str, problem: Problem) -> IntakeError {
        IntakeError { field, problem }
    }

    /// `field` breaks a rule; `rule` completes the sentence "`field` …".
    pub fn invalid(field: &'static str, rule: impl Into<String>) -> IntakeError {
        IntakeError::new(field, Problem::Invalid(rule.into()))
    }
}

/// What is wrong with a field; each reads as the end of a sentence that starts with its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Missing, or only whitespace.
    Required,
    /// Present but empty where emptiness means nothing (an edit's `old_string`).
    Empty,
    /// Contains a NUL character (it would become an argv element or a path).
    ContainsNul,
    /// Longer than its configured limit, in bytes.
    TooLong {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Breaks the field's rule, worded as "must …" or "is …".
    Invalid(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Required => f.write_str("is required"),
            Problem::Empty => f.write_str("must not be empty"),
            Problem::ContainsNul => f.write_str("must not contain NUL characters"),
            Problem::TooLong { limit } => write!(f, "is longer than {limit} bytes"),
            Problem::Invalid(rule) => f.write_str(rule),
        }
    }
}

/// A task timeout as the adapter's user gave it: the API speaks milliseconds (like the
/// original), Discord's options seconds. Both meet one rule in [`check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestedTimeout {
    /// Milliseconds (the HTTP API's `timeout`).
    Millis(u64),
    /// Whole seconds (Discord's `timeout` option).
    Seconds(u64),
}

/// What a request is checked against: the field limits and the Discord channels results may
/// be posted in.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Field sizes and the timeout range (`[limits]`).
    pub limits: &'a LimitsConfig,
    /// The callback-channel allow-list.
    pub channels: &'a CallbackChannels,
    /// What a `callbackUrl` may be.
    pub callbacks: callback::CallbackRule,
}

/// Where a task's result should be delivered besides the API, as the adapter received it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ReplyTo {
    /// Only the API: the client polls for the result.
    #[default]
    Nowhere,
    /// A channel named by an API client (`discordChannelId` / `callbackChannel`), still
    /// unchecked text: a Discord channel id, or another platform's channel key.
    DiscordChannel(String),
    /// The slash command this task answers (built by the Discord adapter from its interaction).
    Interaction(InteractionOrigin),
}

/// A task request in no adapter's shape: what to do, and the options every adapter shares.
/// Nothing in it is trusted until [`check`] turns it into a [`NewTask`].
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRequest {
    /// What to run; its strings are checked against the limits.
    pub spec: TaskSpec,
    /// The requested timeout; the kind's default when `None`. File tasks always get the
    /// command default (the original's file routes take no timeout).
    pub timeout: Option<RequestedTimeout>,
    /// The worker that must run it; `None` or empty means any worker.
    pub worker: Option<String>,
    /// Where the result goes besides the API.
    pub reply_to: ReplyTo,
    /// Who asks: the task becomes theirs.
    pub requester: Requester,
    /// The priority asked for (0 first … 9 last); `default_priority` when `None`.
    pub priority: Option<i64>,
    /// The door's default: Discord's commands [`Priority::INTERACTIVE`], the API
    /// [`Priority::API`], a schedule's runs [`Priority::SCHEDULED`].
    pub default_priority: Priority,
    /// Where to send the task's webhooks besides the configured endpoints (API only).
    pub callback_url: Option<String>,
}

impl TaskRequest {
    /// A request by `requester` for `spec`, with every option at its default.
    pub fn new(spec: TaskSpec, requester: Requester) -> TaskRequest {
        TaskRequest {
            spec,
            timeout: None,
            worker: None,
            reply_to: ReplyTo::Nowhere,
            requester,
            priority: None,
            default_priority: match requester {
                Requester::ApiClient => Priority::API,
                Requester::DiscordUser(_) => Priority::INTERACTIVE,
            },
            callback_url: None,
        }
    }
}

/// Checks every field of `request` against `rules` and returns the task to queue: blank or
/// oversized strings, NULs, a malformed worker name, session id or channel id, a Discord
/// channel outside the allow-list, base64 that does not decode, and timeouts and priorities
/// out of range are refused; empty optional fields become absent, and base64 content is made canonical.
pub fn check(request: TaskRequest, rules: &Rules<'_>) -> Result<NewTask, IntakeError> {
    let limits = rules.limits;
    // Fields in the order the original checked them, so the first refusal is the same.
    let (takes_timeout, default_ms) = match request.spec {
        TaskSpec::Command { .. } => (true, DEFAULT_COMMAND_TIMEOUT_MS),
        TaskSpec::Claude { .. } | TaskSpec::Agent { .. } => (true, DEFAULT_CLAUDE_TIMEOUT_MS),
        _ => (false, DEFAULT_COMMAND_TIMEOUT_MS),
    };
    let spec = check_spec(request.spec, limits)?;
    let timeout = if takes_timeout {
        timeout(request.timeout, default_ms, limits.max_timeout_ms)?
    } else {
        Duration::from_millis(default_ms)
    };
    let target_worker = fields::worker_name("worker", request.worker)?;
    let priority = match request.priority {
        None => request.default_priority,
        Some(value) => Priority::new(value).ok_or_else(|| {
            IntakeError::invalid(
                "priority",
                format!(
                    "must be a whole number from {} (first) to {} (last), got {value}",
                    Priority::HIGHEST,
                    Priority::LOWEST
                ),
            )
        })?,
    };
    let origin = match request.reply_to {
        ReplyTo::Nowhere => None,
        ReplyTo::DiscordChannel(raw) => match fields::reply_channel(Some(raw))? {
            None => None,
            Some(ReplyChannel::Key(key)) => Some(origin::channel_key_value(&key)),
            Some(ReplyChannel::Discord(id)) => {
                if rules.channels.verdict(id.get()) == ChannelVerdict::Refused {
                    return Err(IntakeError::invalid(
                        "discordChannelId (callbackChannel)",
                        "names a Discord channel this bot does not post in (not a channel of \
                         discord.guild_ids nor in discord.callback_channel_ids)",
                    ));
                }
                Some(Origin::channel(id).to_value())
            }
        },
        ReplyTo::Interaction(interaction) => Some(Origin::Interaction(interaction).to_value()),
    };
    let callback_url = callback::check(request.callback_url, rules.callbacks)?;
    Ok(NewTask {
        spec,
        timeout,
        target_worker,
        origin,
        owner: Some(request.requester.owner()),
        priority,
        callback_url,
    })
}

/// The spec with its strings checked and its optional fields normalised.
fn check_spec(spec: TaskSpec, limits: &LimitsConfig) -> Result<TaskSpec, IntakeError> {
    Ok(match spec {
        TaskSpec::Command { command, cwd } => {
            fields::non_blank("command", &command, limits.max_command_bytes)?;
            let cwd = fields::optional_path("cwd", cwd, limits.max_path_bytes)?;
            TaskSpec::Command { command, cwd }
        }
        TaskSpec::FileRead { path } => {
            fields::non_blank("path", &path, limits.max_path_bytes)?;
            TaskSpec::FileRead { path }
        }
        TaskSpec::FileWrite {
            path,
            content,
            encoding,
        } => {
            fields::non_blank("path", &path, limits.max_path_bytes)?;
            let content = match encoding {
                ContentEncoding::Utf8 => {
                    fields::within("content", &content, limits.max_content_bytes)?;
                    content
                }
                ContentEncoding::Base64 => {
                    fields::base64_content(&content, limits.max_content_bytes)?
                }
            };
            TaskSpec::FileWrite {
                path,
                content,
                encoding,
            }
        }
        TaskSpec::FileEdit {
            path,
            old_string,
            new_string,
            replace_all,
        } => {
            fields::non_blank("path", &path, limits.max_path_bytes)?;
            fields::non_empty("old_string", &old_string, limits.max_content_bytes)?;
            fields::within("new_string", &new_string, limits.max_content_bytes)?;
            TaskSpec::FileEdit {
                path,
                old_string,
                new_string,
                replace_all,
            }
        }
        TaskSpec::Claude {
            prompt,
            session,
            cwd,
        } => {
            fields::non_blank("prompt", &prompt, limits.max_prompt_bytes)?;
            let session = checked_session(session)?;
            let cwd = fields::optional_path("cwd", cwd, limits.max_path_bytes)?;
            TaskSpec::Claude {
                prompt,
                session: Some(session),
                cwd,
            }
        }
        TaskSpec::Agent {
            agent,
            prompt,
            session,
            cwd,
        } => {
            fields::agent_name(&agent)?;
            fields::non_blank("prompt", &prompt, limits.max_prompt_bytes)?;
            let session = checked_session(session)?;
            let cwd = fields::optional_path("cwd", cwd, limits.max_path_bytes)?;
            if agent == CLAUDE_AGENT {
                // One kind per agent: Claude is always `claude`, whichever door it came by.
                TaskSpec::Claude {
                    prompt,
                    session: Some(session),
                    cwd,
                }
            } else {
                TaskSpec::Agent {
                    agent,
                    prompt,
                    session: Some(session),
                    cwd,
                }
            }
        }
    })
}

/// The session an agent task runs in: the one asked for, its id by the worker's rule, or a
/// new one (a fresh UUID) when none was, so every agent task names its session and the
/// client can continue it.
fn checked_session(session: Option<AgentSession>) -> Result<AgentSession, IntakeError> {
    let asked = session.and_then(|s| fields::session(Some(s.id), s.new).transpose());
    Ok(asked
        .transpose()?
        .unwrap_or_else(|| AgentSession::start(uuid::Uuid::new_v4().to_string())))
}

/// The one timeout rule: `default_ms` when absent, otherwise 1 ms ..= `max_ms`, worded in
/// the unit the user typed.
fn timeout(
    requested: Option<RequestedTimeout>,
    default_ms: u64,
    max_ms: u64,
) -> Result<Duration, IntakeError> {
    let ms = match requested {
        None => default_ms,
        Some(RequestedTimeout::Millis(ms)) => ms,
        Some(RequestedTimeout::Seconds(secs)) => secs.saturating_mul(1000),
    };
    if (1..=max_ms).contains(&ms) {
        return Ok(Duration::from_millis(ms));
    }
    let rule = match requested {
        Some(RequestedTimeout::Seconds(_)) => {
            format!("must be between 1 and {} seconds", max_ms / 1000)
        }
        _ => format!("must be between 1 and {max_ms} ms, got {ms}"),
    };
    Err(IntakeError::invalid("timeout", rule))
}

#[cfg(test)]
mod tests;
