//! The gateway at the frame level, with a plain websocket client: what serenity relies on
//! (text frames, HELLO first, sequence numbers, heartbeat ACKs, refusing a resume).

use discord_fake::{FakeDiscord, SlashCommand};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::within_timeout;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(discord: &FakeDiscord) -> Ws {
    // A `/` path: tungstenite does not normalise an empty path the way `url::Url` (serenity) does.
    let url = format!("{}/?v=10&encoding=json", discord.gateway_url());
    tokio_tungstenite::connect_async(url)
        .await
        .expect("gateway handshake")
        .0
}

/// The next frame, which must be text JSON.
async fn next_json(ws: &mut Ws) -> Value {
    let frame = ws.next().await.expect("connection open").expect("a frame");
    match frame {
        Message::Text(text) => serde_json::from_str(&text).expect("JSON text"),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

async fn send(ws: &mut Ws, value: Value) {
    ws.send(Message::Text(value.to_string()))
        .await
        .expect("sending a frame");
}

fn identify(token: &str) -> Value {
    json!({"op": 2, "d": {"token": token, "intents": 513, "properties": {}, "compress": true}})
}

#[tokio::test]
async fn hello_identify_ready_and_guild_create_carry_increasing_sequence_numbers() {
    within_timeout(async {
        let discord = FakeDiscord::start().await.unwrap();
        let mut ws = connect(&discord).await;

        let hello = next_json(&mut ws).await;
        send(&mut ws, identify(&format!("Bot {}", discord.token()))).await;
        let ready = next_json(&mut ws).await;
        let guild = next_json(&mut ws).await;

        assert_eq!(hello["op"], 10);
        assert_eq!(hello["d"]["heartbeat_interval"], 41250);
        assert_eq!(
            (ready["op"].clone(), ready["t"].clone(), ready["s"].clone()),
            (json!(0), json!("READY"), json!(1))
        );
        assert_eq!(
            ready["d"]["application"]["id"],
            json!(discord.application_id().to_string())
        );
        assert_eq!(
            ready["d"]["resume_gateway_url"],
            json!(discord.gateway_url())
        );
        assert_eq!(
            (guild["t"].clone(), guild["s"].clone()),
            (json!("GUILD_CREATE"), json!(2))
        );
        assert_eq!(discord.wait_for_ready().await.unwrap().intents, 513);
    })
    .await;
}

#[tokio::test]
async fn heartbeats_are_acknowledged_and_resumes_are_refused() {
    within_timeout(async {
        let discord = FakeDiscord::start().await.unwrap();
        let mut ws = connect(&discord).await;
        next_json(&mut ws).await;

        send(&mut ws, json!({"op": 1, "d": null})).await;
        let ack = next_json(&mut ws).await;
        send(
            &mut ws,
            json!({"op": 6, "d": {"token": discord.token(), "session_id": "old", "seq": 7}}),
        )
        .await;
        let invalid = next_json(&mut ws).await;

        assert_eq!(ack, json!({"op": 11}));
        assert_eq!(invalid, json!({"op": 9, "d": false}));
    })
    .await;
}

#[tokio::test]
async fn an_injected_command_follows_ready_with_the_next_sequence_number() {
    within_timeout(async {
        let discord = FakeDiscord::start().await.unwrap();
        let mut ws = connect(&discord).await;
        next_json(&mut ws).await;
        send(&mut ws, identify(discord.token())).await;
        next_json(&mut ws).await;
        next_json(&mut ws).await;

        let ix = discord
            .send_slash_command(
                SlashCommand::new("run")
                    .option("command", "ls")
                    .option("timeout", 5_i64),
            )
            .await
            .unwrap();
        let event = next_json(&mut ws).await;

        assert_eq!(
            (event["t"].clone(), event["s"].clone()),
            (json!("INTERACTION_CREATE"), json!(3))
        );
        assert_eq!(event["d"]["id"], json!(ix.id.to_string()));
        assert_eq!(event["d"]["token"], json!(ix.token));
        assert_eq!(
            event["d"]["member"]["user"]["id"],
            json!(discord.owner_id().to_string())
        );
        assert_eq!(
            event["d"]["data"]["options"][1],
            json!({"name": "timeout", "type": 4, "value": 5})
        );
    })
    .await;
}

#[tokio::test]
async fn a_wrong_token_closes_the_connection_with_4004() {
    within_timeout(async {
        let discord = FakeDiscord::start().await.unwrap();
        let mut ws = connect(&discord).await;
        next_json(&mut ws).await;

        send(&mut ws, identify("nope")).await;
        let frame = ws.next().await.unwrap().unwrap();

        let Message::Close(Some(close)) = frame else {
            panic!("expected a close frame, got {frame:?}");
        };
        assert_eq!(u16::from(close.code), 4004);
        assert!(discord.identifies().is_empty());
    })
    .await;
}
