//! `/write`: a file on the Mac, from text or from an attached file (exact bytes).

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use openclaw_shared::client::DEFAULT_COMMAND_TIMEOUT_MS;
use openclaw_shared::{ContentEncoding, TaskSpec};
use poise::serenity_prelude::Attachment;

use super::{acknowledge, checked, queue_task, worker, Context};
use crate::api::validate;
use crate::discord::error::CommandError;
use crate::discord::render::text::size;

/// Write a file on your Mac
#[poise::command(slash_command)]
pub async fn write(
    ctx: Context<'_>,
    #[description = "Path of the file (~ is your home); parent folders are created"] path: String,
    #[description = "The text to write (or attach a file instead)"] content: Option<String>,
    #[description = "A file whose exact bytes to write"] file: Option<Attachment>,
    #[description = "Write it on this worker (default: any)"]
    #[rename = "worker"]
    worker_name: Option<String>,
) -> Result<(), CommandError> {
    let limits = ctx.data().state.limits();
    let max_bytes = limits.max_content_bytes;
    checked(validate::non_blank("path", &path, limits.max_path_bytes))?;
    let worker = worker(worker_name)?;
    let timeout = Duration::from_millis(DEFAULT_COMMAND_TIMEOUT_MS);
    let (content, encoding) = match (content, file) {
        (Some(text), None) => {
            checked(validate::within("content", &text, max_bytes))?;
            acknowledge(ctx).await?;
            (text, ContentEncoding::Utf8)
        }
        (None, Some(file)) => {
            if u64::from(file.size) > max_bytes as u64 {
                return Err(CommandError::user(format!(
                    "⚠️ {} is {}; the limit is {}",
                    file.filename,
                    size(file.size.into()),
                    size(max_bytes as u64)
                )));
            }
            // The download may take longer than Discord's 3 seconds: acknowledge first.
            acknowledge(ctx).await?;
            let bytes = file
                .download()
                .await
                .map_err(|err| CommandError::internal("downloading the attached file", err))?;
            if bytes.len() > max_bytes {
                return Err(CommandError::user(
                    "⚠️ The attached file is over the size limit.",
                ));
            }
            encode(bytes)
        }
        _ => {
            return Err(CommandError::user(
                "⚠️ Give either `content` or `file` (one of them).",
            ))
        }
    };
    let spec = TaskSpec::FileWrite {
        path,
        content,
        encoding,
    };
    queue_task(ctx, spec, timeout, worker).await
}

/// Text stays text; anything else travels as base64, so the Mac writes the exact bytes.
fn encode(bytes: Vec<u8>) -> (String, ContentEncoding) {
    match String::from_utf8(bytes) {
        Ok(text) => (text, ContentEncoding::Utf8),
        Err(err) => (STANDARD.encode(err.into_bytes()), ContentEncoding::Base64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_stays_text_and_binary_becomes_base64() {
        assert_eq!(
            encode(b"hi\n".to_vec()),
            ("hi\n".to_owned(), ContentEncoding::Utf8)
        );
        assert_eq!(
            encode(vec![0xff, 0]),
            ("/wA=".to_owned(), ContentEncoding::Base64)
        );
    }
}
