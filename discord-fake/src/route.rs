//! Which Discord endpoint a REST request is for. One classifier feeds the request log, fault
//! injection and dispatch, so the three can never disagree about what a path means.

use axum::http::Method;

/// The Discord REST endpoints the fake knows, as recorded in the request log and matched by
/// fault injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Route {
    /// `GET /gateway` or `/gateway/bot`.
    GetGateway,
    /// `GET /oauth2/applications/@me` or `/applications/@me`.
    GetApplication,
    /// `GET /users/@me`.
    GetCurrentUser,
    /// `GET` global or guild commands.
    GetCommands,
    /// `PUT` (bulk overwrite) global or guild commands.
    RegisterCommands,
    /// `POST /interactions/{id}/{token}/callback`.
    InteractionCallback,
    /// `GET /webhooks/{app}/{token}/messages/@original`.
    GetOriginal,
    /// `PATCH /webhooks/{app}/{token}/messages/@original`.
    EditOriginal,
    /// `DELETE /webhooks/{app}/{token}/messages/@original`.
    DeleteOriginal,
    /// `POST /webhooks/{app}/{token}` (an interaction follow-up).
    CreateFollowup,
    /// `PATCH /webhooks/{app}/{token}/messages/{id}`.
    EditFollowup,
    /// `POST /channels/{id}/messages`.
    CreateMessage,
    /// `GET /guilds/{id}/channels`.
    GetGuildChannels,
    /// `GET /attachments/{channel}/{id}/{name}` (the fake's CDN for attachment bytes).
    DownloadAttachment,
    /// Anything else; answered with a Discord-style 404.
    Unknown,
}

/// A classified request with the ids and token its path carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParsedRoute {
    GetGateway,
    GetApplication,
    GetCurrentUser,
    GetCommands {
        application_id: u64,
        guild_id: Option<u64>,
    },
    RegisterCommands {
        application_id: u64,
        guild_id: Option<u64>,
    },
    InteractionCallback {
        interaction_id: u64,
        token: String,
    },
    Original {
        application_id: u64,
        token: String,
        method: Method,
    },
    CreateFollowup {
        application_id: u64,
        token: String,
    },
    EditFollowup {
        application_id: u64,
        token: String,
        message_id: u64,
    },
    CreateMessage {
        channel_id: u64,
    },
    GetGuildChannels {
        guild_id: u64,
    },
    DownloadAttachment {
        attachment_id: u64,
    },
    Unknown,
}

impl ParsedRoute {
    /// Classifies `method` + `path` (the path as sent, e.g. `/api/v10/users/@me`).
    pub(crate) fn classify(method: &Method, path: &str) -> Self {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match segments.as_slice() {
            ["attachments", _channel, id, _name] if method == Method::GET => id
                .parse()
                .map_or(Self::Unknown, |attachment_id| Self::DownloadAttachment {
                    attachment_id,
                }),
            ["api", version, rest @ ..] if is_supported_version(version) => {
                Self::classify_api(method, rest)
            }
            _ => Self::Unknown,
        }
    }

    /// Classifies the part after `/api/v10`.
    fn classify_api(method: &Method, rest: &[&str]) -> Self {
        let get = method == Method::GET;
        match rest {
            ["gateway"] | ["gateway", "bot"] if get => Self::GetGateway,
            ["oauth2", "applications", "@me"] | ["applications", "@me"] if get => {
                Self::GetApplication
            }
            ["users", "@me"] if get => Self::GetCurrentUser,
            ["applications", app, "commands"] => Self::commands(method, app, None),
            ["applications", app, "guilds", guild, "commands"] => match guild.parse() {
                Ok(guild_id) => Self::commands(method, app, Some(guild_id)),
                Err(_) => Self::Unknown,
            },
            ["interactions", id, token, "callback"] if method == Method::POST => {
                id.parse()
                    .map_or(Self::Unknown, |interaction_id| Self::InteractionCallback {
                        interaction_id,
                        token: (*token).to_owned(),
                    })
            }
            ["webhooks", app, token, "messages", "@original"]
                if [Method::GET, Method::PATCH, Method::DELETE].contains(method) =>
            {
                app.parse()
                    .map_or(Self::Unknown, |application_id| Self::Original {
                        application_id,
                        token: (*token).to_owned(),
                        method: method.clone(),
                    })
            }
            ["webhooks", app, token] if method == Method::POST => {
                app.parse()
                    .map_or(Self::Unknown, |application_id| Self::CreateFollowup {
                        application_id,
                        token: (*token).to_owned(),
                    })
            }
            ["webhooks", app, token, "messages", message] if method == Method::PATCH => {
                match (app.parse(), message.parse()) {
                    (Ok(application_id), Ok(message_id)) => Self::EditFollowup {
                        application_id,
                        token: (*token).to_owned(),
                        message_id,
                    },
                    _ => Self::Unknown,
                }
            }
            ["channels", channel, "messages"] if method == Method::POST => channel
                .parse()
                .map_or(Self::Unknown, |channel_id| Self::CreateMessage {
                    channel_id,
                }),
            ["guilds", guild, "channels"] if get => guild
                .parse()
                .map_or(Self::Unknown, |guild_id| Self::GetGuildChannels {
                    guild_id,
                }),
            _ => Self::Unknown,
        }
    }

