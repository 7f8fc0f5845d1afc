//! The web task monitor at `/ui`: server-rendered pages (maud) over the queue, live updates
//! by server-sent events, and a little script, for the admin in a browser.
//!
//! An adapter like `api` and `discord`: it uses the queue and the shared state, never
//! another adapter. Its defences: a session cookie in exchange for the admin token
//! (`session`); a CSRF token in every form that changes something, and a cross-site
//! `Origin` refused outright; a strict Content-Security-Policy (no inline script or style,
//! no framing); and every value from a task, a worker or a receiver escaped by maud, never
//! emitted as markup.
//!
//! # Layout
//! - `session`: logins, the cookie, CSRF tokens.
//! - `layout`: the page frame, the navigation, and formatting helpers.
//! - `tasks`, `workers`, `schedules`, `webhooks`: the pages (schedules with pause and
//!   resume); `attachments`: files, safely served.
//! - `events`: the server-sent event stream.

mod attachments;
mod events;
mod layout;
mod schedules;
pub mod session;
mod tasks;
mod webhooks;
mod workers;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::html;
use serde::Deserialize;

use crate::state::AppState;
use crate::telemetry::error_chain;
use crate::tokens::TokenHolder;
use session::{LoggedIn, Sessions};

/// The policy every `/ui` page is served under: only this origin's files, no inline script
/// or style, no plugins, no framing, forms only to this origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/// Largest form body (a login token, a CSRF token).
const FORM_BODY_BYTES: usize = 16 * 1024;

/// What the `/ui` handlers share: the app's state, the sessions and the cookie's rules.
#[derive(Clone)]
pub struct UiState {
    app: AppState,
    sessions: Sessions,
    /// Mark the cookie `Secure` (`http.public_url` is `https://`).
    secure: bool,
    /// How long a login lasts.
    ttl: Duration,
    /// Failed logins per minute (`rate_limit.failed_auth_burst`).
    throttle: session::LoginThrottle,
}

/// A form whose only field that matters is its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    /// The session's CSRF token, from the hidden field.
    #[serde(default)]
    pub csrf: String,
}

/// The monitor's routes, all under `/ui` (empty when `ui.enabled` is off).
pub fn router(app: AppState) -> Router {
    if !app.config().ui.enabled {
        return Router::new();
    }
    let state = UiState {
        secure: app
            .config()
            .http
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://")),
        ttl: Duration::from_secs(app.config().ui.session_ttl_secs),
        sessions: Sessions::default(),
        throttle: session::LoginThrottle::new(app.config().rate_limit.failed_auth_burst),
        app,
    };
    Router::new()
        .route("/ui", get(|| async { Redirect::to("/ui/tasks") }))
        .route("/ui/login", get(login_form).post(login))
        .route("/ui/logout", post(logout))
        .route("/ui/tasks", get(tasks::list))
        .route("/ui/tasks/{id}", get(tasks::detail))
        .route("/ui/tasks/{id}/cancel", post(tasks::cancel))
        .route(
            "/ui/tasks/{id}/attachments/{name}",
            get(attachments::download),
        )
        .route("/ui/workers", get(workers::list))
        .route("/ui/schedules", get(schedules::list))
        .route("/ui/schedules/{id}/pause", post(schedules::pause))
        .route("/ui/schedules/{id}/resume", post(schedules::resume))
        .route("/ui/webhooks", get(webhooks::list))
        .route("/ui/webhooks/{id}/redeliver", post(webhooks::redeliver))
        .route("/ui/events", get(events::stream))
        .route("/ui/assets/ui.css", get(css))
        .route("/ui/assets/ui.js", get(js))
        .layer(DefaultBodyLimit::max(FORM_BODY_BYTES))
        .layer(middleware::from_fn(guard))
        .with_state(state)
}

/// Refuses a state-changing request another site's page sent (its `Origin` is not this
/// host), and puts the security headers on every answer.
async fn guard(req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD && cross_site(&req) {
        tracing::warn!(path = %req.uri().path(), "cross-site request to /ui refused");
        return forbidden();
    }
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let csp = HeaderValue::from_static(CONTENT_SECURITY_POLICY);
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(csp);
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // `same-origin`, not `no-referrer`: with no referrer a browser sends `Origin: null` on
    // form posts, which the cross-site check must refuse. Other sites still learn nothing.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Whether the request's `Origin` names another host than the one it was sent to. No
/// `Origin` is not cross-site by itself (the CSRF token still has to match).
fn cross_site(req: &Request) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return false;
    };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest);
    match (origin_host, host) {
        (Some(origin), Some(host)) => !origin.eq_ignore_ascii_case(host),
        _ => true,
    }
}

async fn login_form() -> Response {
    login_page(None).into_response()
}

fn login_page(problem: Option<&str>) -> axum::response::Html<String> {
    layout::bare(
        "Log in",
        html! {
            h1 { "OpenClaw monitor" }
            @if let Some(problem) = problem { p.error role="alert" { (problem) } }
            form.login method="post" action="/ui/login" {
                label for="token" { "Admin token (auth.admin_token)" }
                input #token type="password" name="token" autocomplete="current-password" required autofocus;
                button type="submit" { "Log in" }
            }
        },
    )
}

/// The login form's body.
#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    token: String,
}

/// `POST /ui/login`: the admin token for a session cookie; any other token gets nothing.
async fn login(State(state): State<UiState>, Form(form): Form<LoginForm>) -> Response {
    if !state.throttle.allows() {
        tracing::warn!("/ui login refused: too many failed logins this minute");
        return (
            StatusCode::TOO_MANY_REQUESTS,
            login_page(Some("Too many failed logins; try again in a minute.")),
        )
            .into_response();
    }
    let holder = state.app.tokens().identify(form.token.trim().as_bytes());
    if holder != Some(&TokenHolder::Admin) {
        state.throttle.failed();
        tracing::warn!("failed /ui login");
        return (
            StatusCode::UNAUTHORIZED,
            login_page(Some("That is not the admin token.")),
        )
            .into_response();
    }
    let Some(id) = state.sessions.start(state.ttl) else {
        return server_error(&std::io::Error::other("no randomness for a session id"));
    };
    tracing::info!("/ui login");
    let cookie = session::set_cookie(Some(&id), state.ttl, state.secure);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/ui/tasks")).into_response()
}

/// `POST /ui/logout` (CSRF token required): ends the session and clears the cookie.
async fn logout(
    State(state): State<UiState>,
    me: LoggedIn,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !me.csrf_matches(&form.csrf) {
        return forbidden();
    }
    state.sessions.end(&me.id);
    let cookie = session::set_cookie(None, state.ttl, state.secure);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/ui/login")).into_response()
}

async fn css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("assets/ui.css"),
    )
        .into_response()
}

async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("assets/ui.js"),
    )
        .into_response()
}

/// 403, for a missing or wrong CSRF token or a cross-site request.
fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        layout::bare(
            "Forbidden",
            html! { h1 { "Forbidden" } p { "This request did not come from this monitor's own page." } },
        ),
    )
        .into_response()
}

/// 500 with a generic page; the cause goes to the log.
fn server_error(err: &(dyn std::error::Error + 'static)) -> Response {
    tracing::error!(error = %error_chain(err), "/ui request failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        layout::bare(
            "Error",
            html! { h1 { "Something failed" } p { "The bot logged why. Try again shortly." } },
        ),
    )
        .into_response()
}
