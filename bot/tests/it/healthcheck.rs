//! `openclaw-bot healthcheck`, the real binary, against a real bot and against nothing.

use std::process::{Command, Output};

use tokio::net::TcpListener;

use crate::helpers::{within, TestApp};

#[tokio::test]
async fn healthcheck_exits_0_when_the_bot_answers() {
    within(async {
        let app = TestApp::spawn().await;

        let output = healthcheck(&["--url", &app.url("/health")], &[]).await;

        assert_eq!(output.status.code(), Some(0), "{output:?}");
    })
    .await
}

#[tokio::test]
async fn healthcheck_finds_the_bot_from_its_bind_address_in_the_environment() {
    within(async {
        let app = TestApp::spawn().await;
        let port = app.base.rsplit(':').next().unwrap().to_owned();

        // The bot's own setting, as a container gets it: every interface, asked on loopback.
        let bind = format!("0.0.0.0:{port}");
        let output = healthcheck(&[], &[("OPENCLAW_HTTP__BIND", &bind)]).await;

        assert_eq!(output.status.code(), Some(0), "{output:?}");
    })
    .await
}

#[tokio::test]
async fn healthcheck_exits_1_when_nothing_listens() {
    within(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);

        let output = healthcheck(&["--url", &format!("http://{addr}/health")], &[]).await;

        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("unhealthy"), "{stderr}");
    })
    .await
}

/// Runs `openclaw-bot healthcheck ARGS` with `env` added, in an empty directory (no `.env`).
async fn healthcheck(args: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_openclaw-bot"));
    command
        .arg("healthcheck")
        .args(args)
        .envs(env.iter().copied())
        .env_remove("OPENCLAW_CONFIG")
        .current_dir(dir.path());
    // Blocking: the bot under test runs on this test's runtime and must keep answering.
    let output = tokio::task::spawn_blocking(move || command.output()).await;
    drop(dir);
    output.unwrap().unwrap()
}
