//! `/write`: a file on the Mac, from text or from an attached file (exact bytes).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use openclaw_shared::{ContentEncoding, TaskSpec};
use poise::serenity_prelude::Attachment;

use super::{acknowledge, checked_task, enqueue, request, Context};
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
    let max_bytes = ctx.data().limits.max_content_bytes;
    let write = |content, encoding| {
        let spec = TaskSpec::FileWrite {
            path: path.clone(),
            content,
            encoding,
        };
        request(ctx, spec, None, worker_name.clone())
    };
    let new_task = match (content, file) {
        (Some(text), None) => {
            let new_task = checked_task(ctx, write(text, ContentEncoding::Utf8))?;
            acknowledge(ctx).await?;
            new_task
        }
        (None, Some(file)) => {
            // Path and worker are refused before anything is downloaded.
            checked_task(ctx, write(String::new(), ContentEncoding::Utf8))?;
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
            let (content, encoding) = encode(bytes);
            checked_task(ctx, write(content, encoding))?
        }
        _ => {
            return Err(CommandError::user(
                "⚠️ Give either `content` or `file` (one of them).",
            ))
        }
    };
    enqueue(ctx, new_task).await
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
