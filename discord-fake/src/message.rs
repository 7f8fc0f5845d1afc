//! Messages as the bot sent them and as Discord would now show them: every payload is kept
//! verbatim (content, allowed mentions, uploaded bytes) and folded into the message's current state.

use std::time::{Instant, SystemTime};

use serde_json::Value;

use crate::ids::{id_string, next_snowflake};
use crate::mentions::{compute_mentions, Mentions};

/// Message flag: only the invoking user sees the message.
pub const FLAG_EPHEMERAL: u64 = 1 << 6;
/// Message flag: the deferred "Bot is thinking…" state a type 5 callback creates.
pub const FLAG_LOADING: u64 = 1 << 7;

/// One file part of a multipart request, exactly as uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedFile {
    /// The form field name, e.g. `files[0]`.
    pub field: String,
    /// The file name the client gave the part.
    pub filename: String,
    /// The part's `Content-Type`, if it had one.
    pub content_type: Option<String>,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// A request body as the bot sent it: the JSON (the body itself, or a multipart `payload_json`)
/// and any uploaded files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Payload {
    /// The JSON document; `Value::Null` when the request had no JSON.
    pub json: Value,
    /// The uploaded files, in request order.
    pub files: Vec<UploadedFile>,
    /// Whether the body was `multipart/form-data`.
    pub multipart: bool,
}

impl Payload {
    /// Returns the `content` field, if the payload set one.
    pub fn content(&self) -> Option<&str> {
        self.json.get("content").and_then(Value::as_str)
    }

    /// Returns the `allowed_mentions` object exactly as sent, if any.
    pub fn allowed_mentions(&self) -> Option<&Value> {
        self.json.get("allowed_mentions").filter(|v| !v.is_null())
    }

    /// Returns the `flags` field (0 when absent).
    pub fn flags(&self) -> u64 {
        self.json.get("flags").and_then(Value::as_u64).unwrap_or(0)
    }

    /// Returns the uploaded file with this name, if any.
    pub fn file(&self, filename: &str) -> Option<&UploadedFile> {
        self.files.iter().find(|f| f.filename == filename)
    }
}

/// An attachment on a message (or in a slash command option), with its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAttachment {
    /// The attachment's snowflake.
    pub id: u64,
    /// Its file name.
    pub filename: String,
    /// Its content type, if known.
    pub content_type: Option<String>,
    /// Its alt text, if the bot set one.
    pub description: Option<String>,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// How a message came to be, which decides its Discord `type` and `webhook_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageOrigin {
    /// Posted with `POST /channels/{id}/messages`.
    Channel,
    /// An interaction's original response.
    InteractionResponse,
    /// An interaction follow-up.
    Followup,
}

/// A message the bot created, in its current state, with the history of what was sent for it.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    /// The message's snowflake.
    pub id: u64,
    /// The channel it is in.
    pub channel_id: u64,
    /// The guild it is in, if any.
    pub guild_id: Option<u64>,
    /// How it was created.
    pub origin: MessageOrigin,
    /// Its current text.
    pub content: String,
    /// Its current embeds, as sent.
    pub embeds: Vec<Value>,
    /// Its current flags (see [`FLAG_EPHEMERAL`], [`FLAG_LOADING`]).
    pub flags: u64,
    /// Its current attachments.
    pub attachments: Vec<StoredAttachment>,
    /// `allowed_mentions` of the latest payload, exactly as sent (None when absent).
    pub allowed_mentions: Option<Value>,
    /// `message_reference` as sent at creation (replies).
    pub message_reference: Option<Value>,
    /// Every payload sent for this message, oldest first: the creation (if it had a body), then
    /// each edit.
    pub sent: Vec<Payload>,
    /// How many edits (`PATCH`) it received.
    pub edits: u32,
    /// When the fake created it.
    pub created_at: Instant,
    /// Wall-clock creation time, for the `timestamp` field.
    pub(crate) created_wall: SystemTime,
    /// Wall-clock time of the last edit, for `edited_timestamp`.
    pub(crate) edited_wall: Option<SystemTime>,
}

