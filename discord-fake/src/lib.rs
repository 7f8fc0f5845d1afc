//! A Discord-protocol fake for tests: the REST API and the gateway websocket on `127.0.0.1:0`, so
//! the real serenity 0.12 / poise 0.7 stack can run against it. It records everything the bot
//! sends (bodies, uploaded bytes, allowed mentions), answers the way Discord does (status codes,
//! error codes, message objects serenity can parse), and can inject faults.
//!
//! # Recipe: pointing serenity/poise at a custom base URL
//!
//! This is the incantation the product bot uses with its `api_base` setting. The only inputs are
//! the token and the base URL (scheme + host + port, no path); serenity asks
//! `GET {base}/api/v10/gateway` for the websocket URL, which the fake answers with its own.
//!
//! ```no_run
//! use poise::serenity_prelude as serenity;
//!
//! struct Data;
//! type Error = Box<dyn std::error::Error + Send + Sync>;
//!
//! /// Replies with pong.
//! #[poise::command(slash_command)]
//! async fn ping(ctx: poise::Context<'_, Data, Error>) -> Result<(), Error> {
//!     ctx.defer().await?; // POST /interactions/{id}/{token}/callback, type 5
//!     if let poise::Context::Application(app) = ctx {
//!         // PATCH /webhooks/{app}/{token}/messages/@original (multipart with files[0]).
//!         let edit = serenity::EditInteractionResponse::new()
//!             .content("pong")
//!             .allowed_mentions(serenity::CreateAllowedMentions::new())
//!             .new_attachment(serenity::CreateAttachment::bytes(b"pong".to_vec(), "pong.txt"));
//!         app.interaction.edit_response(ctx.serenity_context(), edit).await?;
//!     }
//!     Ok(())
//! }
//!
//! async fn run(token: &str, api_base: &str, guild_id: u64) -> Result<(), Error> {
//!     let http = serenity::HttpBuilder::new(token)
//!         .proxy(api_base)
//!         // Required with a proxy: serenity's ratelimiter would otherwise call discord.com.
//!         .ratelimiter_disabled(true)
//!         .build();
//!     let framework = poise::Framework::builder()
//!         .options(poise::FrameworkOptions { commands: vec![ping()], ..Default::default() })
//!         .setup(move |ctx, _ready, framework| {
//!             Box::pin(async move {
//!                 // PUT /api/v10/applications/{app}/guilds/{guild}/commands
//!                 let guild = serenity::GuildId::new(guild_id);
//!                 poise::builtins::register_in_guild(ctx, &framework.options().commands, guild)
//!                     .await?;
//!                 Ok(Data)
//!             })
//!         })
//!         .build();
//!     let mut client =
//!         serenity::ClientBuilder::new_with_http(http, serenity::GatewayIntents::non_privileged())
//!             .framework(framework)
//!             .await?;
//!     // Stop it with `client.shard_manager.shutdown_all().await` from another task.
//!     client.start().await?;
//!     Ok(())
//! }
//! ```
//!
//! With the fake: `run(discord.token(), discord.base_url(), discord.guild_id())`, then
//! [`FakeDiscord::wait_for_commands_registered`] before injecting a command with
//! [`FakeDiscord::send_slash_command`]. Facts worth knowing: after `ctx.defer()`, poise's
//! `ctx.send` posts a follow-up (which Discord, and the fake, turn into an edit of the loading
//! message); an `INTERACTION_CREATE` serenity cannot parse is dropped silently (visible only at
//! `RUST_LOG=serenity=debug`); the fake enforces Discord's 3-second acknowledgement deadline
//! (configurable with [`FakeDiscordBuilder::ack_deadline`]).
//!
//! # What the fake answers like Discord
//! - Interaction callback: 204; a second one 400 (code 40060); after the deadline or for an
//!   expired token 404 Unknown interaction (10062).
//! - Webhook calls (`@original`, follow-ups) with an expired token
//!   ([`FakeDiscord::expire_interaction_token`]): 401 Invalid Webhook Token (50027). Editing
//!   before any callback: 404 Unknown Message (10008).
//! - Messages: JSON or multipart (`payload_json` + `files[N]`); the `attachments` array keeps or
//!   drops files as on Discord; a file over the size limit is a 413 (40005); an empty message a
//!   400 (50006). `POST /channels/{id}/messages` to an unknown channel: 404 (10003).
//! - Commands: `PUT` is a bulk overwrite per scope; a guild the bot is not in is 403 (50001).
//! - REST routes other than interactions, webhooks and `/gateway` need `Authorization: Bot
//!   <token>` (else 401); unknown routes are logged at `warn` and answered 404, and show up in
//!   [`FakeDiscord::requests_to`]`(`[`Route::Unknown`]`)`.
//! - Attachment URLs point at the fake, which serves their bytes (for `Attachment::download`).
//!
//! With the ratelimiter disabled, serenity turns a 429 into an error that keeps only the status
//! and the JSON `message`/`code`: the `retry_after` value (body and `Retry-After` header) does
//! not reach the caller through serenity's error type.
//!
//! # Layout
//! - `fake/`: [`FakeDiscord`], the handle tests use (start, inject, wait, inspect, faults).
//! - `config.rs`: [`FakeDiscordBuilder`], [`GuildSpec`] and Discord's limits.
//! - `rest/`: the HTTP server: logging, faults, auth, dispatch; `webhooks.rs` (interaction
//!   callbacks, original responses, follow-ups) and `channels.rs` (channel messages, CDN).
//! - `gateway.rs`: the websocket (HELLO, IDENTIFY, READY, heartbeats, dispatches).
//! - `route.rs`: request classification; `fault.rs`: fault injection; `body.rs`: JSON/multipart.
//! - `model/`: JSON builders for Discord objects; `message.rs`: messages; `mentions.rs`: who
//!   a message pings;
//!   `interaction.rs`: slash commands and callbacks; `recorder.rs`: the state and waiting.

