//! A real headless Chromium, driven over the DevTools protocol by a tiny client on the
//! websocket crate the workspace already has (a full CDP crate would cost more to build than
//! the few commands these tests send). One browser, one page, commands in order.
//!
//! Chromium comes from Debian (`apt-get install chromium`; `.ci/run` installs it); `CHROMIUM`
//! names another binary. A machine without it fails the test loudly, never skips it.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A headless Chromium with one page attached. Killed on drop.
pub struct Browser {
    _child: Child,
    socket: Socket,
    session: String,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts Chromium with a fresh profile and a `width`×`height` window, and opens a page.
    pub async fn launch(width: u32, height: u32) -> Browser {
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".into());
        let profile = tempfile::tempdir().unwrap();
        let mut command = Command::new(&binary);
        command
            .args([
                "--headless=new",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--remote-debugging-port=0",
                "--hide-scrollbars",
                &format!("--window-size={width},{height}"),
                &format!("--user-data-dir={}", profile.path().display()),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // Chromium refuses to run its own sandbox as root (CI containers): only then without.
        if nix::unistd::geteuid().is_root() {
            command.arg("--no-sandbox");
        }
        command.arg("about:blank");
        let mut child = command.spawn().unwrap_or_else(|err| {
            panic!("cannot start {binary} ({err}): install it (apt-get install chromium) or set CHROMIUM")
        });
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let ws_url = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    return url.trim().to_owned();
                }
            }
            panic!("chromium exited without a DevTools address");
        })
        .await
        .expect("chromium did not start within 30 s");
        // Keep draining its stderr so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let (socket, _) = tokio_tungstenite::connect_async(ws_url.as_str())
            .await
            .unwrap();
        let mut browser = Browser {
            _child: child,
            socket,
            session: String::new(),
            next_id: 0,
            _profile: profile,
        };
        let target = browser
            .send(None, "Target.createTarget", json!({ "url": "about:blank" }))
            .await;
        let attached = browser
            .send(
                None,
                "Target.attachToTarget",
                json!({ "targetId": target["targetId"], "flatten": true }),
            )
            .await;
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        browser.call("Page.enable", json!({})).await;
        browser
            .call(
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600 }),
            )
            .await;
        browser
    }

    /// Sends a command to the page and returns its result.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(Some(&session), method, params).await
    }

    async fn send(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::Text(message.to_string()))
            .await
            .unwrap();
        loop {
            let frame = self.socket.next().await.expect("chromium closed").unwrap();
            let Message::Text(text) = frame else { continue };
            let answer: Value = serde_json::from_str(&text).unwrap();
            // Events (no id) and answers to nothing we wait for are skipped.
            if answer["id"] != json!(id) {
                continue;
            }
            if let Some(error) = answer.get("error") {
                panic!("{method} failed: {error}");
            }
            return answer["result"].clone();
        }
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its value.
    pub async fn eval(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
            )
            .await;
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("{expression} threw: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// Waits until `expression` is true in the page, failing after `secs` with `what`.
    pub async fn wait_until(&mut self, what: &str, expression: &str, secs: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            if self.eval(expression).await == json!(true) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the page never showed {what}; it shows: {}",
                self.eval("document.body ? document.body.innerText : ''")
                    .await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Opens `url` and waits for the document it leads to (after any redirect) to load.
    pub async fn goto(&mut self, url: &str) {
        // A mark on the old document: gone once the new one is in place.
        self.eval("window.__leaving = true").await;
        self.call("Page.navigate", json!({ "url": url })).await;
        self.wait_until(
            &format!("a loaded page after opening {url}"),
            "window.__leaving === undefined && document.readyState === 'complete'",
            20,
        )
        .await;
    }

    /// Waits until the page's document is complete and its URL starts with `prefix`.
    pub async fn wait_for_load(&mut self, prefix: &str) {
        let check = format!(
            "document.readyState === 'complete' && location.href.startsWith({})",
            json!(prefix)
        );
        self.wait_until(&format!("a loaded {prefix}"), &check, 20)
            .await;
    }

    /// Saves a PNG of the page as it is now to `path`.
    pub async fn screenshot(&mut self, path: &Path) {
        let shot = self
            .call("Page.captureScreenshot", json!({ "format": "png" }))
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}