/// Why a payload could not be applied; mapped to Discord's error bodies by the REST layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PayloadError {
    /// A file is over the per-file size limit.
    FileTooLarge { filename: String },
    /// `attachments` names an id that is neither an upload nor an existing attachment.
    UnknownAttachment(String),
    /// A message would end up with no content, embeds or attachments.
    Empty,
}

impl StoredMessage {
    /// Creates an empty message; `apply` fills it from a payload.
    pub(crate) fn new(channel_id: u64, guild_id: Option<u64>, origin: MessageOrigin) -> Self {
        Self {
            id: next_snowflake(),
            channel_id,
            guild_id,
            origin,
            content: String::new(),
            embeds: Vec::new(),
            flags: 0,
            attachments: Vec::new(),
            allowed_mentions: None,
            message_reference: None,
            sent: Vec::new(),
            edits: 0,
            created_at: Instant::now(),
            created_wall: SystemTime::now(),
            edited_wall: None,
        }
    }

    /// Returns the attachment with this file name, if any.
    pub fn attachment(&self, filename: &str) -> Option<&StoredAttachment> {
        self.attachments.iter().find(|a| a.filename == filename)
    }

    /// Whether only the invoking user can see this message.
    pub fn is_ephemeral(&self) -> bool {
        self.flags & FLAG_EPHEMERAL != 0
    }

    /// Whether this is still a deferred "thinking…" response nobody has filled in.
    pub fn is_loading(&self) -> bool {
        self.flags & FLAG_LOADING != 0
    }

    /// Who this message would notify, given its content and latest `allowed_mentions`.
    pub fn mentions(&self, replied_user: Option<u64>) -> Mentions {
        compute_mentions(&self.content, self.allowed_mentions.as_ref(), replied_user)
    }

    /// Creates the message from its first payload.
    pub(crate) fn create(
        &mut self,
        payload: Payload,
        size_limit: usize,
    ) -> Result<(), PayloadError> {
        self.flags = payload.flags();
        self.message_reference = payload.json.get("message_reference").cloned();
        self.apply(payload, size_limit, false)
    }

    /// Applies an edit: fields present in the payload replace the current ones, as on Discord.
    pub(crate) fn edit(&mut self, payload: Payload, size_limit: usize) -> Result<(), PayloadError> {
        self.apply(payload, size_limit, true)?;
        self.edits += 1;
        self.edited_wall = Some(SystemTime::now());
        Ok(())
    }

    /// Folds one payload into the message; on error the message is unchanged.
    fn apply(
        &mut self,
        payload: Payload,
        size_limit: usize,
        is_edit: bool,
    ) -> Result<(), PayloadError> {
        if let Some(big) = payload.files.iter().find(|f| f.bytes.len() > size_limit) {
            return Err(PayloadError::FileTooLarge {
                filename: big.filename.clone(),
            });
        }
        let attachments = self.next_attachments(&payload)?;
        let content = match payload.json.get("content") {
            Some(v) => v.as_str().unwrap_or_default().to_owned(),
            None => self.content.clone(),
        };
        let embeds = match payload.json.get("embeds") {
            Some(Value::Array(e)) => e.clone(),
            Some(_) => Vec::new(),
            None => self.embeds.clone(),
        };
        // A deferred response is allowed to be empty; anything the bot writes must show something.
        if content.is_empty() && embeds.is_empty() && attachments.is_empty() && !self.is_loading() {
            return Err(PayloadError::Empty);
        }
        if self.is_loading() && is_edit {
            self.flags &= !FLAG_LOADING;
        }
        self.content = content;
        self.embeds = embeds;
        self.attachments = attachments;
        self.allowed_mentions = payload.allowed_mentions().cloned();
        self.sent.push(payload);
        Ok(())
    }

