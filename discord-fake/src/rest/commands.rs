//! Application commands: `GET` and the bulk-overwrite `PUT`, per scope (global or one guild).

use axum::http::StatusCode;
use serde_json::Value;

use super::{check_application, code, ok, RestError, RestResult};
use crate::message::Payload;
use crate::recorder::RegisteredCommand;
use crate::{model, Shared};

/// `PUT` commands: a bulk overwrite of the scope's commands; ids stay stable per name.
pub(super) fn register_commands(
    shared: &Shared,
    application_id: u64,
    guild_id: Option<u64>,
    payload: Payload,
) -> RestResult {
    check_application(shared, application_id)?;
    if guild_id.is_some_and(|g| !shared.config.guilds.iter().any(|spec| spec.id == g)) {
        return Err(RestError::new(
            StatusCode::FORBIDDEN,
            code::MISSING_ACCESS,
            "Missing Access",
        ));
    }
    let Value::Array(sent) = payload.json else {
        return Err(RestError::new(
            StatusCode::BAD_REQUEST,
            code::INVALID_FORM_BODY,
            "Invalid Form Body",
        ));
    };
    let echoed = shared.recorder.update(|state| {
        let mut next: Vec<RegisteredCommand> = state
            .commands
            .iter()
            .filter(|c| c.guild_id != guild_id)
            .cloned()
            .collect();
        for command in sent {
            let name = command
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let id = state
                .commands
                .iter()
                .find(|c| c.guild_id == guild_id && c.name == name)
                .map_or_else(crate::ids::next_snowflake, |c| c.id);
            next.push(RegisteredCommand {
                id,
                name,
                guild_id,
                sent: command,
            });
        }
        state.commands = next;
        state.command_registrations += 1;
        echo_commands(shared, &state.commands, guild_id)
    });
    ok(echoed)
}

/// The commands of one scope as Discord returns them.
pub(super) fn echo_commands(
    shared: &Shared,
    commands: &[RegisteredCommand],
    guild_id: Option<u64>,
) -> Value {
    let app = shared.config.application_id;
    Value::Array(
        commands
            .iter()
            .filter(|c| c.guild_id == guild_id)
            .map(|c| model::command(&c.sent, c.id, app, c.guild_id))
            .collect(),
    )
}
