//! The courier: what every delivery step needs (the queue, Discord's REST client, the settings
//! and the app's stop signal), handed down to the progress follower and the final answer.

use std::sync::Arc;

use poise::serenity_prelude::Http;
use tokio_util::sync::CancellationToken;

use super::Settings;
use crate::intake::CallbackChannels;
use crate::metrics::Metrics;
use crate::queue::Queue;

/// What every delivery step needs: the queue, Discord's REST client, the settings and the
/// app's stop signal. Cheap to clone; passed down, never called back.
#[derive(Clone)]
pub struct Courier {
    /// The queue the tasks live in.
    pub queue: Queue,
    /// The REST client deliveries use.
    pub http: Arc<Http>,
    /// The Discord settings.
    pub settings: Arc<Settings>,
    /// Where API clients may have results posted (checked again before every post).
    pub channels: CallbackChannels,
    /// Counts retried and failed deliveries.
    pub metrics: Metrics,
    /// Cancelled when the app stops.
    pub stop: CancellationToken,
}