mod body;
mod channels;
mod config;
mod error;
mod fake;
mod fault;
mod gateway;
mod ids;
mod interaction;
mod mentions;
mod message;
mod model;
mod recorder;
mod reply;
mod rest;
mod route;
mod webhooks;

use serde_json::Value;

pub use config::{
    FakeDiscordBuilder, GuildSpec, ACK_DEADLINE, ATTACHMENT_SIZE_LIMIT, DEFAULT_WAIT_TIMEOUT,
    HEARTBEAT_INTERVAL,
};
pub use error::FakeError;
pub use fake::FakeDiscord;
pub use fault::{FailMode, RouteMatcher};
pub use interaction::{CallbackKind, Interaction, InteractionCallback, OptionValue, SlashCommand};
pub use mentions::Mentions;
pub use message::{
    MessageOrigin, Payload, StoredAttachment, StoredMessage, UploadedFile, FLAG_EPHEMERAL,
    FLAG_LOADING,
};
pub use recorder::{Identify, RecordedRequest, RegisteredCommand};
pub use route::Route;

/// What the REST server, the gateway and the test handle share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: config::Config,
    pub(crate) recorder: recorder::Recorder,
    /// `http://127.0.0.1:PORT`, the REST base URL.
    pub(crate) base_url: String,
    /// `ws://127.0.0.1:PORT`, the gateway URL handed out by `GET /gateway`.
    pub(crate) gateway_url: String,
}

impl Shared {
    /// The bot's user object.
    pub(crate) fn bot_user(&self) -> Value {
        model::user(self.config.bot_user_id, &self.config.bot_name, true)
    }

    /// A message object as Discord returns it.
    pub(crate) fn message_json(&self, message: &StoredMessage) -> Value {
        model::message(
            message,
            &self.bot_user(),
            self.config.application_id,
            &self.base_url,
        )
    }
}
