//! Bearer-token authentication with one token per role (and optionally per worker).
//! Handlers take an extractor naming the role they need ([`ClientAuth`], [`WorkerAuth`],
//! [`AdminAuth`], or [`ReaderAuth`] for routes that only read tasks), so a route cannot
//! forget its check, and the check runs before the body is read. A per-worker token may act
//! only as its own worker, and the shared one only as a capped number of names: see
//! [`WorkerAuth::act_as`]. Whose tasks a token sees: [`ReaderAuth::scope`].

use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;

use super::error::ApiError;
use super::ratelimit::RateLimits;
use crate::intake::{fields, Requester};
use crate::queue::{Queue, Scope, Voucher, WorkerVisit};
use crate::state::AppState;
use crate::tokens::{Role, TokenHolder};

/// The roles a route accepts.
pub trait RequiredRole {
    /// Whether a token of `role` may use the route; no role implies another.
    fn allows(role: Role) -> bool;
}

/// Marker for client routes (`/tasks`, `/files/*`, `/claude`).
#[derive(Debug)]
pub enum ClientRole {}
/// Marker for worker routes (`/v1/worker/*`).
#[derive(Debug)]
pub enum WorkerRole {}
/// Marker for `/admin/*`.
#[derive(Debug)]
pub enum AdminRole {}
/// Marker for routes that only read tasks (list, get, attachments): the client token sees
/// its own tasks, the admin token everyone's.
#[derive(Debug)]
pub enum ReaderRole {}

impl RequiredRole for ClientRole {
    fn allows(role: Role) -> bool {
        role == Role::Client
    }
}
impl RequiredRole for WorkerRole {
    fn allows(role: Role) -> bool {
        role == Role::Worker
    }
}
impl RequiredRole for AdminRole {
    fn allows(role: Role) -> bool {
        role == Role::Admin
    }
}
impl RequiredRole for ReaderRole {
    fn allows(role: Role) -> bool {
        matches!(role, Role::Client | Role::Admin)
    }
}

/// Proof that the request carried a token of role `R`, and whose. Missing or unknown token:
/// 401; a token over its rate limit: 429; another role's token: 403.
pub struct Authorized<R> {
    holder: TokenHolder,
    /// The queue whose worker registry [`WorkerAuth::act_as`] admits names to.
    queue: Queue,
    /// `auth.max_shared_worker_names`: the shared worker token's cap.
    max_shared_names: usize,
    /// The worker visit `act_as` opened, held for the rest of the request (dropped with
    /// the handler's arguments), so a worker waiting in a long poll counts as present.
    visit: OnceLock<WorkerVisit>,
    role: PhantomData<R>,
}

impl<R> Authorized<R> {
    /// Whose token the request carried.
    pub fn holder(&self) -> &TokenHolder {
        &self.holder
    }
}

impl<R> std::fmt::Debug for Authorized<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorized")
            .field("holder", &self.holder)
            .field("visit", &self.visit.get())
            .finish_non_exhaustive()
    }
}

impl Authorized<WorkerRole> {
    /// Checks that this token may act as the worker `name` (the `worker` field of a claim,
    /// heartbeat or result, the worker header of an upload) and registers the name for the
    /// rest of the request: a per-worker token only as its own name (403 `forbidden`
    /// otherwise), so a stolen token of one worker cannot claim another's targeted tasks or
    /// report for them; the shared worker token as any name already live, or as a new one
    /// while fewer than `auth.max_shared_worker_names` are (403 `too_many_workers`
    /// otherwise), so made-up names cannot crowd the real worker out of `/status`.
    pub fn act_as(&self, name: &str) -> Result<(), ApiError> {
        // Every caller checked the name already; checked again here because a registered
        // name is shown in `/status` and `/admin/health`, so nothing unchecked may get in.
        fields::own_worker_name(name)?;
        let label = self.holder.config_key();
        let voucher = match self.holder.worker_name() {
            Some(bound) if bound != name => {
                return Err(ApiError::WrongWorker {
                    bound: bound.to_owned(),
                    named: name.to_owned(),
                })
            }
            Some(_) => Voucher::Own { label: &label },
            None => Voucher::Shared {
                label: &label,
                cap: self.max_shared_names,
            },
        };
        let visit = self.queue.admit_worker(name, voucher)?;
        // A second `act_as` in one request (none does that today) just ends its own visit.
        let _ = self.visit.set(visit);
        Ok(())
    }
}

impl Authorized<ReaderRole> {
    /// Whose tasks this token sees: the admin token everyone's, the client token those it
    /// created (not Discord users' tasks, nor those stored before tasks had owners).
    pub fn scope(&self) -> Scope {
        match self.holder.role() {
            Role::Admin => Scope::All,
            _ => Requester::ApiClient.own_tasks(),
        }
    }
}

/// The request carries the client token.
pub type ClientAuth = Authorized<ClientRole>;
/// The request carries the worker token.
pub type WorkerAuth = Authorized<WorkerRole>;
/// The request carries the admin token.
pub type AdminAuth = Authorized<AdminRole>;
/// The request carries the client or the admin token, to read tasks.
pub type ReaderAuth = Authorized<ReaderRole>;

