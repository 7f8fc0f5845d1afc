//! Logins: the admin token exchanged for a session cookie, sessions kept in memory (a
//! restart logs everyone out), and the CSRF token every state-changing form carries.
//!
//! The cookie is `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page
//! sends it), `Path=/ui`, and `Secure` when `http.public_url` is `https://`. Only the
//! SHA-256 of a session id is kept, so the map holds nothing a reader could log in with.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::UiState;

/// The session cookie's name.
pub const COOKIE: &str = "openclaw_session";
/// Most sessions kept at once; the oldest goes when a login would pass it.
const MAX_SESSIONS: usize = 64;

/// A logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    /// The token its forms must carry (`csrf` field), compared in constant time.
    pub csrf: String,
    expires: Instant,
}

/// The sessions: a cheap `Clone` handle.
#[derive(Debug, Clone, Default)]
pub struct Sessions {
    /// A std mutex: held for a map lookup or insert, never across an `.await`.
    by_hash: Arc<Mutex<HashMap<[u8; 32], Session>>>,
}

impl Sessions {
    /// Starts a session lasting `ttl`; returns its id (for the cookie only).
    pub fn start(&self, ttl: Duration) -> Option<String> {
        let id = random_token()?;
        let csrf = random_token()?;
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, s| s.expires > now);
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| *k) {
                map.remove(&oldest);
            }
        }
        map.insert(
            hash(&id),
            Session {
                csrf,
                expires: now + ttl,
            },
        );
        Some(id)
    }

    /// The live session with this id.
    pub fn get(&self, id: &str) -> Option<Session> {
        let map = self.lock();
        map.get(&hash(id))
            .filter(|s| s.expires > Instant::now())
            .cloned()
    }

    /// Ends the session with this id.
    pub fn end(&self, id: &str) {
        self.lock().remove(&hash(id));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Session>> {
        // Inserts and removes cannot be left half done: a poisoned lock is safe to reuse.
        self.by_hash.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Failed logins, counted per minute across all clients: past `burst` in a minute, logins
/// are refused without looking at the token until the minute is over. The admin token is
/// 32+ random characters, so guessing is hopeless anyway; this keeps it that way cheaply
/// (the API's per-IP lockout does the same for bearer tokens). An attacker can keep the
/// admin out of `/ui` this way, never out of the API, and never in.
#[derive(Debug, Clone)]
pub struct LoginThrottle {
    burst: u32,
    /// A std mutex: held to read or bump a counter, never across an `.await`.
    window: Arc<Mutex<(Instant, u32)>>,
}

/// How long a throttle window lasts.
const THROTTLE_WINDOW: Duration = Duration::from_secs(60);

impl LoginThrottle {
    /// A throttle allowing `burst` failed logins per minute.
    pub fn new(burst: u32) -> LoginThrottle {
        LoginThrottle {
            burst,
            window: Arc::new(Mutex::new((Instant::now(), 0))),
        }
    }

    /// Whether a login may be tried now.
    pub fn allows(&self) -> bool {
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        if window.0.elapsed() >= THROTTLE_WINDOW {
            *window = (Instant::now(), 0);
        }
        window.1 < self.burst
    }

    /// Counts a failed login.
    pub fn failed(&self) {
        let mut window = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        window.1 = window.1.saturating_add(1);
    }
}

/// A request from a logged-in browser: the session and its id. Without one, a page (GET)
/// redirects to the login form and anything else is a 403.
pub struct LoggedIn {
    /// The session.
    pub session: Session,
    /// Its id, from the cookie.
    pub id: String,
}

impl LoggedIn {
    /// Whether `presented` is this session's CSRF token.
    pub fn csrf_matches(&self, presented: &str) -> bool {
        self.session
            .csrf
            .as_bytes()
            .ct_eq(presented.as_bytes())
            .into()
    }
}

impl FromRequestParts<UiState> for LoggedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &UiState) -> Result<Self, Response> {
        let found = cookie(parts, COOKIE).and_then(|id| {
            state
                .sessions
                .get(&id)
                .map(|session| LoggedIn { session, id })
        });
        match found {
            Some(logged_in) => Ok(logged_in),
            None if parts.method == Method::GET => Err(Redirect::to("/ui/login").into_response()),
            None => Err((StatusCode::FORBIDDEN, "log in first").into_response()),
        }
    }
}

/// The value of cookie `name` in the request.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The `Set-Cookie` value for session `id` (or, with `None`, one that clears it).
pub fn set_cookie(id: Option<&str>, ttl: Duration, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match id {
        Some(id) => format!(
            "{COOKIE}={id}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            ttl.as_secs()
        ),
        None => format!("{COOKIE}=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

fn hash(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// 32 random bytes, base64url: a session id or a CSRF token.
fn random_token() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_found_by_its_id_until_it_ends_or_expires() {
        let sessions = Sessions::default();

        let id = sessions.start(Duration::from_secs(60)).unwrap();
        let expired = sessions.start(Duration::ZERO).unwrap();

        assert!(sessions.get(&id).is_some());
        assert!(sessions.get(&expired).is_none());
        assert!(sessions.get("made-up").is_none());
        sessions.end(&id);
        assert!(sessions.get(&id).is_none());
    }

    #[test]
    fn logins_stop_being_tried_after_a_burst_of_failures() {
        let throttle = LoginThrottle::new(2);

        let first = throttle.allows();
        throttle.failed();
        throttle.failed();

        assert!(first);
        assert!(!throttle.allows());
    }
}
