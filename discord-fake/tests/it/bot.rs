//! A tiny poise bot wired exactly as the crate docs' recipe says. Each command reports what the
//! client saw (successes and Discord errors) on a channel, so tests can assert the client's view.

use std::sync::Arc;
use std::time::Duration;

use discord_fake::FakeDiscord;
use poise::serenity_prelude as serenity;
use tokio::sync::{mpsc, Mutex, Notify};
use tokio::task::JoinHandle;

type Error = Box<dyn std::error::Error + Send + Sync>;
type Context<'a> = poise::Context<'a, Data, Error>;

/// The bytes `/ping` attaches; not valid UTF-8, so a text-mangling path would show.
pub const PONG_BYTES: &[u8] = &[0, 1, 2, 0xff, b'p', b'o', b'n', b'g'];

/// A Discord error as the client saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// HTTP status, if the error was an HTTP answer.
    pub status: Option<u16>,
    /// Discord's JSON error code, if the body had one.
    pub code: Option<isize>,
}

impl Failure {
    /// Extracts status and code from a serenity error.
    pub fn from_error(err: &serenity::Error) -> Self {
        match err {
            serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(answer)) => Self {
                status: Some(answer.status_code.as_u16()),
                code: Some(answer.error.code),
            },
            _ => Self {
                status: None,
                code: None,
            },
        }
    }
}

/// What a command observed, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The defer callback's result.
    Deferred(Result<(), Failure>),
    /// One attempt to edit the original response; on success the attachment names serenity parsed
    /// from the fake's answer.
    Edited(Result<Vec<String>, Failure>),
    /// Bytes downloaded from an attachment option's URL.
    Downloaded(Vec<u8>),
    /// A channel message post; on success the message content serenity parsed.
    Posted(Result<String, Failure>),
    /// The invoking guild's name and channel count as serenity's cache knows them (from
    /// GUILD_CREATE), if it knows the guild.
    Cached(Option<(String, usize)>),
}

/// Shared with the commands.
pub struct Data {
    outcomes: mpsc::UnboundedSender<Outcome>,
    /// `/gated` waits on this before editing, so a test can act between defer and edit.
    gate: Arc<Notify>,
}

impl Data {
    fn report(&self, outcome: Outcome) {
        // The test may have finished listening; nothing to do then.
        let _ = self.outcomes.send(outcome);
    }
}

/// Defers, then edits the original with text and a file, retrying one failed edit.
#[poise::command(slash_command)]
async fn ping(ctx: Context<'_>) -> Result<(), Error> {
    defer(ctx).await?;
    for _attempt in 0..2 {
        if edit_with_file(ctx).await.is_ok() {
            break;
        }
    }
    Ok(())
}

/// Defers, waits for the test's signal, edits; if the token expired, posts in the channel.
#[poise::command(slash_command)]
async fn gated(ctx: Context<'_>) -> Result<(), Error> {
    defer(ctx).await?;
    ctx.data().gate.notified().await;
    if let Err(failure) = edit_with_file(ctx).await {
        if failure.code == Some(50027) {
            let mention = serenity::CreateAllowedMentions::new().users([ctx.author().id]);
            let message = serenity::CreateMessage::new()
                .content(format!(
                    "<@{}> your result (@everyone stays quiet)",
                    ctx.author().id
                ))
                .allowed_mentions(mention);
            let posted = ctx.channel_id().send_message(ctx, message).await;
            ctx.data().report(Outcome::Posted(
                posted
                    .map(|m| m.content)
                    .map_err(|e| Failure::from_error(&e)),
            ));
        }
    }
    Ok(())
}

/// Replies at once, visible only to the caller.
#[poise::command(slash_command)]
async fn secret(ctx: Context<'_>) -> Result<(), Error> {
    let reply = poise::CreateReply::default()
        .content("only you")
        .ephemeral(true);
    ctx.send(reply).await?;
    Ok(())
}

/// Defers, then says two things: poise sends both as follow-ups.
#[poise::command(slash_command)]
async fn twice(ctx: Context<'_>) -> Result<(), Error> {
    defer(ctx).await?;
    ctx.say("first").await?;
    ctx.say("second").await?;
    Ok(())
}

/// Reports what the cache knows about the guild, then replies.
#[poise::command(slash_command)]
async fn whereami(ctx: Context<'_>) -> Result<(), Error> {
    let cached = ctx.guild().map(|g| (g.name.clone(), g.channels.len()));
    ctx.data().report(Outcome::Cached(cached));
    ctx.say("here").await?;
    Ok(())
}