impl<R: RequiredRole> FromRequestParts<AppState> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let holder = state
            .tokens()
            .identify(token)
            .ok_or(ApiError::Unauthorized)?
            .clone();
        // Before the role check, so a token hammering routes it may not use is limited too.
        // The limiters are there whenever `api::router` built the app with limits enabled.
        if let Some(limits) = parts.extensions.get::<Arc<RateLimits>>() {
            limits.admit_token(&holder)?;
        }
        let role = holder.role();
        if R::allows(role) {
            Ok(Authorized {
                holder,
                queue: state.queue().clone(),
                max_shared_names: state.config().auth.max_shared_worker_names,
                visit: OnceLock::new(),
                role: PhantomData,
            })
        } else {
            Err(ApiError::Forbidden(role.as_str()))
        }
    }
}

/// Lets through only requests with the client token (within its rate limit), for routes
/// other doors add beside the API's ([`super::router_with`]); others get our JSON error.
pub async fn client_only(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (mut parts, body) = request.into_parts();
    let auth = match ClientAuth::from_request_parts(&mut parts, &state).await {
        Ok(auth) => auth,
        Err(refused) => return refused.into_response(),
    };
    // The door creates its tasks later in the request; it gets the token's creation rate
    // to check each against, as `POST /tasks` checks its one.
    if let Some(limits) = parts.extensions.get::<Arc<RateLimits>>().cloned() {
        let holder = auth.holder().clone();
        parts
            .extensions
            .insert(crate::intake::CreateAdmission::new(move || {
                match limits.admit_create(&holder) {
                    Ok(()) => Ok(()),
                    Err(ApiError::RateLimited { retry_after_secs }) => {
                        Err(crate::intake::RetryAfter(retry_after_secs))
                    }
                    Err(_) => Err(crate::intake::RetryAfter(1)),
                }
            }));
    }
    next.run(axum::extract::Request::from_parts(parts, body))
        .await
}

/// The token of a single `Authorization: Bearer <token>` header. Strict: no bare token
/// (the original accepted one), no other scheme, exactly one space, no second header. The
/// scheme name is case-insensitive, as RFC 9110 says.
pub fn bearer_token(headers: &HeaderMap) -> Option<&[u8]> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let bytes = value.as_bytes();
    let space = bytes.iter().position(|b| *b == b' ')?;
    let (scheme, token) = (&bytes[..space], &bytes[space + 1..]);
    let well_formed = scheme.eq_ignore_ascii_case(b"Bearer")
        && !token.is_empty()
        && token.iter().all(u8::is_ascii_graphic);
    well_formed.then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::QueueSettings;
    use axum::http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    /// A worker token's proof over a fresh queue, whose shared-name cap is `cap`.
    fn worker_auth(holder: TokenHolder, cap: usize) -> (WorkerAuth, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::open(&dir.path().join("q.sqlite3"), QueueSettings::default()).unwrap();
        let auth = Authorized {
            holder,
            queue,
            max_shared_names: cap,
            visit: OnceLock::new(),
            role: PhantomData,
        };
        (auth, dir)
    }

    #[test]
    fn a_per_worker_token_acts_only_as_its_own_worker() {
        let (mac, _dir) = worker_auth(TokenHolder::Worker(Arc::from("mac")), 1);

        assert!(mac.act_as("mac").is_ok());
        let err = mac.act_as("mini").unwrap_err();
        assert!(
            matches!(&err, ApiError::WrongWorker { bound, named } if bound == "mac" && named == "mini"),
            "{err:?}"
        );
        assert!(mac.act_as("Mac").is_err(), "names are case-sensitive");
    }

    #[test]
    fn the_shared_worker_token_acts_as_any_worker_up_to_its_cap_of_names() {
        let (shared, _dir) = worker_auth(TokenHolder::AnyWorker, 2);

        let unfit = shared.act_as("my mac\n🟢 `impostor`");
        assert!(matches!(unfit, Err(ApiError::InvalidField(_))), "{unfit:?}");
        assert!(shared.act_as("mac").is_ok());
        assert!(shared.act_as("mini").is_ok());
        let err = shared.act_as("third").unwrap_err();
        assert!(
            matches!(&err, ApiError::TooManyWorkers(refused) if refused.cap == 2),
            "{err:?}"
        );
    }

    #[test]
    fn only_a_single_well_formed_bearer_header_yields_a_token() {
        assert_eq!(bearer_token(&headers(&["Bearer abc"])), Some(&b"abc"[..]));
        assert_eq!(bearer_token(&headers(&["bearer abc"])), Some(&b"abc"[..]));

        for bad in [
            &["abc"][..],
            &["Basic abc"],
            &["Bearer"],
            &["Bearer "],
            &["Bearer  abc"],
            &["Bearer abc def"],
            &["Bearer abc", "Bearer abc"],
            &[],
        ] {
            assert_eq!(bearer_token(&headers(bad)), None, "{bad:?}");
        }
    }
}
