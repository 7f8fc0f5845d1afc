//! What `/claude` and `/agent` share: a prompt to an agent CLI that continues the user's
//! session in this channel unless told otherwise, and the binding that makes the next
//! prompt continue this one (kept in the queue's store: it survives restarts).

use openclaw_shared::task::AgentSession;
use openclaw_shared::TaskSpec;

use super::{acknowledge, checked_task, enqueue, request, Context};
use crate::discord::error::CommandError;
use crate::intake::Requester;
use crate::queue::ChannelBinding;

/// A prompt for an agent, as the command's options give it.
pub struct Prompt {
    /// `claude`, or a worker-configured agent's name.
    pub agent: String,
    /// What to ask.
    pub prompt: String,
    /// Start a new session instead of continuing the channel's.
    pub new: bool,
    /// Continue (or, with `new`, start) this session instead of the channel's.
    pub session: Option<String>,
    /// Seconds before it is stopped.
    pub timeout_secs: Option<u64>,
    /// The worker that must run it.
    pub worker: Option<String>,
}

/// Queues `prompt` in the session it names, or (without `new`) the one this user continues
/// in this channel with this agent, or a new one; then binds the channel to it.
pub async fn ask(ctx: Context<'_>, prompt: Prompt) -> Result<(), CommandError> {
    let owner = Requester::DiscordUser(ctx.author().id).owner();
    let channel_id = ctx.channel_id().to_string();
    let session = match prompt.session.filter(|id| !id.trim().is_empty()) {
        Some(id) => Some(AgentSession {
            id: id.trim().to_owned(),
            new: prompt.new,
        }),
        // Intake makes up a new one.
        None if prompt.new => None,
        None => ctx
            .data()
            .queue
            .channel_session(&channel_id, &owner, &prompt.agent)
            .await?
            .map(AgentSession::resume),
    };
    let spec = TaskSpec::Agent {
        agent: prompt.agent,
        prompt: prompt.prompt,
        session,
        cwd: None,
    };
    let new_task = checked_task(ctx, request(ctx, spec, prompt.timeout_secs, prompt.worker))?;
    let (Some(agent), Some(session)) = (new_task.spec.agent(), new_task.spec.session()) else {
        return Err(CommandError::user("This command runs agents only."));
    };
    let binding = ChannelBinding {
        channel_id,
        owner,
        agent: agent.to_owned(),
        session_id: session.id.clone(),
    };
    acknowledge(ctx).await?;
    enqueue(ctx, new_task).await?;
    ctx.data().queue.bind_channel_session(binding).await?;
    Ok(())
}
