//! A real MCP client (rmcp's) connected to the bot: over streamable HTTP at `/mcp`, or over
//! the stdio of a real `openclaw-bot mcp-stdio` child, and small helpers to call its tools.

use std::process::Stdio;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;

use super::{bot_bin, TestBot, CLIENT_TOKEN};

/// A connected MCP client.
pub type McpClient = RunningService<RoleClient, ()>;

/// A client of the bot's `/mcp` with `token`.
pub async fn mcp_over_http_with(bot: &TestBot, token: &str) -> McpClient {
    let config = StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", bot.url()))
        .auth_header(token);
    let transport = StreamableHttpClientTransport::from_config(config);
    ().serve(transport).await.unwrap()
}

/// A client of the bot's `/mcp` with the client token.
pub async fn mcp_over_http(bot: &TestBot) -> McpClient {
    mcp_over_http_with(bot, CLIENT_TOKEN).await
}

/// A client of a real `openclaw-bot mcp-stdio` child pointed at `bot`, with the token in its
/// environment (as the README tells people to pass it).
pub async fn mcp_over_stdio(bot: &TestBot) -> McpClient {
    let mut command = tokio::process::Command::new(bot_bin());
    command
        .args(["mcp-stdio", "--url", &bot.url()])
        .env("OPENCLAW_TOKEN", CLIENT_TOKEN);
    // Its logs (stderr) with the bot's: only when `TEST_LOG` asks for them.
    let logs = if std::env::var_os("TEST_LOG").is_some() {
        Stdio::inherit()
    } else {
        Stdio::null()
    };
    let (transport, _) = TokioChildProcess::builder(command)
        .stderr(logs)
        .spawn()
        .unwrap();
    ().serve(transport).await.unwrap()
}

/// Calls tool `name` with `arguments` (a JSON object); a protocol failure fails the test.
pub async fn call(client: &McpClient, name: &'static str, arguments: Value) -> CallToolResult {
    let Value::Object(arguments) = arguments else {
        panic!("tool arguments must be a JSON object");
    };
    client
        .call_tool(CallToolRequestParams::new(name).with_arguments(arguments))
        .await
        .unwrap()
}

/// The text a tool result carries, joined.
pub fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|block| block.as_text().map(|text| text.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The structured content of a tool result (its report or error).
pub fn structured(result: &CallToolResult) -> Value {
    result.structured_content.clone().unwrap_or(Value::Null)
}

/// Whether the tool result is an error.
pub fn is_error(result: &CallToolResult) -> bool {
    result.is_error == Some(true)
}
