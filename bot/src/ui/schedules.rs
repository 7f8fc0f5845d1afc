//! The schedules page: every schedule with its expression, time zone, next runs (in its own
//! time zone), its last run and why a slot made no task, and a pause/resume form (CSRF
//! token required).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use openclaw_shared::client::ScheduleId;

use super::layout::{maybe_time, page};
use super::session::LoggedIn;
use super::{forbidden, server_error, CsrfForm, UiState};
use crate::queue::{now_millis, QueueError, Schedule, Scope};

/// Next runs shown per schedule.
const NEXT_RUNS: usize = 3;

/// `GET /ui/schedules`.
pub async fn list(State(state): State<UiState>, me: LoggedIn) -> Response {
    let schedules = match state.app.queue().schedules(&Scope::All).await {
        Ok(schedules) => schedules,
        Err(err) => return server_error(&err),
    };
    let body = html! {
        h1 { "Schedules" }
        @if schedules.is_empty() {
            p.empty { "No schedule yet: POST /schedules, or /schedule add in Discord." }
        } @else {
            table.schedules {
                thead { tr { th { "Schedule" } th { "When" } th { "Next runs" } th { "Last run" } th { "" } } }
                tbody { @for s in &schedules { (row(s, &me.session.csrf)) } }
            }
        }
        p.muted { "Each run is an ordinary task: the worker's policy, approvals and audit apply." }
    };
    page("Schedules", "/ui/schedules", &me.session.csrf, None, body).into_response()
}

fn row(s: &Schedule, csrf: &str) -> Markup {
    let table = s.timetable();
    let next = match (&table, s.paused) {
        (Some(table), false) => table
            .next_runs(now_millis(), NEXT_RUNS)
            .into_iter()
            .map(|at| table.local_time(at))
            .collect(),
        _ => Vec::new(),
    };
    let (action, label) = if s.paused {
        ("resume", "Resume")
    } else {
        ("pause", "Pause")
    };
    html! {
        tr {
            td {
                (s.name.as_deref().unwrap_or("(unnamed)"))
                br; span.muted { (s.owner) }
                br; code.muted { (s.id) }
            }
            td { code { (s.cron) } br; (s.tz) }
            td {
                @if s.paused { span.badge.cancelled { "paused" } }
                @else if next.is_empty() { span.muted { "never again" } }
                @for at in &next { (at) br; }
            }
            td {
                (maybe_time(s.last_run_at)) " · " (s.runs) " runs"
                @if let Some(task) = s.last_task_id { br; a href={ "/ui/tasks/" (task) } { "last task" } }
                @if let Some(error) = &s.last_error { br; span.error { (error) } }
            }
            td {
                form method="post" action={ "/ui/schedules/" (s.id) "/" (action) } {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" { (label) }
                }
            }
        }
    }
}

/// `POST /ui/schedules/:id/pause`.
pub async fn pause(
    state: State<UiState>,
    me: LoggedIn,
    id: Path<ScheduleId>,
    form: Form<CsrfForm>,
) -> Response {
    set_paused(state, me, id, form, true).await
}

/// `POST /ui/schedules/:id/resume`.
pub async fn resume(
    state: State<UiState>,
    me: LoggedIn,
    id: Path<ScheduleId>,
    form: Form<CsrfForm>,
) -> Response {
    set_paused(state, me, id, form, false).await
}

async fn set_paused(
    State(state): State<UiState>,
    me: LoggedIn,
    Path(id): Path<ScheduleId>,
    Form(form): Form<CsrfForm>,
    paused: bool,
) -> Response {
    if !me.csrf_matches(&form.csrf) {
        return forbidden();
    }
    let queue = state.app.queue();
    let done = if paused {
        queue.pause_schedule(&Scope::All, id).await
    } else {
        queue.resume_schedule(&Scope::All, id).await
    };
    match done {
        Ok(_) => {
            tracing::info!(schedule_id = %id, paused, "schedule changed from /ui");
            Redirect::to("/ui/schedules").into_response()
        }
        Err(QueueError::ScheduleNotFound(_)) => axum::http::StatusCode::NOT_FOUND.into_response(),
        Err(err) => server_error(&err),
    }
}