    /// Classifies a commands collection by method.
    fn commands(method: &Method, app: &str, guild_id: Option<u64>) -> Self {
        let Ok(application_id) = app.parse() else {
            return Self::Unknown;
        };
        match *method {
            Method::GET => Self::GetCommands {
                application_id,
                guild_id,
            },
            Method::PUT => Self::RegisterCommands {
                application_id,
                guild_id,
            },
            _ => Self::Unknown,
        }
    }

    /// The endpoint kind, without the ids.
    pub(crate) fn kind(&self) -> Route {
        match self {
            Self::GetGateway => Route::GetGateway,
            Self::GetApplication => Route::GetApplication,
            Self::GetCurrentUser => Route::GetCurrentUser,
            Self::GetCommands { .. } => Route::GetCommands,
            Self::RegisterCommands { .. } => Route::RegisterCommands,
            Self::InteractionCallback { .. } => Route::InteractionCallback,
            Self::Original { method, .. } if method == Method::GET => Route::GetOriginal,
            Self::Original { method, .. } if method == Method::PATCH => Route::EditOriginal,
            Self::Original { .. } => Route::DeleteOriginal,
            Self::CreateFollowup { .. } => Route::CreateFollowup,
            Self::EditFollowup { .. } => Route::EditFollowup,
            Self::CreateMessage { .. } => Route::CreateMessage,
            Self::GetGuildChannels { .. } => Route::GetGuildChannels,
            Self::DownloadAttachment { .. } => Route::DownloadAttachment,
            Self::Unknown => Route::Unknown,
        }
    }

    /// Whether Discord requires the bot's `Authorization` header here. Interaction callbacks and
    /// webhook routes are authorized by the token in the path; the gateway URL and CDN are public.
    pub(crate) fn needs_bot_auth(&self) -> bool {
        !matches!(
            self,
            Self::GetGateway
                | Self::InteractionCallback { .. }
                | Self::Original { .. }
                | Self::CreateFollowup { .. }
                | Self::EditFollowup { .. }
                | Self::DownloadAttachment { .. }
                | Self::Unknown
        )
    }
}

/// serenity 0.12 speaks v10; v9 shares the shapes this fake serves.
fn is_supported_version(version: &str) -> bool {
    matches!(version, "v10" | "v9")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_original_carries_app_and_token() {
        let r = ParsedRoute::classify(
            &Method::PATCH,
            "/api/v10/webhooks/12/tok/messages/@original",
        );

        assert_eq!(r.kind(), Route::EditOriginal);
        assert_eq!(
            r,
            ParsedRoute::Original {
                application_id: 12,
                token: "tok".into(),
                method: Method::PATCH
            }
        );
    }

    #[test]
    fn guild_and_global_command_registration_are_the_same_route() {
        let global = ParsedRoute::classify(&Method::PUT, "/api/v10/applications/1/commands");
        let guild =
            ParsedRoute::classify(&Method::PUT, "/api/v10/applications/1/guilds/2/commands");

        assert_eq!(global.kind(), Route::RegisterCommands);
        assert_eq!(
            guild,
            ParsedRoute::RegisterCommands {
                application_id: 1,
                guild_id: Some(2)
            }
        );
    }

    #[test]
    fn non_numeric_ids_are_unknown_routes() {
        let r = ParsedRoute::classify(&Method::POST, "/api/v10/channels/general/messages");

        assert_eq!(r, ParsedRoute::Unknown);
    }

    #[test]
    fn followup_edit_and_original_edit_are_told_apart() {
        let r = ParsedRoute::classify(&Method::PATCH, "/api/v10/webhooks/1/t/messages/99");

        assert_eq!(r.kind(), Route::EditFollowup);
    }

    #[test]
    fn paths_outside_the_api_are_unknown() {
        let r = ParsedRoute::classify(&Method::GET, "/v10/gateway");

        assert_eq!(r.kind(), Route::Unknown);
    }
}
