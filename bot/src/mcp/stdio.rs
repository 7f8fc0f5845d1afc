//! `openclaw-bot mcp-stdio`: the MCP tools over stdin/stdout, for agents that start their
//! servers as child processes (Claude Desktop). A client of the bot's HTTP API with the
//! client token: it opens no database and has no power the token lacks. Stdout carries only
//! the protocol; logs go to stderr.

use anyhow::Context;
use rmcp::ServiceExt;
use secrecy::SecretString;

use super::backend::Backend;
use super::remote::Remote;
use super::tools::OpenClawTools;

/// Serves the tools on stdin/stdout against the bot at `url` until the client closes stdin.
pub async fn run(url: &str, token: SecretString) -> anyhow::Result<()> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        anyhow::bail!("--url must be the bot's http:// or https:// URL, got {url:?}");
    }
    let remote = Remote::new(url, token).context("building the HTTP client")?;
    let tools = OpenClawTools::new(Backend::Remote(remote));
    tracing::info!(bot = url, "MCP over stdio: serving");
    let service = tools
        .serve(rmcp::transport::stdio())
        .await
        .context("starting the MCP session on stdio")?;
    let reason = service.waiting().await.context("serving MCP on stdio")?;
    tracing::info!(?reason, "MCP over stdio: the client closed the session");
    Ok(())
}
