//! What the operator needs to connect a Mac: the tokens and the exact commands to paste.
//! Shown on a terminal at the first start and by `openclaw-bot tokens show`; never logged.
//! Under a service manager (Docker, systemd) stderr is a log stream, so the first start only
//! says where the tokens are and how to show them.

use std::path::Path;

use secrecy::ExposeSecret;

use crate::tokens::{Role, TokenHolder, Tokens};

/// The command that prints this text again, as an operator runs it in the Docker deploy.
pub const SHOW_COMMAND: &str = "openclaw-bot tokens show";

/// The tokens of `roles` and how to use them, for a bot reachable at `url`. Contains
/// secrets: print it to a terminal, never log it.
pub fn instructions(tokens: &Tokens, roles: &[Role], tokens_file: &Path, url: &str) -> String {
    let secret = |holder: &TokenHolder| tokens.get(holder).map_or("", |t| t.expose_secret());
    let mut text = format!(
        "openclaw-bot API tokens (kept in {}, mode 0600; `{SHOW_COMMAND}` shows them again):\n",
        tokens_file.display()
    );
    for role in roles {
        let holder = holder(*role);
        if tokens.get(&holder).is_some() {
            text.push_str(&format!("  {:<7} {}\n", role.as_str(), secret(&holder)));
        }
    }
    if roles.contains(&Role::Worker) && tokens.get(&TokenHolder::AnyWorker).is_some() {
        let worker = secret(&TokenHolder::AnyWorker);
        text.push_str(&format!(
            "\nOn your Mac, two commands:\n  \
             WORKER_TOKEN={worker} openclaw-worker init --server-url {url}\n  \
             openclaw-worker service install\n"
        ));
    }
    if roles.contains(&Role::Client) && tokens.get(&TokenHolder::Client).is_some() {
        let client = secret(&TokenHolder::Client);
        text.push_str(&format!(
            "\nSubmit a task:\n  curl -s -H 'Authorization: Bearer {client}' -d '{{\"command\":\"uptime\"}}' {url}/tasks\n"
        ));
    }
    text
}

/// The log line that replaces [`instructions`] when stderr is not a terminal.
pub fn where_to_find(tokens_file: &Path) -> String {
    format!(
        "API tokens were generated and kept in {} (mode 0600). They are not written to this \
         log; show them and the commands for your Mac with `{SHOW_COMMAND}` (with Docker: \
         `docker compose exec bot {SHOW_COMMAND}`)",
        tokens_file.display()
    )
}

/// The holder of a role's single (generated or configured) token.
fn holder(role: Role) -> TokenHolder {
    match role {
        Role::Client => TokenHolder::Client,
        Role::Worker => TokenHolder::AnyWorker,
        Role::Admin => TokenHolder::Admin,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::config::AuthConfig;

    use super::*;

    #[test]
    fn the_instructions_hold_each_token_and_the_commands_for_the_mac() {
        let dir = tempfile::tempdir().unwrap();
        let resolved = crate::tokens::resolve(&AuthConfig::default(), dir.path()).unwrap();
        let worker = resolved
            .tokens
            .get(&TokenHolder::AnyWorker)
            .unwrap()
            .expose_secret()
            .to_owned();

        let text = instructions(
            &resolved.tokens,
            &Role::ALL,
            &resolved.path,
            "https://bot.example.com",
        );

        assert!(text.contains(&format!(
            "WORKER_TOKEN={worker} openclaw-worker init --server-url https://bot.example.com"
        )));
        assert!(text.contains("openclaw-worker service install"));
        assert!(text.contains("https://bot.example.com/tasks"));
        assert!(text.matches("oc_").count() >= 3, "{text}");
    }

    #[test]
    fn the_log_line_names_the_file_and_the_command_but_no_token() {
        let line = where_to_find(&PathBuf::from("/data/tokens.toml"));

        assert!(line.contains("/data/tokens.toml"));
        assert!(line.contains(SHOW_COMMAND));
        assert!(!line.contains("oc_"));
    }
}
