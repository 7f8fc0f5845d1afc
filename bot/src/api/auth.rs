//! Bearer-token authentication with one token per role. Handlers take an extractor naming
//! the role they need ([`ClientAuth`], [`WorkerAuth`], [`AdminAuth`]), so a route cannot
//! forget its check, and the check runs before the body is read.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;

use super::error::ApiError;
use crate::app::AppState;
use crate::tokens::Role;

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

/// Proof that the request carried the token of role `R`. Missing or unknown token: 401;
/// another role's token: 403.
#[derive(Debug)]
pub struct Authorized<R>(PhantomData<R>);

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
        let role = state
            .tokens()
            .role_of(token)
            .ok_or(ApiError::Unauthorized)?;
        if role == R::ROLE {
            Ok(Authorized(PhantomData))
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
