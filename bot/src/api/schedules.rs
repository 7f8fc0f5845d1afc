//! Schedule routes: create (or preview the next runs first), list, read with the next runs,
//! pause, resume, delete. The client token creates schedules and manages its own; the admin
//! token reads everyone's and may pause, resume or delete any (it creates none: it creates
//! no task anywhere in the API either). Each run is an ordinary task of the schedule's owner.

use axum::extract::State;
use axum::Json;
use openclaw_shared::client::{
    CreateScheduleRequest, ScheduleList, SchedulePreview, ScheduleView, ScheduledTask,
};

use super::auth::ReaderAuth;
use super::error::ApiError;
use super::extract::{AppJson, ScheduleIdPath};
use super::tasks::Creator;
use crate::intake::Requester;
use crate::queue::{now_millis, QueueError, Schedule, Timetable};
use crate::schedules::{self, run_times, ScheduleRequest};
use crate::state::AppState;

/// What `POST /schedules` answers: the saved schedule, or only its next runs.
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum Created {
    /// Saved.
    Saved(Box<ScheduleView>),
    /// `preview`: nothing saved.
    Preview(SchedulePreview),
}

/// `POST /schedules`: checks the expression, time zone and task (by the rules a task
/// created now would meet) and saves the schedule, or with `preview` only answers its next
/// runs.
pub async fn create(
    _: Creator,
    State(state): State<AppState>,
    AppJson(req): AppJson<CreateScheduleRequest>,
) -> Result<Json<Created>, ApiError> {
    let preview = req.preview;
    let request = ScheduleRequest {
        cron: req.cron,
        tz: req.tz,
        task: req.task,
        worker: req.worker,
        name: req.name,
        requester: Requester::ApiClient,
    };
    let count = state.config().schedules.preview_runs;
    let checking = state.clone();
    // Off the runtime's threads: a rare expression's next run can take a search of years.
    let (plan, next_runs) = tokio::task::spawn_blocking(move || {
        let now = now_millis();
        let plan = schedules::plan(request, &checking.intake_rules(), now)?;
        let next_runs = plan.next_runs(now, count);
        Ok::<_, ApiError>((plan, next_runs))
    })
    .await
    .map_err(|err| ApiError::Panic(err.to_string()))??;
    if preview {
        return Ok(Json(Created::Preview(SchedulePreview {
            cron: plan.schedule.cron,
            tz: plan.schedule.tz,
            next_runs,
        })));
    }
    let saved = state.queue().create_schedule(plan.schedule).await?;
    tracing::info!(schedule_id = %saved.id, "schedule created");
    let mut view = schedule_view(&saved)?;
    view.next_runs = next_runs;
    Ok(Json(Created::Saved(Box::new(view))))
}

/// `GET /schedules`: the schedules the token sees, oldest first.
pub async fn list(
    auth: ReaderAuth,
    State(state): State<AppState>,
) -> Result<Json<ScheduleList>, ApiError> {
    let schedules = state.queue().schedules(&auth.scope()).await?;
    Ok(Json(ScheduleList {
        schedules: schedules
            .iter()
            .map(schedule_view)
            .collect::<Result<_, _>>()?,
    }))
}

/// `GET /schedules/:id`: the schedule with its next runs. Another owner's is a 404.
pub async fn get(
    auth: ReaderAuth,
    State(state): State<AppState>,
    ScheduleIdPath(id): ScheduleIdPath,
) -> Result<Json<ScheduleView>, ApiError> {
    let schedule = state.queue().schedule(&auth.scope(), id).await?;
    with_next_runs(&state, &schedule).await.map(Json)
}

/// `POST /schedules/:id/pause`: no run until resumed.
pub async fn pause(
    auth: ReaderAuth,
    State(state): State<AppState>,
    ScheduleIdPath(id): ScheduleIdPath,
) -> Result<Json<ScheduleView>, ApiError> {
    let schedule = state.queue().pause_schedule(&auth.scope(), id).await?;
    schedule_view(&schedule).map(Json)
}

/// `POST /schedules/:id/resume`: on from the next run after now (runs that fell while it
/// was paused are not made up).
pub async fn resume(
    auth: ReaderAuth,
    State(state): State<AppState>,
    ScheduleIdPath(id): ScheduleIdPath,
) -> Result<Json<ScheduleView>, ApiError> {
    let schedule = state.queue().resume_schedule(&auth.scope(), id).await?;
    with_next_runs(&state, &schedule).await.map(Json)
}

/// `DELETE /schedules/:id`: answers the schedule as it was. The tasks it created stay.
pub async fn delete(
    auth: ReaderAuth,
    State(state): State<AppState>,
    ScheduleIdPath(id): ScheduleIdPath,
) -> Result<Json<ScheduleView>, ApiError> {
    let schedule = state.queue().delete_schedule(&auth.scope(), id).await?;
    schedule_view(&schedule).map(Json)
}

/// `schedule` with its next runs (none while paused).
async fn with_next_runs(state: &AppState, schedule: &Schedule) -> Result<ScheduleView, ApiError> {
    let mut view = schedule_view(schedule)?;
    if schedule.paused || schedule.next_run_at.is_none() {
        return Ok(view);
    }
    let (cron, tz) = (schedule.cron.clone(), schedule.tz.clone());
    let count = state.config().schedules.preview_runs;
    view.next_runs = tokio::task::spawn_blocking(move || {
        Timetable::parse(&cron, &tz)
            .map(|table| run_times(&table, now_millis(), count))
            .unwrap_or_default()
    })
    .await
    .map_err(|err| ApiError::Panic(err.to_string()))?;
    Ok(view)
}

/// How a stored schedule is shown.
fn schedule_view(schedule: &Schedule) -> Result<ScheduleView, ApiError> {
    let task: ScheduledTask = serde_json::from_value(schedule.task.clone())
        .map_err(|err| ApiError::Queue(QueueError::Store(err.into())))?;
    Ok(ScheduleView {
        id: schedule.id,
        name: schedule.name.clone(),
        owner: schedule.owner.clone(),
        cron: schedule.cron.clone(),
        tz: schedule.tz.clone(),
        task,
        paused: schedule.paused,
        created_at: schedule.created_at,
        next_run_at: schedule.next_run_at,
        last_run_at: schedule.last_run_at,
        last_task_id: schedule.last_task_id,
        runs: schedule.runs,
        last_error: schedule.last_error.clone(),
        next_runs: Vec::new(),
    })
}
