//! `openclaw-bot healthcheck`: asks a running bot's `GET /health` and turns the answer into
//! an exit status, so a container image needs no curl for its `HEALTHCHECK`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::Config;

/// How long one check may take, connect to status line. Docker's own `--timeout` is the
/// outer bound; this one makes a hung bot an exit 1 with a reason rather than a kill.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// Longest status line read; a real one is about 20 bytes.
const MAX_STATUS_LINE: usize = 1024;

/// Where a check sends its `GET`: a plain-HTTP authority (`host:port`) and a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `host:port`, used both to connect and as the `Host` header.
    authority: String,
    /// The request path, starting with `/`.
    path: String,
}

impl Target {
    /// The bot's own `/health` on `bind`; an unspecified address (`0.0.0.0`, `::`) is asked
    /// on loopback, where a bot bound to every interface also answers.
    pub fn from_bind(bind: SocketAddr) -> Self {
        let ip = match bind.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        Self {
            authority: SocketAddr::new(ip, bind.port()).to_string(),
            path: "/health".into(),
        }
    }

    /// Parses `http://host[:port][/path]` (port 80 and path `/` when left out). Only plain
    /// HTTP: the check runs beside the bot, inside its container, not through the proxy.
    pub fn parse_url(url: &str) -> anyhow::Result<Self> {
        let rest = url
            .strip_prefix("http://")
            .with_context(|| format!("{url:?} is not an http:// URL"))?;
        let (authority, path) = match rest.find('/') {
            Some(slash) => rest.split_at(slash),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains(['@', '?', '#', ' ']) {
            anyhow::bail!("{url:?} has no usable host");
        }
        // A port is present when a colon follows the host (`]` closes an IPv6 literal).
        let has_port = authority.rsplit_once(':').is_some_and(|(host, _)| {
            !host.is_empty() && (!host.contains(':') || host.ends_with(']'))
        });
        let authority = if has_port {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        Ok(Self {
            authority,
            path: path.to_owned(),
        })
    }

    /// The target as a URL, for messages.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.authority, self.path)
    }
}

/// Checks the bot that `config_file` and the environment describe (or `url`, when given):
/// `Ok` when `/health` answers 200 within [`TIMEOUT`], an error saying why otherwise.
pub async fn run(config_file: Option<&Path>, url: Option<&str>) -> anyhow::Result<()> {
    let target = match url {
        Some(url) => Target::parse_url(url)?,
        None => Target::from_bind(Config::load(config_file)?.http.bind),
    };
    probe(&target, TIMEOUT)
        .await
        .with_context(|| format!("unhealthy: {}", target.url()))
}

/// Sends one `GET` to `target` and succeeds only on a `200` status line within `timeout`.
pub async fn probe(target: &Target, timeout: Duration) -> anyhow::Result<()> {
    let status = tokio::time::timeout(timeout, status_line(target))
        .await
        .map_err(|_| anyhow::anyhow!("no answer within {} ms", timeout.as_millis()))??;
    let code = status
        .split(' ')
        .nth(1)
        .filter(|_| status.starts_with("HTTP/1."))
        .with_context(|| format!("not an HTTP status line: {status:?}"))?;
    if code == "200" {
        Ok(())
    } else {
        anyhow::bail!("answered {code}")
    }
}

/// Connects, sends the request and reads the first line of the answer.
async fn status_line(target: &Target) -> anyhow::Result<String> {
    let mut stream = TcpStream::connect(&target.authority)
        .await
        .context("connecting")?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: openclaw-bot-healthcheck\r\n\
         Connection: close\r\n\r\n",
        target.path, target.authority
    );
    stream
        .write_all(request.as_bytes())
        .await
        .context("sending the request")?;
    let mut head = Vec::new();
    let mut buf = [0u8; 256];
    while !head.contains(&b'\n') && head.len() < MAX_STATUS_LINE {
        let read = stream.read(&mut buf).await.context("reading the answer")?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&buf[..read]);
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    Ok(String::from_utf8_lossy(line).trim_end().to_owned())
}

#[cfg(test)]
mod tests {
    use tokio::net::TcpListener;

    use super::*;

    #[test]
    fn an_unspecified_bind_address_is_checked_on_loopback() {
        let v4 = Target::from_bind("0.0.0.0:3456".parse().unwrap());
        let v6 = Target::from_bind("[::]:3456".parse().unwrap());
        let own = Target::from_bind("10.1.2.3:8080".parse().unwrap());

        assert_eq!(v4.url(), "http://127.0.0.1:3456/health");
        assert_eq!(v6.url(), "http://[::1]:3456/health");
        assert_eq!(own.url(), "http://10.1.2.3:8080/health");
    }

    #[test]
    fn urls_get_port_80_and_path_slash_when_they_leave_them_out() {
        let cases = [
            (
                "http://127.0.0.1:3456/health",
                "http://127.0.0.1:3456/health",
            ),
            ("http://bot/health", "http://bot:80/health"),
            ("http://localhost", "http://localhost:80/"),
            ("http://[::1]/health", "http://[::1]:80/health"),
            ("http://[::1]:9/x", "http://[::1]:9/x"),
        ];

        for (url, expected) in cases {
            assert_eq!(Target::parse_url(url).unwrap().url(), expected, "{url}");
        }
    }

    #[test]
    fn urls_other_than_plain_http_with_a_host_are_refused() {
        for url in [
            "https://bot/health",
            "bot:3456",
            "http:///health",
            "http://u@bot/",
        ] {
            assert!(Target::parse_url(url).is_err(), "{url}");
        }
    }

    #[tokio::test]
    async fn nothing_listening_is_unhealthy() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);

        let result = probe(&Target::from_bind(addr), TIMEOUT).await;

        assert!(result.is_err());
    }

    #[tokio::test]
    async fn only_a_200_is_healthy() {
        for (answer, healthy) in [
            ("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", true),
            ("HTTP/1.1 503 Service Unavailable\r\n\r\n", false),
            ("SSH-2.0-OpenSSH_9.2\r\n", false),
            ("", false),
        ] {
            let addr = answer_once(answer).await;

            let result = probe(&Target::from_bind(addr), TIMEOUT).await;

            assert_eq!(result.is_ok(), healthy, "{answer:?}: {result:?}");
        }
    }

    #[tokio::test]
    async fn a_server_that_never_answers_is_unhealthy_after_the_timeout() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();

        let result = probe(&Target::from_bind(addr), Duration::from_millis(100)).await;

        assert!(result.unwrap_err().to_string().contains("no answer"));
        drop(listener);
    }

    /// A one-connection server that reads the request head and writes `answer`.
    async fn answer_once(answer: &'static str) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).await;
            stream.write_all(answer.as_bytes()).await.unwrap();
        });
        addr
    }
}
