//! [`FakeDiscord`]: the handle a test holds. It starts the servers, injects slash commands, and
//! offers typed views and `wait_for_*` helpers over what the bot sent.

use std::sync::Arc;
use std::time::Instant;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::error::FakeError;
use crate::fault::{FailMode, Fault, RouteMatcher};
use crate::ids::{interaction_token, next_snowflake};
use crate::interaction::{Interaction, InteractionCallback, OptionValue, Place, SlashCommand};
use crate::message::{StoredAttachment, StoredMessage};
use crate::recorder::{
    Identify, InteractionRecord, Outbound, RecordedRequest, Recorder, RegisteredCommand, State,
};
use crate::route::Route;
use crate::{gateway, model, rest, FakeDiscordBuilder, Shared};

/// A running fake Discord (REST + gateway on loopback). Dropping it stops both servers.
///
/// A test drives it like this (the bot is started with [`Self::token`], [`Self::base_url`] and
/// [`Self::guild_id`] as in the crate docs' recipe):
///
/// ```no_run
/// use std::time::Duration;
/// use discord_fake::{CallbackKind, FailMode, FakeDiscord, Route, SlashCommand};
///
/// # async fn test() -> Result<(), discord_fake::FakeError> {
/// let discord = FakeDiscord::start().await?;
/// // … start the bot against discord.base_url() …
/// discord.wait_for_commands_registered().await?;
/// let retry_after = Duration::from_secs(1);
/// discord.fail_next(Route::EditOriginal, FailMode::RateLimited { retry_after });
///
/// let ix = discord
///     .send_slash_command(SlashCommand::new("run").option("command", "echo hi").user(42))
///     .await?;
/// assert_eq!(discord.wait_for_callback(&ix).await?.kind, CallbackKind::DeferredMessage);
/// let answer = discord.wait_for_original(&ix, |m| m.content.contains("hi")).await?;
/// assert!(!answer.mentions(None).everyone);
/// assert_eq!(discord.requests_to(Route::EditOriginal)[0].status, Some(429));
///
/// discord.expire_interaction_token(&ix.token); // as after Discord's 15 minutes
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct FakeDiscord {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl FakeDiscord {
    /// Starts a fake with the defaults: one guild with one channel, Discord's limits.
    pub async fn start() -> Result<Self, FakeError> {
        Self::builder().start().await
    }

    /// Returns a builder to change the defaults before starting.
    pub fn builder() -> FakeDiscordBuilder {
        FakeDiscordBuilder::default()
    }

    /// Binds both listeners and spawns the servers on the current runtime.
    pub(crate) async fn launch(config: Arc<Config>) -> Result<Self, FakeError> {
        let bind = |what| move |source| FakeError::Bind { what, source };
        let rest_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(bind("REST"))?;
        let gateway_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(bind("gateway"))?;
        let rest_addr = rest_listener.local_addr().map_err(bind("REST"))?;
        let gateway_addr = gateway_listener.local_addr().map_err(bind("gateway"))?;
        let shared = Arc::new(Shared {
            config: Config::clone(&config),
            recorder: Recorder::default(),
            base_url: format!("http://{rest_addr}"),
            gateway_url: format!("ws://{gateway_addr}"),
        });
        let app = rest::router(Arc::clone(&shared));
        let rest_task = tokio::spawn(async move {
            if let Err(error) = axum::serve(rest_listener, app).await {
                tracing::error!(%error, "fake Discord REST server stopped");
            }
        });
        let gateway_task = tokio::spawn(gateway::serve(gateway_listener, Arc::clone(&shared)));
        Ok(Self {
            shared,
            tasks: vec![rest_task, gateway_task],
        })
    }

    /// The REST base URL, `http://127.0.0.1:PORT`, for `HttpBuilder::proxy`.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The gateway URL, `ws://127.0.0.1:PORT`, that `GET /api/v10/gateway` hands out.
    pub fn gateway_url(&self) -> &str {
        &self.shared.gateway_url
    }

    /// The bot token the fake accepts.
    pub fn token(&self) -> &str {
        &self.shared.config.token
    }

    /// The application id (also sent in READY).
    pub fn application_id(&self) -> u64 {
        self.shared.config.application_id
    }

    /// The bot's user id.
    pub fn bot_user_id(&self) -> u64 {
        self.shared.config.bot_user_id
    }

    /// The application owner's user id; the default invoking user of slash commands.
    pub fn owner_id(&self) -> u64 {
        self.shared.config.owner_id
    }

    /// The first guild's id (0 if the builder was given no guild).
    pub fn guild_id(&self) -> u64 {
        self.shared.config.guilds.first().map_or(0, |g| g.id)
    }

    /// The first guild's first channel id (0 if it has none).
    pub fn channel_id(&self) -> u64 {
        self.shared
            .config
            .guilds
            .first()
            .and_then(|g| g.channel_ids.first().copied())
            .unwrap_or(0)
    }

    /// Waits until a gateway connection has identified and is live; returns its IDENTIFY.
    pub async fn wait_for_ready(&self) -> Result<Identify, FakeError> {
        self.wait("the bot to identify on the gateway", |s| {
            s.newest_live_identify().cloned()
        })
        .await
    }

    /// Waits until the fake has accepted `count` IDENTIFYs in total (e.g. 2 after a bot restart)
    /// and the newest session is live; returns them all.
    pub async fn wait_for_identifies(&self, count: usize) -> Result<Vec<Identify>, FakeError> {
        let what = format!("{count} gateway IDENTIFY(s)");
        self.wait(&what, |s| {
            let newest_live = s.newest_live_identify().is_some();
            (s.identifies.len() >= count && newest_live).then(|| s.identifies.clone())
        })
        .await
    }

    /// Every IDENTIFY the fake accepted, oldest first.
    pub fn identifies(&self) -> Vec<Identify> {
        self.shared.recorder.read(|s| s.identifies.clone())
    }

    /// Waits until the bot has registered commands at least once; returns all registered commands.
    pub async fn wait_for_commands_registered(&self) -> Result<Vec<RegisteredCommand>, FakeError> {
        self.wait("the bot to register its commands (PUT …/commands)", |s| {
            (s.command_registrations > 0).then(|| s.commands.clone())
        })
        .await
    }

    /// The currently registered commands, global and per guild.
    pub fn registered_commands(&self) -> Vec<RegisteredCommand> {
        self.shared.recorder.read(|s| s.commands.clone())
    }

    /// Sends an `INTERACTION_CREATE` for a slash command to the newest gateway session (waiting
    /// for one), and returns the interaction to pass to the `wait_for_*` helpers. The
    /// acknowledgement deadline starts now.
    pub async fn send_slash_command(
        &self,
        command: SlashCommand,
    ) -> Result<Interaction, FakeError> {
        self.wait_for_ready().await?;
        let shared = &self.shared;
        let id = next_snowflake();
        let place = command.place.unwrap_or(Place::Guild {
            guild_id: self.guild_id(),
            channel_id: self.channel_id(),
        });
        let (guild_id, channel_id) = match place {
            Place::Guild {
                guild_id,
                channel_id,
            } => (Some(guild_id), channel_id),
            Place::Dm { channel_id } => (None, channel_id),
        };
        let user_id = command.user_id.unwrap_or(shared.config.owner_id);
        let attachments: Vec<StoredAttachment> = command
            .options
            .iter()
            .filter_map(|(_, value)| match value {
                OptionValue::Attachment {
                    filename,
                    content_type,
                    bytes,
                } => Some(StoredAttachment {
                    id: next_snowflake(),
                    filename: filename.clone(),
                    content_type: content_type.clone(),
                    description: None,
                    bytes: bytes.clone(),
                }),
                _ => None,
            })
            .collect();
        let event = "INTERACTION_CREATE";
        shared.recorder.update(|state| {
            let command_id = registered_id(state, &command.name, guild_id);
            let interaction = Interaction {
                id,
                token: interaction_token(id),
                application_id: shared.config.application_id,
                command: command.name.clone(),
                user_id,
                channel_id,
                guild_id,
                sent_at: Instant::now(),
            };
            let data = model::interaction(
                &interaction,
                command_id,
                &command.options,
                &attachments,
                model::user(user_id, &format!("user-{user_id}"), false),
                &shared.base_url,
                shared.config.attachment_size_limit,
            );
            let session = state
                .sessions
                .last()
                .ok_or_else(|| FakeError::NoGatewaySession {
                    event: event.to_owned(),
                })?;
            session
                .tx
                .send(Outbound {
                    event: event.to_owned(),
                    data,
                })
                .map_err(|_| FakeError::NoGatewaySession {
                    event: event.to_owned(),
                })?;
            state
                .hosted
                .extend(attachments.iter().map(|a| (a.id, a.clone())));
            state.interactions.push(InteractionRecord {
                interaction: interaction.clone(),
                callback: None,
                original: None,
                followups: Vec::new(),
                token_expired: false,
            });
            Ok(interaction)
        })
    }

    /// The bot's accepted answer to the interaction, if it has answered.
    pub fn callback(&self, ix: &Interaction) -> Option<InteractionCallback> {
        self.record(ix, |r| r.callback.clone()).flatten()
    }

    /// Waits for the bot's answer to the interaction (defer or reply).
    pub async fn wait_for_callback(
        &self,
        ix: &Interaction,
    ) -> Result<InteractionCallback, FakeError> {
        let what = format!("the callback to interaction {} (/{})", ix.id, ix.command);
        self.wait(&what, |s| {
            s.interaction(ix.id).and_then(|r| r.callback.clone())
        })
        .await
    }

    /// The original response in its current state, if the bot has answered.
    pub fn original_response(&self, ix: &Interaction) -> Option<StoredMessage> {
        self.record(ix, |r| r.original.clone()).flatten()
    }

    /// Waits until the original response satisfies `condition`; returns it.
    pub async fn wait_for_original(
        &self,
        ix: &Interaction,
        mut condition: impl FnMut(&StoredMessage) -> bool,
    ) -> Result<StoredMessage, FakeError> {
        let what = format!(
            "the original response of /{} to match the test's condition",
            ix.command
        );
        self.wait(&what, |s| {
            s.interaction(ix.id)
                .and_then(|r| r.original.as_ref())
                .filter(|m| condition(m))
                .cloned()
        })
        .await
    }

    /// Waits until the original response has been edited (PATCH, or a follow-up filling a
    /// deferred response) at least `count` times; returns it.
    pub async fn wait_for_original_edits(
        &self,
        ix: &Interaction,
        count: u32,
    ) -> Result<StoredMessage, FakeError> {
        self.wait_for_original(ix, |m| m.edits >= count).await
    }

    /// Waits for the first edit of the original response; returns it.
    pub async fn wait_for_original_edit(
        &self,
        ix: &Interaction,
    ) -> Result<StoredMessage, FakeError> {
        self.wait_for_original_edits(ix, 1).await
    }

    /// The follow-up messages of the interaction (not counting one that filled a deferred
    /// response: that one is the original response).
    pub fn followups(&self, ix: &Interaction) -> Vec<StoredMessage> {
        self.record(ix, |r| r.followups.clone()).unwrap_or_default()
    }

    /// Waits until the interaction has at least `count` follow-ups; returns them.
    pub async fn wait_for_followups(
        &self,
        ix: &Interaction,
        count: usize,
    ) -> Result<Vec<StoredMessage>, FakeError> {
        let what = format!("{count} follow-up(s) to /{}", ix.command);
        self.wait(&what, |s| {
            s.interaction(ix.id)
                .filter(|r| r.followups.len() >= count)
                .map(|r| r.followups.clone())
        })
        .await
    }

    /// Messages posted with `POST /channels/{channel_id}/messages`, oldest first (interaction
    /// responses are not included; see [`Self::original_response`]).
    pub fn channel_messages(&self, channel_id: u64) -> Vec<StoredMessage> {
        self.shared.recorder.read(|s| {
            s.channel_messages
                .iter()
                .filter(|m| m.channel_id == channel_id)
                .cloned()
                .collect()
        })
    }

    /// Waits for a message in the channel that satisfies `condition`; returns it.
    pub async fn wait_for_channel_message(
        &self,
        channel_id: u64,
        mut condition: impl FnMut(&StoredMessage) -> bool,
    ) -> Result<StoredMessage, FakeError> {
        let what = format!("a message in channel {channel_id} matching the test's condition");
        self.wait(&what, |s| {
            s.channel_messages
                .iter()
                .find(|m| m.channel_id == channel_id && condition(m))
                .cloned()
        })
        .await
    }

    /// Makes the next request matching `route` fail with `mode`.
    pub fn fail_next(&self, route: impl Into<RouteMatcher>, mode: FailMode) {
        self.fail_times(route, mode, 1);
    }

    /// Makes the next `times` requests matching `route` fail with `mode`.
    pub fn fail_times(&self, route: impl Into<RouteMatcher>, mode: FailMode, times: u32) {
        let fault = Fault {
            matcher: route.into(),
            mode,
            remaining: times,
        };
        self.shared.recorder.update(|s| s.faults.push(fault));
    }

    /// Expires an interaction token as Discord does after 15 minutes: webhook calls with it then
    /// get `401 {"message": "Invalid Webhook Token", "code": 50027}`. Returns false if no
    /// interaction has this token.
    pub fn expire_interaction_token(&self, token: &str) -> bool {
        self.shared.recorder.update(|s| {
            s.interaction_by_token(token)
                .map(|r| r.token_expired = true)
                .is_some()
        })
    }

    /// Every REST request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.recorder.read(|s| s.requests.clone())
    }

    /// The REST requests to one endpoint kind, in arrival order.
    pub fn requests_to(&self, route: Route) -> Vec<RecordedRequest> {
        self.shared.recorder.read(|s| {
            s.requests
                .iter()
                .filter(|r| r.route == route)
                .cloned()
                .collect()
        })
    }

    /// Waits for a request, already answered, that satisfies `condition`; returns it.
    pub async fn wait_for_request(
        &self,
        mut condition: impl FnMut(&RecordedRequest) -> bool,
    ) -> Result<RecordedRequest, FakeError> {
        self.wait(
            "an answered REST request matching the test's condition",
            |s| {
                s.requests
                    .iter()
                    .find(|r| r.status.is_some() && condition(r))
                    .cloned()
            },
        )
        .await
    }

    /// Reads one interaction's record.
    fn record<T>(&self, ix: &Interaction, f: impl FnOnce(&InteractionRecord) -> T) -> Option<T> {
        self.shared.recorder.read(|s| s.interaction(ix.id).map(f))
    }

    /// Waits with the configured timeout.
    async fn wait<T>(
        &self,
        what: &str,
        check: impl FnMut(&State) -> Option<T>,
    ) -> Result<T, FakeError> {
        let timeout = self.shared.config.wait_timeout;
        self.shared
            .recorder
            .wait_for(|| what.to_owned(), timeout, check)
            .await
    }
}

/// The id of the registered command with this name, preferring the guild's own registration.
fn registered_id(state: &State, name: &str, guild_id: Option<u64>) -> u64 {
    let in_scope = |scope: Option<u64>| {
        state
            .commands
            .iter()
            .find(|c| c.name == name && c.guild_id == scope)
            .map(|c| c.id)
    };
    guild_id
        .and_then(|g| in_scope(Some(g)))
        .or_else(|| in_scope(None))
        .unwrap_or_else(|| {
            // Discord would not deliver it; the fake does, so a test can probe the bot's handling.
            tracing::warn!(
                command = name,
                "injecting a slash command the bot never registered"
            );
            next_snowflake()
        })
}
