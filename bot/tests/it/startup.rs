//! The real binary and its tokens at startup: weak tokens are refused before anything is
//! created, and per-worker tokens from the environment are bound to their names.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::attacks::MAC;
use crate::helpers::{assert_error, bot_binary, read, within, KillOnDrop};

/// The bot binary in `dir` with only `env` set (plus a free port).
fn bot(dir: &Path, env: &[(&str, &str)]) -> Command {
    let mut vars = vec![("OPENCLAW_HTTP__BIND", "127.0.0.1:0")];
    vars.extend_from_slice(env);
    bot_binary(dir, &[], &vars)
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

/// Starts `command` with its stdout and stderr piped; every line of either arrives on the
/// returned channel (logs go to stdout, the first-start notice to stderr).
fn start_logged(mut command: Command) -> (KillOnDrop, std::sync::mpsc::Receiver<String>) {
    let mut child = KillOnDrop(
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let (lines, received) = std::sync::mpsc::channel();
    let stdout = child.0.stdout.take().unwrap();
    let stderr = child.0.stderr.take().unwrap();
    let out_lines = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = out_lines.send(line);
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    (child, received)
}

/// Reads log lines until the bot says it is ready; its listening address, and every line
/// read so far.
async fn ready_lines(logs: &std::sync::mpsc::Receiver<String>) -> (String, Vec<String>) {
    let mut seen = Vec::new();
    loop {
        let line = logs
            .recv_timeout(REFUSAL_DEADLINE)
            .expect("the bot never said ready");
        if line.contains("openclaw-bot ready") {
            let addr = word(&line, "addr=").trim_start_matches("addr=").to_owned();
            seen.push(line);
            return (addr, seen);
        }
        seen.push(line);
    }
}

/// The address the bot listens on, from its ready line.
async fn ready_address(logs: &std::sync::mpsc::Receiver<String>) -> String {
    ready_lines(logs).await.0
}

/// What `openclaw-bot tokens show` prints for the bot in `dir`.
fn shown_tokens(dir: &Path, env: &[(&str, &str)]) -> String {
    let output = bot(dir, env).args(["tokens", "show"]).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The first whitespace- or quote-separated word of `text` that starts with `prefix`.
fn word(text: &str, prefix: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c == '\'')
        .find(|w| w.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} in {text}"))
        .to_owned()
}

#[tokio::test]
async fn under_a_service_manager_generated_tokens_never_reach_the_logs() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let (_child, logs) = start_logged(bot(dir.path(), &[]));

        let (addr, lines) = ready_lines(&logs).await;
        // A moment for anything printed after the ready line.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let mut all = lines;
        all.extend(logs.try_iter());

        let text = all.join("\n");
        assert!(!text.contains("oc_client_"), "{text}");
        assert!(!text.contains("oc_worker_"), "{text}");
        assert!(!text.contains("oc_admin_"), "{text}");
        assert!(text.contains("openclaw-bot tokens show"), "{text}");
        // The documented way to see them works, and the token it shows is the bot's.
        let shown = shown_tokens(dir.path(), &[]);
        let client = word(&shown, "oc_client_");
        let worker = word(&shown, "WORKER_TOKEN=");
        assert!(worker.starts_with("WORKER_TOKEN=oc_worker_"), "{shown}");
        assert!(shown.contains("openclaw-worker service install"), "{shown}");
        let answer = reqwest::Client::new()
            .get(format!("http://{addr}/tasks"))
            .bearer_auth(client)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
    })
    .await
}

/// Longest a refusing bot may take to exit; it refuses before binding, in milliseconds.
const REFUSAL_DEADLINE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn per_worker_tokens_from_the_environment_bind_each_token_to_its_name() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        let workers = format!(r#"[{{"name": "mac", "token": "{MAC}"}}]"#);
        let env = [("OPENCLAW_AUTH__WORKERS", workers.as_str())];
        let (_child, logs) = start_logged(bot(dir.path(), &env));
        let addr = ready_address(&logs).await;
        // The client and admin tokens are generated; `tokens show` prints them.
        let shown = shown_tokens(dir.path(), &env);
        let client = word(&shown, "oc_client_");
        let tasks_url = format!("http://{addr}/tasks");
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
