//! The tasks pages: recent tasks (filterable by status, kind and worker, with the queue's
//! depth) and one task in full: request, policy verdict and rule, approval, timings,
//! output, attachments; and the cancel form.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use openclaw_shared::task::AgentSession;
use openclaw_shared::{TaskId, TaskKind, TaskSpec, TaskStatus};
use serde::Deserialize;

use super::layout::{duration, maybe_time, page, segment, status_badge, time};
use super::session::LoggedIn;
use super::{forbidden, server_error, CsrfForm, UiState};
use crate::queue::{QueueError, Scope};

/// Most tasks a list shows.
const SHOWN: usize = 100;
/// Tasks read to fill a filtered list (kind and worker are filtered after reading).
const READ_FOR_FILTERS: usize = 1000;
/// Every kind, for the filter.
const KINDS: [TaskKind; 5] = [
    TaskKind::Command,
    TaskKind::FileRead,
    TaskKind::FileWrite,
    TaskKind::FileEdit,
    TaskKind::Claude,
];

/// `?status=&kind=&worker=`; empty means any.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    status: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    worker: String,
}

/// `GET /ui/tasks`.
pub async fn list(
    State(state): State<UiState>,
    me: LoggedIn,
    Query(filters): Query<Filters>,
) -> Response {
    let queue = state.app.queue();
    let status = TaskStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == filters.status);
    let kind = KINDS.into_iter().find(|k| k.as_str() == filters.kind);
    let worker = Some(filters.worker.trim()).filter(|w| !w.is_empty());
    let read = if kind.is_some() || worker.is_some() {
        READ_FOR_FILTERS
    } else {
        SHOWN
    };
    let (briefs, stats) = match tokio::try_join!(
        queue.list(&Scope::All, status, read),
        queue.stats(&Scope::All)
    ) {
        Ok(found) => found,
        Err(err) => return server_error(&err),
    };
    let shown: Vec<_> = briefs
        .into_iter()
        .filter(|b| kind.is_none_or(|k| b.kind == k))
        .filter(|b| worker.is_none_or(|w| b.worker.as_deref() == Some(w)))
        .take(SHOWN)
        .collect();
    let body = html! {
        h1 { "Tasks" }
        section.depth aria-label="Queue depth" {
            @for (status, count) in &stats.by_status {
                @if !status.is_terminal() {
                    span.depth-item { (status_badge(*status)) " " strong { (count) } }
                }
            }
            span.depth-item { "workers online " strong { (stats.workers.len()) } }
        }
        form.filters method="get" action="/ui/tasks" {
            label { "Status "
                select name="status" {
                    option value="" { "any" }
                    @for s in TaskStatus::ALL {
                        option value=(s.as_str()) selected[status == Some(s)] { (s.as_str()) }
                    }
                }
            }
            label { "Kind "
                select name="kind" {
                    option value="" { "any" }
                    @for k in KINDS {
                        option value=(k.as_str()) selected[kind == Some(k)] { (k.as_str()) }
                    }
                }
            }
            label { "Worker " input name="worker" value=(filters.worker) size="12"; }
            button type="submit" { "Filter" }
        }
        @if shown.is_empty() {
            p.empty { "No tasks." }
        } @else {
            table.tasks {
                thead { tr { th { "Task" } th { "Status" } th { "Kind" } th { "Worker" } th { "Created" } th { "Exit" } } }
                tbody {
                    @for b in &shown {
                        tr data-task=(b.id) {
                            td.summary { a href={ "/ui/tasks/" (b.id) } { code { (b.summary) } } }
                            td { (status_badge(b.status)) }
                            td { (b.kind.as_str()) }
                            td { (b.worker.as_deref().unwrap_or("—")) }
                            td { (time(b.created_at)) }
                            td { @if let Some(code) = b.exit_code { (code) } @else { "—" } }
                        }
                    }
                }
            }
        }
    };
    page("Tasks", "/ui/tasks", &me.session.csrf, Some("tasks"), body).into_response()
}

