//! Every builder's output must deserialize into serenity 0.12's own model types: this is what
//! keeps the fake from sending an event serenity silently drops.

use std::time::{Instant, SystemTime};

use serde_json::json;
use serenity::model::application::{
    Command, CurrentApplicationInfo, Interaction as SerenityInteraction,
};
use serenity::model::channel::Message;
use serenity::model::event::{Event, GatewayEvent};
use serenity::model::gateway::{BotGateway, Ready};
use serenity::model::user::CurrentUser;

use super::*;
use crate::message::{Payload, UploadedFile};

fn dispatch(t: &str, d: Value) -> GatewayEvent {
    serde_json::from_value(json!({"op": 0, "s": 1, "t": t, "d": d})).unwrap()
}

fn bot() -> Value {
    user(10, "fake-bot", true)
}

fn interaction_in(guild_id: Option<u64>) -> Interaction {
    Interaction {
        id: 100,
        token: "tok".into(),
        application_id: 11,
        command: "run".into(),
        user_id: 42,
        channel_id: 300,
        guild_id,
        sent_at: Instant::now(),
    }
}

#[test]
fn ready_parses_as_serenity_ready_with_the_application_id() {
    let d = ready(&bot(), &[200], "session", "ws://127.0.0.1:1", 11);

    let GatewayEvent::Dispatch(_, Event::Ready(ready)) = dispatch("READY", d) else {
        panic!("not a READY dispatch");
    };

    assert_eq!(ready.ready.application.id.get(), 11);
    assert_eq!(ready.ready.user.id.get(), 10);
    let _: Ready = ready.ready;
}

#[test]
fn guild_create_parses_with_its_channels() {
    let d = guild_create(200, "guild", &[300, 301], &bot(), 42, SystemTime::now());

    let GatewayEvent::Dispatch(_, Event::GuildCreate(event)) = dispatch("GUILD_CREATE", d) else {
        panic!("not a GUILD_CREATE dispatch");
    };

    assert_eq!(event.guild.channels.len(), 2);
    assert_eq!(event.guild.members.len(), 1);
}

#[test]
fn guild_interaction_parses_with_options_member_and_attachment() {
    let ix = interaction_in(Some(200));
    let options = SlashCommand::new("run")
        .option("command", "ls")
        .option("timeout", 5_i64)
        .attachment("file", "a b.txt", b"hi".to_vec());
    let stored = StoredAttachment {
        id: 555,
        filename: "a b.txt".into(),
        content_type: None,
        description: None,
        bytes: b"hi".to_vec(),
    };
    let d = interaction(
        &ix,
        7,
        &options,
        &[stored],
        user(42, "alice", false),
        "http://127.0.0.1:9",
        10 << 20,
    );

    let GatewayEvent::Dispatch(_, Event::InteractionCreate(event)) =
        dispatch("INTERACTION_CREATE", d)
    else {
        panic!("not an INTERACTION_CREATE dispatch");
    };
    let SerenityInteraction::Command(command) = event.interaction else {
        panic!("not a command interaction");
    };

    assert_eq!(command.data.name, "run");
    assert_eq!(command.user.id.get(), 42);
    assert_eq!(command.member.unwrap().user.id.get(), 42);
    assert_eq!(command.data.options.len(), 3);
    let attachment = command.data.resolved.attachments.values().next().unwrap();
    assert_eq!(
        attachment.url,
        "http://127.0.0.1:9/attachments/300/555/a%20b.txt"
    );
    assert_eq!(attachment.size, 2);
}

#[test]
fn dm_interaction_parses_with_a_user_and_no_guild() {
    let d = interaction(
        &interaction_in(None),
        7,
        &SlashCommand::new("run"),
        &[],
        user(42, "alice", false),
        "http://x",
        1,
    );

    let GatewayEvent::Dispatch(_, Event::InteractionCreate(event)) =
        dispatch("INTERACTION_CREATE", d)
    else {
        panic!("not an INTERACTION_CREATE dispatch");
    };
    let SerenityInteraction::Command(command) = event.interaction else {
        panic!("not a command interaction");
    };

    assert_eq!(command.user.id.get(), 42);
    assert!(command.guild_id.is_none());
}

#[test]
fn message_parses_as_serenity_message() {
    let mut m = StoredMessage::new(300, Some(200), MessageOrigin::InteractionResponse);
    let payload = Payload {
        json: json!({"content": "hi @everyone", "allowed_mentions": {"parse": []}}),
        files: vec![UploadedFile {
            field: "files[0]".into(),
            filename: "out.txt".into(),
            content_type: Some("text/plain".into()),
            bytes: b"x".to_vec(),
        }],
        multipart: true,
    };
    m.create(payload, 100).unwrap();

    let parsed: Message = serde_json::from_value(message(&m, &bot(), 11, "http://x")).unwrap();

    assert_eq!(parsed.content, "hi @everyone");
    assert!(!parsed.mention_everyone);
    assert_eq!(parsed.attachments[0].filename, "out.txt");
    assert_eq!(parsed.author.id.get(), 10);
}

#[test]
fn application_parses_as_current_application_info() {
    let info: CurrentApplicationInfo =
        serde_json::from_value(application(11, &bot(), &user(42, "owner", false))).unwrap();

    assert_eq!(info.owner.unwrap().id.get(), 42);
}

#[test]
fn command_echo_parses_as_serenity_commands() {
    let sent = json!({"name": "run", "description": "Run a command", "type": 1,
        "options": [{"type": 3, "name": "command", "description": "what", "required": true}],
        "integration_types": null, "contexts": null});

    let parsed: Vec<Command> =
        serde_json::from_value(json!([command(&sent, 7, 11, Some(200))])).unwrap();

    assert_eq!(parsed[0].id.get(), 7);
    assert_eq!(parsed[0].options[0].name, "command");
}

#[test]
fn bot_user_and_gateway_parse() {
    let me: CurrentUser = serde_json::from_value(bot()).unwrap();
    let gw: BotGateway = serde_json::from_value(gateway("ws://127.0.0.1:1")).unwrap();

    assert!(me.bot);
    assert_eq!(gw.url, "ws://127.0.0.1:1");
}

#[test]
fn a_subcommands_options_are_nested_in_it_as_discord_sends_them() {
    let command = SlashCommand::new("schedule")
        .subcommand("add")
        .option("cron", "* * * * *");

    let d = interaction(
        &interaction_in(None),
        7,
        &command,
        &[],
        user(42, "alice", false),
        "http://x",
        1,
    );

    assert_eq!(
        d["data"]["options"],
        json!([{"name": "add", "type": 1, "options": [{"name": "cron", "type": 3, "value": "* * * * *"}]}])
    );
}