/// Downloads the attached file and replies with its size.
#[poise::command(slash_command)]
async fn upload(
    ctx: Context<'_>,
    #[description = "A file"] file: serenity::Attachment,
) -> Result<(), Error> {
    let bytes = file.download().await?;
    let size = bytes.len();
    ctx.data().report(Outcome::Downloaded(bytes));
    ctx.say(format!("{} has {size} bytes", file.filename))
        .await?;
    Ok(())
}

async fn defer(ctx: Context<'_>) -> Result<(), Error> {
    let deferred = ctx.defer().await;
    ctx.data().report(Outcome::Deferred(
        deferred.as_ref().map(|_| ()).map_err(Failure::from_error),
    ));
    Ok(deferred?)
}

async fn edit_with_file(ctx: Context<'_>) -> Result<(), Failure> {
    let poise::Context::Application(app) = ctx else {
        return Err(Failure {
            status: None,
            code: None,
        });
    };
    let edit = serenity::EditInteractionResponse::new()
        .content("pong @everyone")
        .allowed_mentions(serenity::CreateAllowedMentions::new())
        .new_attachment(serenity::CreateAttachment::bytes(
            PONG_BYTES.to_vec(),
            "pong.bin",
        ));
    let result = app
        .interaction
        .edit_response(ctx.serenity_context(), edit)
        .await
        .map(|m| m.attachments.into_iter().map(|a| a.filename).collect())
        .map_err(|e| Failure::from_error(&e));
    ctx.data().report(Outcome::Edited(result.clone()));
    result.map(|_| ())
}

/// A running test bot.
pub struct TestBot {
    shard_manager: Arc<serenity::ShardManager>,
    client_task: JoinHandle<Result<(), serenity::Error>>,
    outcomes: Mutex<mpsc::UnboundedReceiver<Outcome>>,
    gate: Arc<Notify>,
}

impl TestBot {
    /// Builds the client with the recipe and starts it against the fake.
    pub async fn start(discord: &FakeDiscord) -> Self {
        Self::start_with_token(discord, discord.token())
            .await
            .expect("building the serenity client against the fake")
    }

    /// Like [`Self::start`] with any token; the client is built but may fail to connect.
    pub async fn start_with_token(discord: &FakeDiscord, token: &str) -> Result<Self, Error> {
        let (tx, rx) = mpsc::unbounded_channel();
        let gate = Arc::new(Notify::new());
        let data = Data {
            outcomes: tx,
            gate: Arc::clone(&gate),
        };
        let guild_id = serenity::GuildId::new(discord.guild_id());
        let http = serenity::HttpBuilder::new(token)
            .proxy(discord.base_url())
            .ratelimiter_disabled(true)
            .build();
        let framework = poise::Framework::builder()
            .options(poise::FrameworkOptions {
                commands: vec![ping(), gated(), secret(), twice(), upload(), whereami()],
                ..Default::default()
            })
            .setup(move |ctx, _ready, framework| {
                Box::pin(async move {
                    poise::builtins::register_in_guild(
                        ctx,
                        &framework.options().commands,
                        guild_id,
                    )
                    .await?;
                    Ok(data)
                })
            })
            .build();
        let mut client = serenity::ClientBuilder::new_with_http(
            http,
            serenity::GatewayIntents::non_privileged(),
        )
        .framework(framework)
        .await?;
        let shard_manager = Arc::clone(&client.shard_manager);
        let client_task = tokio::spawn(async move { client.start().await });
        Ok(Self {
            shard_manager,
            client_task,
            outcomes: Mutex::new(rx),
            gate,
        })
    }

    /// The next thing a command observed.
    pub async fn next_outcome(&self) -> Outcome {
        let mut outcomes = self.outcomes.lock().await;
        tokio::time::timeout(Duration::from_secs(20), outcomes.recv())
            .await
            .expect("no outcome from the bot within 20 s")
            .expect("the bot's outcome channel closed")
    }

    /// Lets `/gated` continue.
    pub fn open_gate(&self) {
        self.gate.notify_one();
    }

    /// Shuts the client down and returns what `client.start()` returned.
    pub async fn stop(self) -> Result<(), serenity::Error> {
        self.shard_manager.shutdown_all().await;
        self.client_task.await.expect("the client task panicked")
    }

    /// Waits for the client to stop on its own (e.g. refused by the gateway).
    pub async fn stopped(self) -> Result<(), serenity::Error> {
        self.client_task.await.expect("the client task panicked")
    }
}
