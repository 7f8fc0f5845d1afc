//! Reads a request body the way Discord does: JSON, or `multipart/form-data` with a
//! `payload_json` part and file parts (`files[N]`).

use std::convert::Infallible;

use axum::body::Bytes;
use serde_json::Value;

use crate::message::{Payload, UploadedFile};

/// Why a body could not be read; the REST layer answers Discord's 400 (code 50109/50035).
#[derive(Debug, thiserror::Error)]
pub(crate) enum BodyError {
    /// The JSON (body or `payload_json`) is malformed.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The multipart body is malformed.
    #[error("invalid multipart body: {0}")]
    Multipart(#[from] multer::Error),
}

/// Parses `bytes` according to `content_type`: multipart when it names a boundary, otherwise JSON
/// (as Discord reads it, whatever the declared type). An empty body yields an empty payload.
pub(crate) async fn parse(content_type: Option<&str>, bytes: Bytes) -> Result<Payload, BodyError> {
    let boundary = content_type.and_then(|ct| multer::parse_boundary(ct).ok());
    if let Some(boundary) = boundary {
        return parse_multipart(bytes, boundary).await;
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Payload::default());
    }
    Ok(Payload {
        json: serde_json::from_slice(&bytes)?,
        files: Vec::new(),
        multipart: false,
    })
}

/// Reads every part: `payload_json` becomes the JSON, parts with a file name become files, other
/// text fields are merged into the JSON as strings (Discord's form-field alternative).
async fn parse_multipart(bytes: Bytes, boundary: String) -> Result<Payload, BodyError> {
    let stream = futures_util::stream::once(async move { Ok::<_, Infallible>(bytes) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut json = Value::Null;
    let mut fields = serde_json::Map::new();
    let mut files = Vec::new();
    while let Some(field) = form.next_field().await? {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(ToString::to_string);
        let data = field.bytes().await?;
        match filename {
            Some(filename) => files.push(UploadedFile {
                field: name,
                filename,
                content_type,
                bytes: data.to_vec(),
            }),
            None if name == "payload_json" => json = serde_json::from_slice(&data)?,
            None => {
                fields.insert(
                    name,
                    Value::String(String::from_utf8_lossy(&data).into_owned()),
                );
            }
        }
    }
    if !fields.is_empty() {
        match &mut json {
            Value::Object(map) => map.extend(fields),
            _ => json = Value::Object(fields),
        }
    }
    Ok(Payload {
        json,
        files,
        multipart: true,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn multipart_yields_payload_json_and_file_bytes() {
        let body = "--XyZ\r\n\
            Content-Disposition: form-data; name=\"files[0]\"; filename=\"pong.bin\"\r\n\
            Content-Type: application/octet-stream\r\n\r\n\
            \x00\x01binary\r\n\
            --XyZ\r\n\
            Content-Disposition: form-data; name=\"payload_json\"\r\n\r\n\
            {\"content\":\"pong\"}\r\n\
            --XyZ--\r\n";

        let payload = parse(Some("multipart/form-data; boundary=XyZ"), Bytes::from(body))
            .await
            .unwrap();

        assert!(payload.multipart);
        assert_eq!(payload.json, json!({"content": "pong"}));
        assert_eq!(payload.files[0].field, "files[0]");
        assert_eq!(payload.files[0].filename, "pong.bin");
        assert_eq!(payload.files[0].bytes, b"\x00\x01binary");
    }

    #[tokio::test]
    async fn json_body_is_parsed_and_empty_body_is_empty() {
        let json_payload = parse(Some("application/json"), Bytes::from("{\"a\":1}"))
            .await
            .unwrap();
        let empty = parse(None, Bytes::new()).await.unwrap();

        assert_eq!(json_payload.json, json!({"a": 1}));
        assert_eq!(empty, Payload::default());
    }

    #[tokio::test]
    async fn malformed_json_is_an_error() {
        let err = parse(Some("application/json"), Bytes::from("{")).await;

        assert!(matches!(err, Err(BodyError::Json(_))));
    }
}