/// `GET /ui/tasks/{id}`.
pub async fn detail(
    State(state): State<UiState>,
    me: LoggedIn,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<TaskId>() else {
        return not_found();
    };
    let queue = state.app.queue();
    let found = queue
        .wait_finished_with_attachments(id, std::time::Duration::ZERO)
        .await;
    let (task, attachments) = match found {
        Ok(found) => found,
        Err(QueueError::NotFound(_)) => return not_found(),
        Err(err) => return server_error(&err),
    };
    let deliveries = queue
        .webhook_deliveries(Some(id), 20)
        .await
        .unwrap_or_default();
    let policy = task
        .outcome
        .as_ref()
        .and_then(|o| o.metadata.get("policy"))
        .and_then(|p| p.as_object());
    let field = |key: &str| {
        policy
            .and_then(|p| p.get(key))
            .and_then(|v| v.as_str())
            .unwrap_or("—")
            .to_owned()
    };
    let live = format!("task:{id}");
    // While it runs: the end of its output so far, as the worker sent it (redacted on the Mac).
    let live_tail = (!task.status.is_terminal())
        .then(|| state.app.queue().live_output(id, 0))
        .flatten();
    let body = html! {
        h1 { "Task " code.id { (id) } }
        p { (status_badge(task.status))
            @if task.cancel_requested && !task.status.is_terminal() { " cancel requested" } }
        @if !task.status.is_terminal() && !task.cancel_requested {
            form method="post" action={ "/ui/tasks/" (id) "/cancel" } {
                input type="hidden" name="csrf" value=(me.session.csrf);
                button.danger type="submit" { "Cancel task" }
            }
        }
        h2 { "Request" }
        (request(&task.spec))
        dl {
            dt { "Timeout" } dd { (duration(u64::try_from(task.timeout.as_millis()).unwrap_or(u64::MAX))) }
            dt { "Worker" } dd { (task.worker.as_deref().or(task.target_worker.as_deref()).unwrap_or("any")) }
            dt { "Owner" } dd { (task.owner.as_deref().unwrap_or("admin")) }
        }
        h2 { "Policy and approval" }
        dl {
            dt { "Verdict" } dd.verdict { (field("verdict")) }
            dt { "Rule" } dd.rule { code { (field("rule")) } }
            dt { "Reason" } dd { (field("reason")) }
            @if let Some(approval) = &task.approval {
                dt { "Fingerprint" } dd.fingerprint { code { (approval.fingerprint) } }
                dt { "Asked to approve" } dd { code { (approval.summary) } }
                dt { "Approval lapses" } dd { (time(approval.expires_at)) }
            } @else {
                dt { "Approval" } dd { "not asked" }
            }
        }
        h2 { "Timings" }
        dl.timings {
            dt { "Created" } dd { (time(task.created_at)) }
            dt { "Started" } dd { (maybe_time(task.started_at)) }
            dt { "Finished" } dd { (maybe_time(task.completed_at)) }
            @if let Some(o) = &task.outcome { dt { "Ran for" } dd { (duration(o.duration_ms)) } }
        }
        h2 { "Output" }
        @if let Some(o) = &task.outcome {
            dl {
                dt { "Exit code" } dd.exit { @if let Some(c) = o.exit_code { (c) } @else { "—" } }
                @if let Some(error) = &o.error { dt { "Error" } dd.error { (error) } }
            }
            h3 { "stdout" @if o.stdout_truncated { " (truncated)" } }
            pre.output.stdout { (o.stdout) }
            @if !o.stderr.is_empty() {
                h3 { "stderr" @if o.stderr_truncated { " (truncated)" } }
                pre.output.stderr { (o.stderr) }
            }
        } @else if let Some(tail) = &live_tail {
            h3 { "Live output" span.muted { " (the last " (tail.text.len()) " of " (tail.end) " bytes; this page follows it)" } }
            pre.output.live data-follow-output { (tail.text) }
        } @else if task.status == TaskStatus::Running {
            // `data-follow-output`: ui.js fetches the page again every few seconds meanwhile.
            p.empty data-follow-output { "No output yet; this page shows it as it comes." }
        } @else {
            p.empty { "No result yet; this page updates when it arrives." }
        }
        @if !attachments.is_empty() {
            h2 { "Attachments" }
            ul.attachments {
                @for a in &attachments {
                    @let href = format!("/ui/tasks/{id}/attachments/{}", segment(&a.name));
                    li {
                        a href=(href) { (a.name) } " " span.muted { (a.content_type) ", " (a.size) " bytes" }
                        @if super::attachments::is_image(&a.content_type) {
                            br; img.preview src=(href) alt=(a.name) loading="lazy";
                        }
                    }
                }
            }
        }
        @if !deliveries.is_empty() {
            h2 { "Webhooks" }
            (super::webhooks::table(&deliveries, &me.session.csrf))
        }
    };
    page("Task", "/ui/tasks", &me.session.csrf, Some(&live), body).into_response()
}

