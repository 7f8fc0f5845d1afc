//! Attacks on volume and on startup: floods and token guessing are answered 429 with a
//! `Retry-After`, and the real binary refuses weak tokens before it creates anything.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use openclaw_bot::config::RateLimitConfig;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::attacks::MAC;
use crate::helpers::{assert_error, read, within, TestApp, CLIENT, WORKER};

/// Most requests a test sends to reach a limit; each limit under test is far below it.
const MAX_ATTEMPTS: usize = 50;

/// A bot whose `[rate_limit]` is `tweak`ed from the defaults.
async fn limited_app(tweak: impl FnOnce(&mut RateLimitConfig)) -> TestApp {
    TestApp::spawn_with(|config| tweak(&mut config.rate_limit)).await
}

/// Sends `send` until it answers 429 (at most [`MAX_ATTEMPTS`] times); returns how many
/// answers came before, and the 429's `Retry-After` and body.
async fn until_limited<F, Fut>(mut send: F) -> (usize, String, Value)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = reqwest::Response>,
{
    for before in 0..MAX_ATTEMPTS {
        let response = send().await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = response
                .headers()
                .get("retry-after")
                .expect("a 429 without Retry-After")
                .to_str()
                .unwrap()
                .to_owned();
            let (_, body) = read(response).await;
            return (before, retry_after, body);
        }
    }
    panic!("no 429 after {MAX_ATTEMPTS} requests");
}

/// Asserts a 429 answer: whole seconds to wait, and our JSON error.
fn assert_rate_limited(retry_after: &str, body: &Value) {
    let secs: u64 = retry_after.parse().unwrap();
    assert!(secs >= 1, "Retry-After: {retry_after}");
    assert_eq!(body["code"], "rate_limited", "{body}");
    assert!(body["error"].as_str().unwrap().contains("retry"), "{body}");
}

