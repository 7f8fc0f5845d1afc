//! `/agent`: a prompt for another agent CLI the worker configures (`[agents.<name>]`),
//! chosen from `discord.agents`; sessions work as `/claude`'s.

use super::conversation::{ask, Prompt};
use super::Context;
use crate::discord::error::CommandError;

/// Ask another agent CLI on your Mac (codex, gemini, …)
#[poise::command(slash_command)]
pub async fn agent(
    ctx: Context<'_>,
    // Its choices are `discord.agents`, set when the commands are built (`all`); Discord
    // sends the index of the one picked.
    #[description = "Which agent"]
    #[rename = "agent"]
    choice: u32,
    #[description = "What to ask"] prompt: String,
    #[description = "Start a new conversation instead of continuing this channel's"] new: Option<
        bool,
    >,
    #[description = "Continue this session instead (see /sessions)"] session: Option<String>,
    #[description = "Seconds before it is stopped (default 120)"]
    #[rename = "timeout"]
    #[min = 1]
    timeout_secs: Option<u64>,
    #[description = "Run it on this worker (default: any)"]
    #[rename = "worker"]
    worker_name: Option<String>,
) -> Result<(), CommandError> {
    let agents = &ctx.data().settings.agents;
    let Some(agent) = usize::try_from(choice).ok().and_then(|i| agents.get(i)) else {
        return Err(CommandError::user(
            "⛔ Pick one of the offered agents (discord.agents).",
        ));
    };
    let prompt = Prompt {
        agent: agent.clone(),
        prompt,
        new: new.unwrap_or(false),
        session,
        timeout_secs,
        worker: worker_name,
    };
    ask(ctx, prompt).await
}

/// Offers `agents` as the choices of `/agent`'s `agent` option.
pub fn offer(command: &mut poise::Command<super::Data, CommandError>, agents: &[String]) {
    if let Some(option) = command.parameters.iter_mut().find(|p| p.name == "agent") {
        option.choices = agents
            .iter()
            // poise builds choices only from its derive; this struct literal is the one way
            // to make them from configuration (its hidden field is a unit).
            .map(|name| poise::CommandParameterChoice {
                name: name.clone().into(),
                localizations: Default::default(),
                __non_exhaustive: (),
            })
            .collect();
    }
}
