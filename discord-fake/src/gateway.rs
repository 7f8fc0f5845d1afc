//! The gateway websocket: HELLO → IDENTIFY → READY (+ GUILD_CREATE per guild), heartbeats ACKed,
//! text frames only (serenity reads binary frames as zlib), one sequence counter per connection.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::config::HEARTBEAT_INTERVAL;
use crate::model;
use crate::recorder::{Identify, Outbound, Session};
use crate::Shared;

/// Gateway opcodes the fake speaks.
mod op {
    pub const DISPATCH: u64 = 0;
    pub const HEARTBEAT: u64 = 1;
    pub const IDENTIFY: u64 = 2;
    pub const RESUME: u64 = 6;
    pub const INVALID_SESSION: u64 = 9;
    pub const HELLO: u64 = 10;
    pub const HEARTBEAT_ACK: u64 = 11;
}

/// Close codes Discord uses that the fake can produce.
mod close {
    pub const DECODE_ERROR: u16 = 4002;
    pub const AUTHENTICATION_FAILED: u16 = 4004;
    pub const ALREADY_AUTHENTICATED: u16 = 4005;
}

/// How long to back off after a failed `accept`, so a persistent OS error cannot spin a core.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Accepts gateway connections until the task is aborted (which also ends every session).
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut sessions = JoinSet::new();
    let mut next_connection = 0_u64;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    next_connection += 1;
                    sessions.spawn(run_session(stream, Arc::clone(&shared), next_connection));
                }
                Err(error) => {
                    tracing::warn!(%error, "gateway accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

/// One connection's state.
struct Connection {
    ws: WebSocketStream<TcpStream>,
    seq: u64,
    id: u64,
}

impl Connection {
    /// Sends one JSON payload as a text frame.
    async fn send(&mut self, value: Value) -> bool {
        self.ws.send(Message::Text(value.to_string())).await.is_ok()
    }

    /// Sends a dispatch with the next sequence number.
    async fn dispatch(&mut self, event: &str, data: Value) -> bool {
        self.seq += 1;
        let frame = json!({"op": op::DISPATCH, "s": self.seq, "t": event, "d": data});
        self.send(frame).await
    }

    /// Closes with a Discord close code.
    async fn close(&mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.to_owned().into(),
        };
        // The peer may already be gone; there is nothing left to do either way.
        let _ = self.ws.close(Some(frame)).await;
    }
}

/// Runs one gateway connection until either side closes it.
async fn run_session(stream: TcpStream, shared: Arc<Shared>, id: u64) {
    let ws = match tokio_tungstenite::accept_async(stream).await {
        Ok(ws) => ws,
        Err(error) => {
            tracing::debug!(%error, "gateway handshake failed");
            return;
        }
    };
    let mut conn = Connection { ws, seq: 0, id };
    let (tx, mut outbound) = mpsc::unbounded_channel::<Outbound>();
    let hello = json!({"op": op::HELLO, "s": null, "t": null,
        "d": {"heartbeat_interval": HEARTBEAT_INTERVAL.as_millis()}});
    if conn.send(hello).await {
        serve_frames(&mut conn, &shared, &tx, &mut outbound).await;
    }
    shared
        .recorder
        .update(|state| state.sessions.retain(|s| s.connection != id));
    tracing::debug!(connection = id, "gateway session ended");
}

/// Reads client frames and writes queued dispatches until the connection ends.
async fn serve_frames(
    conn: &mut Connection,
    shared: &Shared,
    tx: &mpsc::UnboundedSender<Outbound>,
    outbound: &mut mpsc::UnboundedReceiver<Outbound>,
) {
    let mut identified = false;
    loop {
        tokio::select! {
            frame = conn.ws.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                    Some(Ok(_)) => continue,
                };
                let Ok(payload) = serde_json::from_str::<Value>(&text) else {
                    conn.close(close::DECODE_ERROR, "Error while decoding payload.").await;
                    return;
                };
                let keep_going = match payload.get("op").and_then(Value::as_u64) {
                    Some(op::HEARTBEAT) => conn.send(json!({"op": op::HEARTBEAT_ACK})).await,
                    Some(op::IDENTIFY) if identified => {
                        conn.close(close::ALREADY_AUTHENTICATED, "Already authenticated.").await;
                        false
                    }
                    Some(op::IDENTIFY) => {
                        identified = identify(conn, shared, tx, &payload).await;
                        identified
                    }
                    // The fake keeps no session history, so a resume is refused and serenity
                    // re-identifies, as it does when Discord's resume window has passed.
                    Some(op::RESUME) => {
                        conn.send(json!({"op": op::INVALID_SESSION, "d": false})).await
                    }
                    // Presence updates, member requests and the rest need no answer.
                    _ => true,
                };
                if !keep_going {
                    return;
                }
            }
            Some(out) = outbound.recv() => {
                if !conn.dispatch(&out.event, out.data).await {
                    return;
                }
            }
        }
    }
}

/// Checks the token, then sends READY and a GUILD_CREATE per guild. Returns false if the
/// connection should end.
async fn identify(
    conn: &mut Connection,
    shared: &Shared,
    tx: &mpsc::UnboundedSender<Outbound>,
    payload: &Value,
) -> bool {
    let sent_token = payload
        .pointer("/d/token")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let expected = &shared.config.token;
    if strip_bot(sent_token) != strip_bot(expected) {
        tracing::warn!("gateway IDENTIFY with a wrong token; closing with 4004");
        conn.close(close::AUTHENTICATION_FAILED, "Authentication failed.")
            .await;
        return false;
    }
    let session_id = format!("fake-session-{}", conn.id);
    let intents = payload
        .pointer("/d/intents")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let config = &shared.config;
    let guild_ids: Vec<u64> = config.guilds.iter().map(|g| g.id).collect();
    let ready = model::ready(
        &shared.bot_user(),
        &guild_ids,
        &session_id,
        &shared.gateway_url,
        config.application_id,
    );
    if !conn.dispatch("READY", ready).await {
        return false;
    }
    let joined = std::time::SystemTime::now();
    for guild in &config.guilds {
        let create = model::guild_create(
            guild.id,
            &guild.name,
            &guild.channel_ids,
            &shared.bot_user(),
            config.owner_id,
            joined,
        );
        if !conn.dispatch("GUILD_CREATE", create).await {
            return false;
        }
    }
    // Registered only now, so injected events never precede READY on this connection.
    shared.recorder.update(|state| {
        state.sessions.push(Session {
            connection: conn.id,
            session_id: session_id.clone(),
            tx: tx.clone(),
        });
        state.identifies.push(Identify {
            intents,
            session_id,
            at: Instant::now(),
        });
    });
    true
}

/// Tokens may be sent with or without the `Bot ` prefix.
fn strip_bot(token: &str) -> &str {
    token.strip_prefix("Bot ").unwrap_or(token)
}
