//! Extractors whose rejections are [`ApiError`]s, so malformed input gets our JSON error body
//! (axum's own rejections answer in plain text).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use openclaw_shared::client::ScheduleId;
use openclaw_shared::TaskId;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use super::error::ApiError;
use crate::queue::QueueError;
use uuid::Uuid;

/// A JSON body, parsed whatever its `Content-Type` says (curl recipes send `-d` without
/// one). Malformed JSON, a wrong type or a missing field is a 400 naming the field; a body
/// over the limit is a 413.
#[derive(Debug)]
pub struct AppJson<T>(pub T);

impl<T, S> FromRequest<S> for AppJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
                _ => ApiError::InvalidJson(format!(
                    "could not read the request body: {}",
                    rejection.body_text()
                )),
            }
        })?;
        parse_json(&bytes).map(AppJson)
    }
}

/// Parses `bytes` as one JSON value of type `T`, with errors that name the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::InvalidJson(
            "request body is empty; expected a JSON object".into(),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        describe(&path, &inner)
    })?;
    de.end().map_err(|err| describe(".", &err))?;
    Ok(value)
}

/// Turns a serde error at `path` into a client-facing message.
fn describe(path: &str, err: &serde_json::Error) -> ApiError {
    if matches!(
        err.classify(),
        Category::Syntax | Category::Eof | Category::Io
    ) {
        return ApiError::InvalidJson(format!("request body is not valid JSON: {err}"));
    }
    let message = err.to_string();
    // serde reports a missing field at its parent's path, with the name in backticks; say
    // "command is required" like the original does.
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        let full = match path {
            "." | "" => field.to_owned(),
            parent => format!("{parent}.{field}"),
        };
        return ApiError::InvalidJson(format!("{full} is required"));
    }
    match path {
        "." | "" => ApiError::InvalidJson(format!("invalid request body: {message}")),
        field => ApiError::InvalidJson(format!("invalid value for `{field}`: {message}")),
    }
}

/// A query string, with a malformed one answered as a 400 `invalid_field`.
#[derive(Debug)]
pub struct AppQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for AppQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(value) =
            Query::<T>::from_request_parts(parts, state)
                .await
                .map_err(|rejection| {
                    ApiError::InvalidField(format!(
                        "invalid query string: {}",
                        rejection.body_text()
                    ))
                })?;
        Ok(AppQuery(value))
    }
}

/// The `{id}` of a task route. Anything that is not a UUID is a 404, not a 400: to a
/// client, a malformed id and an unknown one mean the same thing.
#[derive(Debug, Clone, Copy)]
pub struct TaskIdPath(pub TaskId);

impl<S: Send + Sync> FromRequestParts<S> for TaskIdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::TaskNotFound)?;
        raw.parse()
            .map(TaskIdPath)
            .map_err(|_| ApiError::TaskNotFound)
    }
}

/// The `{id}` of a schedule route; like [`TaskIdPath`], anything not a UUID is a 404.
#[derive(Debug, Clone, Copy)]
pub struct ScheduleIdPath(pub ScheduleId);

impl<S: Send + Sync> FromRequestParts<S> for ScheduleIdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let not_found = || ApiError::Queue(QueueError::ScheduleNotFound(ScheduleId(Uuid::nil())));
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| not_found())?;
        raw.parse().map(ScheduleIdPath).map_err(|_| not_found())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_shared::client::CreateCommandRequest;
    use openclaw_shared::worker::ResultRequest;

    fn message(err: ApiError) -> String {
        err.to_string()
    }

    #[test]
    fn a_missing_field_is_named_like_the_original() {
        let err = parse_json::<CreateCommandRequest>(br#"{"timeout": 5}"#).unwrap_err();

        assert_eq!(message(err), "command is required");
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        let err = parse_json::<CreateCommandRequest>(br#"{"command": "ls", "timeout": "soon"}"#)
            .unwrap_err();

        assert!(message(err).starts_with("invalid value for `timeout`"));
    }

    #[test]
    fn a_nested_missing_field_names_its_path() {
        let body =
            br#"{"worker": "w", "lease": "6f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11", "outcome": {}}"#;

        let err = parse_json::<ResultRequest>(body).unwrap_err();

        assert_eq!(message(err), "outcome.status is required");
    }

    #[test]
    fn broken_and_empty_bodies_are_invalid_json() {
        for body in [
            &br#"{"command": "#[..],
            b"",
            b"  ",
            br#"{"command": "ls"} x"#,
        ] {
            let err = parse_json::<CreateCommandRequest>(body).unwrap_err();
            assert!(matches!(err, ApiError::InvalidJson(_)), "{body:?}");
        }
    }
}
