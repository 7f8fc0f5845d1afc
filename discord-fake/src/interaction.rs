//! Slash commands a test injects, and what the bot answered to them.

use std::time::Instant;

use crate::message::{Payload, FLAG_EPHEMERAL};

/// One option value of a slash command, typed as Discord types it.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    /// A string option (type 3).
    String(String),
    /// An integer option (type 4).
    Integer(i64),
    /// A boolean option (type 5).
    Boolean(bool),
    /// A number option (type 10).
    Number(f64),
    /// An attachment option (type 11): the fake hosts the bytes and resolves the attachment.
    Attachment {
        /// The file name the user uploaded.
        filename: String,
        /// Its content type, if any.
        content_type: Option<String>,
        /// The file's bytes.
        bytes: Vec<u8>,
    },
}

impl From<&str> for OptionValue {
    fn from(v: &str) -> Self {
        Self::String(v.to_owned())
    }
}

impl From<String> for OptionValue {
    fn from(v: String) -> Self {
        Self::String(v)
    }
}

impl From<i64> for OptionValue {
    fn from(v: i64) -> Self {
        Self::Integer(v)
    }
}

impl From<bool> for OptionValue {
    fn from(v: bool) -> Self {
        Self::Boolean(v)
    }
}

impl From<f64> for OptionValue {
    fn from(v: f64) -> Self {
        Self::Number(v)
    }
}

/// Where a command is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// In a guild text channel; the interaction carries a `member`.
    Guild {
        /// The guild.
        guild_id: u64,
        /// The channel in it.
        channel_id: u64,
    },
    /// In a DM with the bot; the interaction carries a `user`.
    Dm {
        /// The DM channel.
        channel_id: u64,
    },
}

/// A slash command invocation to inject over the gateway as `INTERACTION_CREATE`.
///
/// Unset user and place default to the fake's default user and its first guild's first channel.
#[derive(Debug, Clone, PartialEq)]
pub struct SlashCommand {
    pub(crate) name: String,
    pub(crate) options: Vec<(String, OptionValue)>,
    /// The subcommand invoked (`/schedule add`); its options are the ones added.
    pub(crate) subcommand: Option<String>,
    pub(crate) user_id: Option<u64>,
    pub(crate) place: Option<Place>,
}

impl SlashCommand {
    /// Starts an invocation of the command `name` (as registered, e.g. `"run"`).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            options: Vec::new(),
            subcommand: None,
            user_id: None,
            place: None,
        }
    }

    /// Invokes the subcommand `name` of the command (`/schedule add`): the options added
    /// are the subcommand's, as Discord nests them.
    pub fn subcommand(mut self, name: impl Into<String>) -> Self {
        self.subcommand = Some(name.into());
        self
    }

    /// Adds an option value, e.g. `.option("command", "ls")` or `.option("timeout", 5_i64)`.
    pub fn option(mut self, name: impl Into<String>, value: impl Into<OptionValue>) -> Self {
        self.options.push((name.into(), value.into()));
        self
    }

    /// Adds an attachment option whose bytes the fake serves at the attachment's `url`.
    pub fn attachment(
        self,
        name: impl Into<String>,
        filename: impl Into<String>,
        bytes: impl Into<Vec<u8>>,
    ) -> Self {
        self.option(
            name,
            OptionValue::Attachment {
                filename: filename.into(),
                content_type: None,
                bytes: bytes.into(),
            },
        )
    }

    /// Sets the invoking user.
    pub fn user(mut self, user_id: u64) -> Self {
        self.user_id = Some(user_id);
        self
    }

    /// Invokes the command in a guild channel.
    pub fn in_guild(mut self, guild_id: u64, channel_id: u64) -> Self {
        self.place = Some(Place::Guild {
            guild_id,
            channel_id,
        });
        self
    }

    /// Invokes the command in a DM channel.
    pub fn in_dm(mut self, channel_id: u64) -> Self {
        self.place = Some(Place::Dm { channel_id });
        self
    }
}

/// An interaction the fake sent to the bot; pass it to the `wait_for_*` helpers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interaction {
    /// The interaction's snowflake (the `{id}` of its callback URL).
    pub id: u64,
    /// Its token (the `{token}` of its callback and webhook URLs).
    pub token: String,
    /// The application it was sent to.
    pub application_id: u64,
    /// The command's name.
    pub command: String,
    /// The invoking user.
    pub user_id: u64,
    /// The channel it was used in.
    pub channel_id: u64,
    /// The guild it was used in; `None` in a DM.
    pub guild_id: Option<u64>,
    /// When the fake sent it over the gateway.
    pub sent_at: Instant,
}

/// The interaction callback `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackKind {
    /// 1: answer to a ping.
    Pong,
    /// 4: reply with a message now.
    Message,
    /// 5: defer; a message edit follows ("Bot is thinking…").
    DeferredMessage,
    /// 6: defer a component update.
    DeferredUpdate,
    /// 7: update the component's message.
    UpdateMessage,
    /// 8: autocomplete choices.
    Autocomplete,
    /// 9: open a modal.
    Modal,
    /// Any other value.
    Other(u64),
}

impl CallbackKind {
    /// Maps the wire number to a kind.
    pub fn from_wire(kind: u64) -> Self {
        match kind {
            1 => Self::Pong,
            4 => Self::Message,
            5 => Self::DeferredMessage,
            6 => Self::DeferredUpdate,
            7 => Self::UpdateMessage,
            8 => Self::Autocomplete,
            9 => Self::Modal,
            other => Self::Other(other),
        }
    }
}

/// The bot's (first accepted) answer to an interaction.
#[derive(Debug, Clone)]
pub struct InteractionCallback {
    /// The callback type.
    pub kind: CallbackKind,
    /// The whole request body as sent (`{"type", "data"}`, or `payload_json` + files).
    pub payload: Payload,
    /// When it arrived.
    pub at: Instant,
}

impl InteractionCallback {
    /// Whether the callback asked for an ephemeral response (`data.flags` has 64).
    pub fn is_ephemeral(&self) -> bool {
        self.data_flags() & FLAG_EPHEMERAL != 0
    }

    /// The `data.flags` field, 0 when absent.
    pub fn data_flags(&self) -> u64 {
        self.payload
            .json
            .pointer("/data/flags")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0)
    }

    /// The `data.content` field, if any.
    pub fn content(&self) -> Option<&str> {
        self.payload
            .json
            .pointer("/data/content")
            .and_then(serde_json::Value::as_str)
    }
}
