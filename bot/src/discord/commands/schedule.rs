//! `/schedule add|list|remove`: a command run on a cron schedule, whose results are posted
//! in the channel where it was added. Checked by the same rules as `POST /schedules` (the
//! task by the rules of `/run`); each run is an ordinary task of the user who added it.
//! Replies are ephemeral: a schedule's command is its owner's business.

use openclaw_shared::client::{CommonFields, CreateCommandRequest, ScheduleId, ScheduledTask};

use super::{is_admin, reach, reply_privately, Context};
use crate::discord::error::CommandError;
use crate::intake::callback::CallbackRule;
use crate::intake::{Requester, Rules};
use crate::queue::{now_millis, QueueError, Schedule, Timetable};
use crate::schedules::{self, ScheduleRequest};

/// How many next runs `/schedule add` shows.
const SHOWN_RUNS: usize = 3;
/// Shortest id prefix `/schedule remove` accepts.
const MIN_PREFIX: usize = 4;

/// Run a command on a schedule
#[poise::command(slash_command, subcommands("add", "list", "remove"))]
pub async fn schedule(_ctx: Context<'_>) -> Result<(), CommandError> {
    // Discord only sends the subcommands; the parent has no body of its own.
    Ok(())
}

/// Run a command on a cron schedule; results are posted in this channel
#[poise::command(slash_command)]
pub async fn add(
    ctx: Context<'_>,
    #[description = "Cron: minute hour day month weekday (6 fields: seconds first)"] cron: String,
    #[description = "The command to run each time"] command: String,
    #[description = "IANA time zone, e.g. Europe/Berlin (default UTC)"] tz: Option<String>,
    #[description = "Run only on this worker"] worker: Option<String>,
    #[description = "A name for the list"] name: Option<String>,
) -> Result<(), CommandError> {
    let task = ScheduledTask::Command(CreateCommandRequest {
        command,
        timeout: None,
        cwd: None,
        common: CommonFields {
            // Results come back here, as a channel the allow-list checks like any other.
            discord_channel_id: Some(ctx.channel_id().to_string()),
            ..CommonFields::default()
        },
    });
    let request = ScheduleRequest {
        cron,
        tz,
        task,
        worker,
        name,
        requester: Requester::DiscordUser(ctx.author().id),
    };
    let data = ctx.data().clone();
    let (plan, runs) = tokio::task::spawn_blocking(move || {
        let rules = Rules {
            limits: &data.limits,
            channels: &data.channels,
            // Discord takes no callback URL (as its task commands).
            callbacks: CallbackRule::default(),
        };
        let now = now_millis();
        let plan = schedules::plan(request, &rules, now)?;
        let runs = plan.next_runs(now, SHOWN_RUNS);
        Ok::<_, CommandError>((plan, runs))
    })
    .await
    .map_err(|err| CommandError::internal("checking a schedule", err))??;
    let saved = ctx.data().queue.create_schedule(plan.schedule).await?;
    tracing::info!(schedule_id = %saved.id, user_id = %ctx.author().id, "schedule added from Discord");
    let next: Vec<String> = runs.iter().map(|run| format!("`{}`", run.local)).collect();
    reply_privately(
        ctx,
        format!(
            "🗓️ Scheduled `{}` {} — `{}` ({}). Results will be posted here. Next: {}",
            short_id(saved.id),
            label(&saved),
            saved.cron,
            saved.tz,
            next.join(", ")
        ),
    )
    .await
}

/// List your schedules
#[poise::command(slash_command)]
pub async fn list(
    ctx: Context<'_>,
    #[description = "Everyone's schedules, not only yours (admins only)"] all: Option<bool>,
) -> Result<(), CommandError> {
    let scope = reach(ctx, all.unwrap_or(false))?;
    let found = ctx.data().queue.schedules(&scope).await?;
    if found.is_empty() {
        return reply_privately(ctx, "No schedules. Add one with `/schedule add`.".into()).await;
    }
    let lines: Vec<String> = found.iter().take(20).map(line).collect();
    reply_privately(ctx, lines.join("\n")).await
}

/// Delete one of your schedules
#[poise::command(slash_command)]
pub async fn remove(
    ctx: Context<'_>,
    #[description = "The schedule's id, or its first characters as /schedule list shows them"]
    schedule: String,
) -> Result<(), CommandError> {
    let scope = reach(ctx, is_admin(ctx))?;
    let queue = &ctx.data().queue;
    let mine = queue.schedules(&scope).await?;
    let id = resolve(&schedule, &mine)?;
    match queue.delete_schedule(&scope, id).await {
        Ok(removed) => {
            reply_privately(
                ctx,
                format!(
                    "🗑️ Removed schedule `{}` {}.",
                    short_id(id),
                    label(&removed)
                ),
            )
            .await
        }
        Err(QueueError::ScheduleNotFound(_)) => Err(not_found(&schedule)),
        Err(other) => Err(other.into()),
    }
}

/// One line of `/schedule list`.
fn line(schedule: &Schedule) -> String {
    let when = if schedule.paused {
        "paused".to_owned()
    } else {
        schedule.next_run_at.map_or("no next run".to_owned(), |at| {
            Timetable::parse(&schedule.cron, &schedule.tz)
                .map(|table| format!("next `{}`", table.local_time(at)))
                .unwrap_or_default()
        })
    };
    format!(
        "`{}` {} — `{}` ({}), {}, {} runs",
        short_id(schedule.id),
        label(schedule),
        schedule.cron,
        schedule.tz,
        when,
        schedule.runs
    )
}

/// The schedule's name, or its command, cut short; as inline code, never markdown.
fn label(schedule: &Schedule) -> String {
    let text = schedule.name.clone().unwrap_or_else(|| {
        schedule
            .task
            .get("command")
            .and_then(|command| command.as_str())
            .unwrap_or("")
            .to_owned()
    });
    let short: String = text.chars().filter(|c| *c != '`').take(60).collect();
    format!("`{short}`")
}

fn short_id(id: ScheduleId) -> String {
    id.to_string().chars().take(8).collect()
}

/// The schedule `given` names: a full id, or a prefix of exactly one of `mine`.
fn resolve(given: &str, mine: &[Schedule]) -> Result<ScheduleId, CommandError> {
    let given = given.trim().to_ascii_lowercase();
    if let Ok(id) = given.parse::<ScheduleId>() {
        return Ok(id);
    }
    if given.len() < MIN_PREFIX || !given.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        return Err(CommandError::user(format!(
            "⚠️ Give a schedule id, or at least its first {MIN_PREFIX} characters as \
             `/schedule list` shows them."
        )));
    }
    let mut matches = mine
        .iter()
        .filter(|schedule| schedule.id.to_string().starts_with(&given));
    match (matches.next(), matches.next()) {
        (Some(schedule), None) => Ok(schedule.id),
        (Some(_), Some(_)) => Err(CommandError::user(format!(
            "⚠️ `{given}` starts more than one of your schedules' ids; give more of it."
        ))),
        (None, _) => Err(not_found(&given)),
    }
}

fn not_found(given: &str) -> CommandError {
    let shown: String = given.chars().filter(|c| *c != '`').take(40).collect();
    CommandError::user(format!("⚠️ No schedule of yours matches `{shown}`."))
}