    /// Works out the attachment list after a payload: with an `attachments` array, exactly the
    /// listed uploads and kept ids (Discord drops the rest); without one, the old list plus uploads.
    fn next_attachments(&self, payload: &Payload) -> Result<Vec<StoredAttachment>, PayloadError> {
        let mut uploads: Vec<Option<&UploadedFile>> = payload.files.iter().map(Some).collect();
        let mut next = Vec::new();
        if let Some(Value::Array(listed)) = payload.json.get("attachments") {
            for entry in listed {
                let id = id_string(entry.get("id"));
                let field = format!("files[{id}]");
                let upload = uploads
                    .iter_mut()
                    .find(|u| u.is_some_and(|f| f.field == field))
                    .and_then(Option::take);
                if let Some(file) = upload {
                    next.push(stored_from_upload(file, entry));
                } else if let Some(kept) = self.attachments.iter().find(|a| a.id.to_string() == id)
                {
                    next.push(kept.clone());
                } else {
                    return Err(PayloadError::UnknownAttachment(id));
                }
            }
        } else {
            next.extend(self.attachments.iter().cloned());
        }
        // Uploads the JSON did not describe are still attached, under their part's file name.
        next.extend(
            uploads
                .into_iter()
                .flatten()
                .map(|f| stored_from_upload(f, &Value::Null)),
        );
        Ok(next)
    }
}

/// Turns an upload into an attachment, taking name and alt text from its JSON entry if given.
fn stored_from_upload(file: &UploadedFile, entry: &Value) -> StoredAttachment {
    let filename = entry
        .get("filename")
        .and_then(Value::as_str)
        .unwrap_or(&file.filename)
        .to_owned();
    StoredAttachment {
        id: next_snowflake(),
        filename,
        content_type: file.content_type.clone(),
        description: entry
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned),
        bytes: file.bytes.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn upload(field: &str, name: &str, bytes: &[u8]) -> UploadedFile {
        UploadedFile {
            field: field.into(),
            filename: name.into(),
            content_type: None,
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn edit_with_attachments_array_keeps_only_listed_files() {
        let mut msg = StoredMessage::new(1, None, MessageOrigin::Channel);
        let first = Payload {
            json: json!({"content": "a", "attachments": [{"id": 0, "filename": "a.txt"}]}),
            files: vec![upload("files[0]", "a.txt", b"A")],
            multipart: true,
        };
        msg.create(first, 1024).unwrap();
        let old_id = msg.attachments[0].id;

        let second = Payload {
            json: json!({"attachments": [{"id": old_id}, {"id": 0, "filename": "b.txt"}]}),
            files: vec![upload("files[0]", "b.txt", b"B")],
            multipart: true,
        };
        msg.edit(second, 1024).unwrap();

        let names: Vec<_> = msg
            .attachments
            .iter()
            .map(|a| a.filename.as_str())
            .collect();
        assert_eq!(names, ["a.txt", "b.txt"]);
        assert_eq!(msg.content, "a");
        assert_eq!(msg.edits, 1);
        assert_eq!(msg.attachment("b.txt").unwrap().bytes, b"B");
    }

    #[test]
    fn oversized_upload_is_refused_and_changes_nothing() {
        let mut msg = StoredMessage::new(1, None, MessageOrigin::Channel);
        let payload = Payload {
            json: json!({"content": "x"}),
            files: vec![upload("files[0]", "big.bin", &[0; 11])],
            multipart: true,
        };

        let err = msg.create(payload, 10).unwrap_err();

        assert_eq!(
            err,
            PayloadError::FileTooLarge {
                filename: "big.bin".into()
            }
        );
        assert!(msg.sent.is_empty());
    }

    #[test]
    fn editing_a_deferred_response_clears_the_loading_flag() {
        let mut msg = StoredMessage::new(1, None, MessageOrigin::InteractionResponse);
        msg.flags = FLAG_LOADING | FLAG_EPHEMERAL;

        msg.edit(
            Payload {
                json: json!({"content": "done"}),
                ..Payload::default()
            },
            10,
        )
        .unwrap();

        assert!(!msg.is_loading());
        assert!(msg.is_ephemeral());
    }

    #[test]
    fn message_without_content_embeds_or_files_is_refused() {
        let mut msg = StoredMessage::new(1, None, MessageOrigin::Channel);

        let err = msg.create(
            Payload {
                json: json!({"content": ""}),
                ..Payload::default()
            },
            10,
        );

        assert_eq!(err, Err(PayloadError::Empty));
    }
}
