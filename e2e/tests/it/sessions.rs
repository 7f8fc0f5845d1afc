//! Agent conversations end to end: a Claude session started on the first turn and continued
//! on the next (a fake `claude` that prints its argv), the worker's configured agents (a
//! fake agent CLI that prints its argv), and a read file the redactor altered.

use std::path::Path;

use serde_json::json;

use crate::helpers::{start_open_stack, write_script, E2eDirs, TestBot, WorkerProcess};

/// A stand-in for an agent CLI: prints each argument on a line of its own, `arg:` first.
const ARGV_PRINTER: &str = "#!/bin/sh\nfor a in \"$@\"; do printf 'arg:%s\\n' \"$a\"; done\n";

/// The arguments a run of [`ARGV_PRINTER`] printed.
fn argv(stdout: Option<&str>) -> Vec<String> {
    stdout
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.strip_prefix("arg:"))
        .map(str::to_owned)
        .collect()
}

/// Writes an [`ARGV_PRINTER`] named `name` into a directory of its own beside the home.
fn printer(dirs: &E2eDirs, name: &str) -> String {
    let dir = dirs.home.with_file_name(format!("{name}-bin"));
    std::fs::create_dir_all(&dir).unwrap();
    let bin = dir.join(name);
    write_script(&bin, ARGV_PRINTER);
    bin.display().to_string()
}

/// Adds `[agents.codex]` (an [`ARGV_PRINTER`], allowed without approval) to the worker's
/// config, as the owner would.
fn configure_codex(dirs: &E2eDirs, bin: &str) {
    let config = dirs.worker_dir().join("config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[agents.codex]\nbin = {bin:?}\nargs = [\"exec\", \"{{session}}\", \"--\", \"{{prompt}}\"]\n\
         new_session = [\"--session-id\", \"{{id}}\"]\nresume_session = [\"resume\", \"{{id}}\"]\n\
         tier = \"allow\"\n"
    ));
    std::fs::write(&config, text).unwrap();
}

async fn stack_with_claude() -> (E2eDirs, TestBot, WorkerProcess) {
    let (dirs, bot) = start_open_stack().await;
    let claude = printer(&dirs, "claude");
    let worker = WorkerProcess::spawn(
        &bot.url(),
        &dirs.home,
        &[("OPENCLAW_WORKER_CLAUDE_BIN", claude.as_str())],
    );
    (dirs, bot, worker)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_turn_claude_conversation_over_the_api_continues_one_session() {
    crate::helpers::within_limit(async {
        let (_dirs, bot, worker) = stack_with_claude().await;

        let first = bot.create("/claude", json!({"prompt": "turn one"})).await;
        let session = first.session_id.clone().expect("a new session's id");
        let one = bot.finished(first.task_id).await;
        let mut later = Vec::new();
        for prompt in ["turn two", "turn three"] {
            let next = bot
                .create("/claude", json!({"prompt": prompt, "sessionId": session}))
                .await;
            assert_eq!(next.session_id.as_deref(), Some(session.as_str()));
            later.push(bot.finished(next.task_id).await);
        }
        let (_, recent) = bot.admin_get("/claude/recent").await;

        assert_eq!(
            argv(one.stdout.as_deref()),
            ["-p", "--session-id", session.as_str(), "--", "turn one"]
        );
        for (view, prompt) in later.iter().zip(["turn two", "turn three"]) {
            assert_eq!(view.status, "succeeded", "{view:?}");
            assert_eq!(
                argv(view.stdout.as_deref()),
                ["-p", "--resume", session.as_str(), "--", prompt]
            );
        }
        let sessions = recent["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 1, "{recent}");
        assert_eq!(sessions[0]["sessionId"], session.as_str());
        assert_eq!(sessions[0]["lastPrompt"], "turn three");
        assert_eq!(sessions[0]["worker"], "e2e-mac");

        worker.terminate();
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_agent_gets_the_prompt_as_one_argument_and_an_unknown_one_runs_nothing() {
    crate::helpers::within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let codex = printer(&dirs, "codex");
        configure_codex(&dirs, &codex);
        let worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        let prompt = "--dangerously-skip-permissions $(touch pwned) `touch pwned2`; rm -rf ~";

        let first = bot.create("/codex", json!({"prompt": prompt})).await;
        let session = first.session_id.clone().unwrap();
        let ran = bot.finished(first.task_id).await;
        let next = bot
            .create(
                "/agents/codex",
                json!({"prompt": "again", "sessionId": session}),
            )
            .await;
        let resumed = bot.finished(next.task_id).await;
        let unknown = bot.submit("/agents/nope", json!({"prompt": "hi"})).await;
        let unknown = bot.finished(unknown).await;

        assert_eq!(ran.status, "succeeded", "{ran:?}");
        assert_eq!(
            argv(ran.stdout.as_deref()),
            ["exec", "--session-id", session.as_str(), "--", prompt]
        );
        assert_eq!(
            argv(resumed.stdout.as_deref()),
            ["exec", "resume", session.as_str(), "--", "again"]
        );
        for file in ["pwned", "pwned2"] {
            assert!(!dirs.home.join(file).exists(), "{file} was created");
        }
        assert!(dirs.home.exists());
        assert_eq!(unknown.status, "denied", "{unknown:?}");
        assert!(
            unknown
                .error
                .flatten()
                .unwrap()
                .contains("no agent named nope"),
            "the owner learns why"
        );
        assert_eq!(unknown.exit_code.flatten(), None, "nothing ran");

        worker.terminate();
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_read_the_redactor_altered_says_so() {
    crate::helpers::within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        let token = format!("ghp_{}", "A1b2C3d4E5".repeat(4));
        let mut bytes = vec![0x7f, b'E', b'L', b'F', 0xff, 0x00, 0xfe];
        bytes.extend_from_slice(token.as_bytes());
        bytes.extend_from_slice(&[0x00, 0xff, 0x01]);
        let path: &Path = &dirs.home.join("tool.bin");
        std::fs::write(path, &bytes).unwrap();
        std::fs::write(dirs.home.join("plain.bin"), [0xff, 0x00, 0x01]).unwrap();

        let read = bot
            .submit("/files/read", json!({"path": "~/tool.bin"}))
            .await;
        let read = bot.finished(read).await;
        let plain = bot
            .submit("/files/read", json!({"path": "~/plain.bin"}))
            .await;
        let plain = bot.finished(plain).await;

        assert_eq!(read.status, "succeeded", "{read:?}");
        let metadata = read.metadata.unwrap();
        assert_eq!(metadata["redactions"], 1);
        assert_eq!(metadata["altered"], true);
        let plain_metadata = plain.metadata.unwrap();
        assert_eq!(plain_metadata["redactions"], 0);
        assert!(plain_metadata.get("altered").is_none());

        worker.terminate();
        bot.stop().await;
    })
    .await;
}
