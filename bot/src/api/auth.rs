//! Bearer-token authentication with one token per role (and optionally per worker).
//! Handlers take an extractor naming the role they need ([`ClientAuth`], [`WorkerAuth`],
//! [`AdminAuth`]), so a route cannot forget its check, and the check runs before the body is
//! read. A per-worker token may act only as its own worker: see [`WorkerAuth::act_as`].

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;

use super::error::ApiError;
use super::ratelimit::RateLimits;
use crate::state::AppState;
use crate::tokens::{Role, TokenHolder};

/// A role a route requires.
pub trait RequiredRole {
    /// The one role allowed; no role implies another.
    const ROLE: Role;
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

impl RequiredRole for ClientRole {
    const ROLE: Role = Role::Client;
}
impl RequiredRole for WorkerRole {
    const ROLE: Role = Role::Worker;
}
impl RequiredRole for AdminRole {
    const ROLE: Role = Role::Admin;
}

/// Proof that the request carried a token of role `R`, and whose. Missing or unknown token:
/// 401; a token over its rate limit: 429; another role's token: 403.
#[derive(Debug)]
pub struct Authorized<R> {
    holder: TokenHolder,
    role: PhantomData<R>,
}

impl<R> Authorized<R> {
    /// Whose token the request carried.
    pub fn holder(&self) -> &TokenHolder {
        &self.holder
    }
}

impl Authorized<WorkerRole> {
    /// Checks that this token may act as the worker `name` (the `worker` field of a claim,
    /// heartbeat or result, the worker header of an upload): a per-worker token only as its
    /// own name (403 otherwise), the shared worker token as any. So a stolen token of one
    /// worker cannot claim another's targeted tasks or report for them.
    pub fn act_as(&self, name: &str) -> Result<(), ApiError> {
        match self.holder.worker_name() {
            Some(bound) if bound != name => Err(ApiError::WrongWorker {
                bound: bound.to_owned(),
                named: name.to_owned(),
            }),
            _ => Ok(()),
        }
    }
}

/// The request carries the client token.
pub type ClientAuth = Authorized<ClientRole>;
/// The request carries the worker token.
pub type WorkerAuth = Authorized<WorkerRole>;
/// The request carries the admin token.
pub type AdminAuth = Authorized<AdminRole>;

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
        if role == R::ROLE {
            Ok(Authorized {
                holder,
                role: PhantomData,
            })
        } else {
            Err(ApiError::Forbidden(role.as_str()))
        }
    }
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
    use axum::http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn worker_auth(holder: TokenHolder) -> WorkerAuth {
        Authorized {
            holder,
            role: PhantomData,
        }
    }

    #[test]
    fn a_per_worker_token_acts_only_as_its_own_worker() {
        let mac = worker_auth(TokenHolder::Worker(Arc::from("mac")));

        assert!(mac.act_as("mac").is_ok());
        let err = mac.act_as("mini").unwrap_err();
        assert!(
            matches!(&err, ApiError::WrongWorker { bound, named } if bound == "mac" && named == "mini"),
            "{err:?}"
        );
        assert!(mac.act_as("Mac").is_err(), "names are case-sensitive");
    }

    #[test]
    fn the_shared_worker_token_acts_as_any_worker() {
        let shared = worker_auth(TokenHolder::AnyWorker);

        assert!(shared.act_as("mac").is_ok());
        assert!(shared.act_as("mini").is_ok());
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