#[tokio::test]
async fn a_flood_with_one_token_is_429_and_the_refused_requests_queue_nothing() {
    within(async {
        let app = limited_app(|limits| {
            limits.per_token_per_sec = 1;
            limits.per_token_burst = 3;
        })
        .await;
        let create = || {
            app.http
                .post(app.url("/tasks"))
                .bearer_auth(CLIENT)
                .json(&json!({"command": "id"}))
                .send()
        };

        let (accepted, retry_after, body) =
            until_limited(|| async { create().await.unwrap() }).await;

        assert_rate_limited(&retry_after, &body);
        assert_eq!(stored_tasks(&app).await, accepted);
        // Another token has its own budget.
        let (status, answer) = app
            .post(
                "/v1/worker/claim",
                Some(WORKER),
                &json!({"worker": "mac", "slots": 1, "wait_ms": 0}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    })
    .await
}

/// How many tasks the queue holds, read from the store: the API may be refusing us.
async fn stored_tasks(app: &TestApp) -> usize {
    app.state.queue().list(None, 1000).await.unwrap().len()
}

#[tokio::test]
async fn a_flood_from_one_address_is_429_before_authentication() {
    within(async {
        let app = limited_app(|limits| {
            limits.per_ip_per_sec = 1;
            limits.per_ip_burst = 3;
        })
        .await;

        let (_, retry_after, body) =
            until_limited(|| async { app.http.get(app.url("/health")).send().await.unwrap() })
                .await;

        assert_rate_limited(&retry_after, &body);
        // Over the limit, even a valid token is turned away before it is looked at.
        let create = app
            .post("/tasks", Some(CLIENT), &json!({"command": "id"}))
            .await;
        assert_error(&create, StatusCode::TOO_MANY_REQUESTS, "rate_limited", "");
        assert_eq!(stored_tasks(&app).await, 0);
    })
    .await
}

#[tokio::test]
async fn guessing_tokens_locks_the_address_out_even_for_the_valid_token() {
    within(async {
        let app = limited_app(|limits| {
            limits.failed_auth_per_min = 1;
            limits.failed_auth_burst = 3;
        })
        .await;
        let mut guess = 0;

        let (failures, retry_after, body) = until_limited(|| {
            guess += 1;
            let token = format!("{}{guess:04}", &CLIENT[..CLIENT.len() - 4]);
            let request = app
                .http
                .post(app.url("/tasks"))
                .bearer_auth(token)
                .json(&json!({"command": "id"}));
            async move { request.send().await.unwrap() }
        })
        .await;

        assert!(failures >= 3, "locked out after {failures} failures");
        assert_rate_limited(&retry_after, &body);
        // The right guess now would not even be checked.
        let right = app
            .post("/tasks", Some(CLIENT), &json!({"command": "id"}))
            .await;
        assert_error(&right, StatusCode::TOO_MANY_REQUESTS, "rate_limited", "");
        assert_eq!(stored_tasks(&app).await, 0);
    })
    .await
}

#[tokio::test]
async fn behind_a_trusted_proxy_only_the_guessing_client_is_locked_out() {
    within(async {
        let app = limited_app(|limits| {
            limits.failed_auth_per_min = 1;
            limits.failed_auth_burst = 2;
            limits.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
            limits.client_ip_header = Some("x-forwarded-for".into());
        })
        .await;
        let from = |client: &'static str, token: &str| {
            app.http
                .post(app.url("/tasks"))
                .bearer_auth(token)
                // The attacker's own entry first, as a client may send; the proxy appends.
                .header("x-forwarded-for", format!("10.0.0.1, {client}"))
                .json(&json!({"command": "id"}))
                .send()
        };

        let (_, retry_after, body) =
            until_limited(|| async { from("203.0.113.5", "guess").await.unwrap() }).await;
        let (status, answer) = read(from("198.51.100.9", CLIENT).await.unwrap()).await;

        assert_rate_limited(&retry_after, &body);
        assert_eq!(
            status,
            StatusCode::OK,
            "a bystander was locked out: {answer}"
        );
        assert_eq!(stored_tasks(&app).await, 1);
    })
    .await
}

#[tokio::test]
async fn a_forwarded_header_from_an_untrusted_peer_does_not_dodge_the_lockout() {
    within(async {
        let app = limited_app(|limits| {
            limits.failed_auth_per_min = 1;
            limits.failed_auth_burst = 2;
            // Loopback, where the test connects from, is not the trusted proxy.
            limits.trusted_proxies = vec!["192.0.2.1".parse().unwrap()];
            limits.client_ip_header = Some("x-forwarded-for".into());
        })
        .await;
        let mut n = 0;

        // Every guess claims to come from a different client.
        let (_, retry_after, body) = until_limited(|| {
            n += 1;
            let request = app
                .http
                .post(app.url("/tasks"))
                .bearer_auth("guess")
                .header("x-forwarded-for", format!("203.0.113.{n}"))
                .json(&json!({"command": "id"}));
            async move { request.send().await.unwrap() }
        })
        .await;

        assert_rate_limited(&retry_after, &body);
        assert!(n <= 4, "rotating the header bought {n} guesses");
    })
    .await
}

/// The bot binary in `dir` with only `env` set (plus a free port).
fn bot(dir: &Path, env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_openclaw-bot"));
    cmd.current_dir(dir)
        .env_clear()
        .env("OPENCLAW_HTTP__BIND", "127.0.0.1:0")
        .envs(env.iter().copied());
    cmd
}

#[test]
fn the_binary_refuses_weak_tokens_before_creating_anything() {
    let short = "oc_client_only_31_characters_xy";
    assert_eq!(short.len(), 31);
    let placeholder = "your-token-here-your-token-here-0123";
    // (variable, value, the token in it, the key the error must name)
    let cases = [
        (
            "OPENCLAW_AUTH__CLIENT_TOKEN",
            "changeme",
            "changeme",
            "auth.client_token",
        ),
        (
            "OPENCLAW_AUTH__ADMIN_TOKEN",
            short,
            short,
            "auth.admin_token",
        ),
        (
            "OPENCLAW_AUTH__WORKER_TOKEN",
            placeholder,
            placeholder,
            "auth.worker_token",
        ),
        (
            "OPENCLAW_AUTH__WORKERS",
            r#"[{"name": "mac", "token": "hunter2"}]"#,
            "hunter2",
            "auth.workers",
        ),
        (
            "OPENCLAW_AUTH__WORKERS",
            r#"[{"name": "mac", "token": "hunter2""#,
            "hunter2",
            "OPENCLAW_AUTH__WORKERS",
        ),
    ];

    for (var, value, token, key) in cases {
        let dir = tempfile::tempdir().unwrap();

        let (status, stderr) = run_to_exit(bot(dir.path(), &[(var, value)]));

        assert!(!status.success(), "{var}={value} exited successfully");
        assert!(stderr.contains(key), "{var}: {stderr}");
        assert!(
            !stderr.contains(token),
            "{var}: the token was echoed: {stderr}"
        );
        assert!(
            !dir.path().join("data").exists(),
            "{var}: something was created before the config was valid"
        );
    }
}

/// Runs the bot to its exit and returns its status and stderr. A bot that accepted its
/// config would serve until killed: after [`REFUSAL_DEADLINE`] it is killed and the test
/// fails, instead of hanging.
fn run_to_exit(mut cmd: Command) -> (ExitStatus, String) {
    let mut child = KillOnDrop(
        cmd.stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = child.0.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < REFUSAL_DEADLINE,
            "the bot is still running: it accepted the config"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, reader.join().unwrap())
}

/// Longest a refusing bot may take to exit; it refuses before binding, in milliseconds.
const REFUSAL_DEADLINE: Duration = Duration::from_secs(10);

/// Kills the child if the test fails before it exits.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn per_worker_tokens_from_the_environment_bind_each_token_to_its_name() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let workers = format!(r#"[{{"name": "mac", "token": "{MAC}"}}]"#);
        let mut child = KillOnDrop(
            bot(dir.path(), &[("OPENCLAW_AUTH__WORKERS", &workers)])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        // The client and admin tokens are generated and announced; the notice's curl line
        // carries the client token and the bound address.
        let stderr = child.0.stderr.take().unwrap();
        let (lines, curl) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("curl ") {
                    let _ = lines.send(line);
                }
            }
        });
        let curl = tokio::task::spawn_blocking(move || curl.recv().unwrap())
            .await
            .unwrap();
        let word = |prefix: &str| {
            curl.split(|c: char| c.is_whitespace() || c == '\'')
                .find(|w| w.starts_with(prefix))
                .unwrap_or_else(|| panic!("no {prefix} in {curl}"))
                .to_owned()
        };
        let (client, tasks_url) = (word("oc_client_"), word("http://"));
        let claim_url = tasks_url.replace("/tasks", "/v1/worker/claim");
        let http = reqwest::Client::new();
        let post = |url: &str, token: &str, body: Value| {
            http.post(url).bearer_auth(token).json(&body).send()
        };

        let created = read(
            post(
                &tasks_url,
                &client,
                json!({"command": "id", "worker": "mac"}),
            )
            .await
            .unwrap(),
        )
        .await;
        let posing = read(
            post(
                &claim_url,
                MAC,
                json!({"worker": "mini", "slots": 1, "wait_ms": 0}),
            )
            .await
            .unwrap(),
        )
        .await;
        let own = read(
            post(
                &claim_url,
                MAC,
                json!({"worker": "mac", "slots": 1, "wait_ms": 0}),
            )
            .await
            .unwrap(),
        )
        .await;

        assert_eq!(created.0, StatusCode::OK, "{}", created.1);
        assert_error(
            &posing,
            StatusCode::FORBIDDEN,
            "forbidden",
            "may not act as",
        );
        assert_eq!(own.0, StatusCode::OK, "{}", own.1);
        assert_eq!(own.1["tasks"][0]["id"], created.1["taskId"]);
        let stored = std::fs::read_to_string(dir.path().join("data/tokens.toml")).unwrap();
        assert!(
            !stored.contains("worker_token"),
            "a shared worker token was generated"
        );
    })
    .await
}