/// `POST /ui/tasks/{id}/cancel` (CSRF token required).
pub async fn cancel(
    State(state): State<UiState>,
    me: LoggedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !me.csrf_matches(&form.csrf) {
        return forbidden();
    }
    let Ok(id) = id.parse::<TaskId>() else {
        return not_found();
    };
    match state.app.queue().cancel(id).await {
        Ok(_) | Err(QueueError::Conflict { .. }) => {
            tracing::info!(task_id = %id, "task cancelled from /ui");
            Redirect::to(&format!("/ui/tasks/{id}")).into_response()
        }
        Err(QueueError::NotFound(_)) => not_found(),
        Err(err) => server_error(&err),
    }
}

/// What was asked, field by field (a write's content only by its size).
fn request(spec: &TaskSpec) -> Markup {
    html! {
        dl.request {
            dt { "Kind" } dd { (spec.kind().as_str()) }
            @match spec {
                TaskSpec::Command { command, cwd } => {
                    dt { "Command" } dd { pre.command { (command) } }
                    @if let Some(cwd) = cwd { dt { "In" } dd { code { (cwd) } } }
                }
                TaskSpec::FileRead { path } => { dt { "Path" } dd { code { (path) } } }
                TaskSpec::FileWrite { path, content, encoding } => {
                    dt { "Path" } dd { code { (path) } }
                    dt { "Content" } dd { (content.len()) " bytes (" (format!("{encoding:?}").to_lowercase()) ")" }
                }
                TaskSpec::FileEdit { path, old_string, new_string, replace_all } => {
                    dt { "Path" } dd { code { (path) } }
                    dt { "Replace" } dd { pre { (old_string) } }
                    dt { "With" } dd { pre { (new_string) } }
                    dt { "Every occurrence" } dd { (replace_all) }
                }
                TaskSpec::Claude { prompt, session, cwd } => {
                    dt { "Prompt" } dd { pre { (prompt) } }
                    (session_field(session.as_ref()))
                    @if let Some(cwd) = cwd { dt { "In" } dd { code { (cwd) } } }
                }
                TaskSpec::Agent { agent, prompt, session, cwd } => {
                    dt { "Agent" } dd { code { (agent) } }
                    dt { "Prompt" } dd { pre { (prompt) } }
                    (session_field(session.as_ref()))
                    @if let Some(cwd) = cwd { dt { "In" } dd { code { (cwd) } } }
                }
            }
        }
    }
}

/// An agent session's id, and whether the task starts it or continues it.
fn session_field(session: Option<&AgentSession>) -> Markup {
    html! {
        @if let Some(session) = session {
            dt { "Session" }
            dd { code { (session.id) } @if session.new { " (new)" } @else { " (continued)" } }
        }
    }
}

fn not_found() -> Response {
    (
        axum::http::StatusCode::NOT_FOUND,
        super::layout::bare(
            "Not found",
            html! { h1 { "Not found" } p { a href="/ui/tasks" { "Back to tasks" } } },
        ),
    )
        .into_response()
}
