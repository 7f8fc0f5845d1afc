//! Everything the fake saw and decided, behind one lock, plus a change counter that the
//! `wait_for_*` helpers await instead of sleeping.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::{mpsc, watch};

use crate::error::FakeError;
use crate::fault::Fault;
use crate::interaction::{Interaction, InteractionCallback};
use crate::message::{Payload, StoredAttachment, StoredMessage};
use crate::route::Route;

/// One REST request the bot made, in arrival order.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// Arrival order, from 0.
    pub seq: u64,
    /// The HTTP method, e.g. `PATCH`.
    pub method: String,
    /// The path as sent, e.g. `/api/v10/webhooks/1/tok/messages/@original`.
    pub path: String,
    /// The query string, if any (without `?`).
    pub query: Option<String>,
    /// The endpoint it was classified as.
    pub route: Route,
    /// When it arrived.
    pub at: Instant,
    /// The status the fake answered; `None` while the request is being handled.
    pub status: Option<u16>,
    /// Whether an injected fault produced the answer.
    pub fault_injected: bool,
    /// The body as sent.
    pub payload: Payload,
}

/// A command the bot registered (the latest bulk overwrite of its scope).
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredCommand {
    /// The id the fake assigned.
    pub id: u64,
    /// The command's name.
    pub name: String,
    /// The guild it was registered in; `None` for a global command.
    pub guild_id: Option<u64>,
    /// The command object exactly as the bot sent it (description, options, …).
    pub sent: Value,
}

/// A gateway IDENTIFY the fake accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identify {
    /// The intents bitfield the bot asked for.
    pub intents: u64,
    /// The session id the fake gave it in READY.
    pub session_id: String,
    /// When it identified.
    pub at: Instant,
}

/// Everything known about one injected interaction.
#[derive(Debug, Clone)]
pub(crate) struct InteractionRecord {
    pub(crate) interaction: Interaction,
    pub(crate) callback: Option<InteractionCallback>,
    pub(crate) original: Option<StoredMessage>,
    pub(crate) followups: Vec<StoredMessage>,
    pub(crate) token_expired: bool,
}

/// A dispatch waiting to be written to one gateway connection.
#[derive(Debug)]
pub(crate) struct Outbound {
    pub(crate) event: String,
    pub(crate) data: Value,
}

/// An identified gateway connection that can receive dispatches.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) connection: u64,
    pub(crate) session_id: String,
    pub(crate) tx: mpsc::UnboundedSender<Outbound>,
}

/// The fake's whole mutable state.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) requests: Vec<RecordedRequest>,
    pub(crate) faults: Vec<Fault>,
    pub(crate) commands: Vec<RegisteredCommand>,
    pub(crate) command_registrations: u32,
    pub(crate) interactions: Vec<InteractionRecord>,
    pub(crate) channel_messages: Vec<StoredMessage>,
    /// Attachments of injected slash commands, served by the fake's CDN route.
    pub(crate) hosted: HashMap<u64, StoredAttachment>,
    /// Identified gateway connections, oldest first.
    pub(crate) sessions: Vec<Session>,
    pub(crate) identifies: Vec<Identify>,
}

impl State {
    /// Finds an interaction by its token.
    pub(crate) fn interaction_by_token(&mut self, token: &str) -> Option<&mut InteractionRecord> {
        self.interactions
            .iter_mut()
            .find(|r| r.interaction.token == token)
    }

    /// The newest IDENTIFY, if its connection is still open.
    pub(crate) fn newest_live_identify(&self) -> Option<&Identify> {
        let newest = self.identifies.last()?;
        self.sessions
            .iter()
            .any(|s| s.session_id == newest.session_id)
            .then_some(newest)
    }

    /// Finds an interaction by id.
    pub(crate) fn interaction(&self, id: u64) -> Option<&InteractionRecord> {
        self.interactions.iter().find(|r| r.interaction.id == id)
    }

    /// Finds any attachment the fake knows (hosted or on a message) by id.
    pub(crate) fn attachment(&self, id: u64) -> Option<&StoredAttachment> {
        let on_messages = self.channel_messages.iter().chain(
            self.interactions
                .iter()
                .flat_map(|r| r.original.iter().chain(&r.followups)),
        );
        self.hosted.get(&id).or_else(|| {
            on_messages
                .flat_map(|m| &m.attachments)
                .find(|a| a.id == id)
        })
    }
}

/// The state behind a lock, and a counter bumped on every change.
#[derive(Debug)]
pub(crate) struct Recorder {
    /// A std mutex: it is never held across an `.await`, and handlers only do small updates.
    state: Mutex<State>,
    /// Bumped after every update so waiters re-check their condition.
    version: watch::Sender<u64>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            state: Mutex::new(State::default()),
            version: watch::Sender::new(0),
        }
    }
}

impl Recorder {
    /// Reads the state.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        // A panic while holding the lock leaves plain data behind; reading it is still safe.
        f(&self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Changes the state and wakes every waiter.
    pub(crate) fn update<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let out = f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner));
        self.version.send_modify(|v| *v = v.wrapping_add(1));
        out
    }

    /// Waits until `check` returns `Some`, re-checking after every change, for at most `timeout`.
    pub(crate) async fn wait_for<T>(
        &self,
        what: impl FnOnce() -> String,
        timeout: Duration,
        mut check: impl FnMut(&State) -> Option<T>,
    ) -> Result<T, FakeError> {
        let deadline = tokio::time::Instant::now() + timeout;
        // Subscribe before the first check so a change between check and await is not missed.
        let mut changes = self.version.subscribe();
        loop {
            if let Some(found) = self.read(&mut check) {
                return Ok(found);
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                // The sender lives as long as `self`; treat its loss like a timeout.
                Ok(Err(_)) | Err(_) => {
                    return Err(FakeError::Timeout {
                        what: what(),
                        timeout,
                    })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_waiter_wakes_on_the_update_that_satisfies_it() {
        let recorder = Arc::new(Recorder::default());
        let writer = Arc::clone(&recorder);

        let waiter = tokio::spawn(async move {
            recorder
                .wait_for(
                    || "a registration".into(),
                    Duration::from_secs(10),
                    |s| (s.command_registrations > 0).then_some(s.command_registrations),
                )
                .await
        });
        writer.update(|s| s.command_registrations += 1);

        assert_eq!(waiter.await.unwrap().unwrap(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiter_times_out_with_what_it_waited_for() {
        let recorder = Recorder::default();

        let err = recorder
            .wait_for(|| "the moon".into(), Duration::from_secs(5), |_| None::<()>)
            .await
            .unwrap_err();

        assert_eq!(err.to_string(), "timed out after 5s waiting for the moon");
    }
}
