//! The command and Claude executors with real child processes.

use std::fs;
use std::time::Duration;

use openclaw_shared::task::AgentSession;
use openclaw_shared::{OutcomeStatus, TaskSpec};
use openclaw_worker::exec;
use tokio_util::sync::CancellationToken;

use crate::helpers::{
    claimed, command, exec_ctx, plan_for, process_running, run, unique_sleep, within_limit,
    write_script,
};

// ---- commands ----

#[tokio::test]
async fn command_reports_stdout_stderr_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = exec_ctx(dir.path());

    let outcome = run(&ctx, command("echo hello; echo oops >&2; exit 3"), 10_000).await;

    assert_eq!(outcome.status, OutcomeStatus::Failed);
    assert_eq!(outcome.exit_code, Some(3));
    assert_eq!(outcome.stdout, "hello\n");
    assert_eq!(outcome.stderr, "oops\n");
    assert_eq!(outcome.signal, None);
    assert!(outcome.error.unwrap().contains("code 3"));
}

#[tokio::test]
async fn successful_command_has_exit_code_zero_and_no_error() {
    let dir = tempfile::tempdir().unwrap();

    let outcome = run(&exec_ctx(dir.path()), command("printf ok"), 10_000).await;

    assert_eq!(outcome.status, OutcomeStatus::Succeeded);
    assert_eq!(outcome.exit_code, Some(0));
    assert_eq!(outcome.error, None);
    assert_eq!(outcome.stdout, "ok");
}

#[tokio::test]
async fn absurd_timeout_from_the_server_is_bounded_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();

    let outcome = run(&exec_ctx(dir.path()), command("echo fine"), u64::MAX).await;

    assert_eq!(outcome.status, OutcomeStatus::Succeeded);
    assert_eq!(outcome.stdout, "fine\n");
}

#[tokio::test]
async fn command_string_reaches_the_shell_unquoted() {
    let dir = tempfile::tempdir().unwrap();

    let outcome = run(&exec_ctx(dir.path()), command("echo '$0 literal'"), 10_000).await;

    assert_eq!(outcome.stdout, "$0 literal\n");
}

#[tokio::test]
async fn command_runs_in_the_default_directory_or_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("sub");
    fs::create_dir(&sub).unwrap();
    let ctx = exec_ctx(&dir.path().canonicalize().unwrap());

    let default = run(&ctx, command("pwd -P"), 10_000).await;
    let own = run(
        &ctx,
        TaskSpec::Command {
            command: "pwd -P".into(),
            cwd: Some("~/sub".into()),
        },
        10_000,
    )
    .await;

    assert_eq!(default.stdout.trim_end(), ctx.default_cwd.to_str().unwrap());
    assert_eq!(
        own.stdout.trim_end(),
        sub.canonicalize().unwrap().to_str().unwrap()
    );
}

#[tokio::test]
async fn missing_working_directory_fails_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let spec = TaskSpec::Command {
        command: "true".into(),
        cwd: Some("/no/such/dir".into()),
    };

    let outcome = run(&exec_ctx(dir.path()), spec, 10_000).await;

    assert_eq!(outcome.status, OutcomeStatus::Failed);
    assert!(outcome.error.unwrap().contains("/no/such/dir"));
}

#[tokio::test]
async fn stdin_is_empty_so_a_reader_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();

    let outcome = run(&exec_ctx(dir.path()), command("cat; echo done"), 10_000).await;

    assert_eq!(outcome.status, OutcomeStatus::Succeeded);
    assert_eq!(outcome.stdout, "done\n");
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let marker = unique_sleep();

    let outcome = run(
        &exec_ctx(dir.path()),
        command(&format!("echo started; sleep {marker} & wait")),
        500,
    )
    .await;

    assert_eq!(outcome.status, OutcomeStatus::TimedOut);
    assert!(outcome.error.unwrap().contains("timed out after 0.5s"));
    assert_eq!(outcome.stdout, "started\n");
    assert!(
        !process_running(&marker),
        "a grandchild survived the timeout"
    );
}

#[tokio::test]
async fn grandchild_ignoring_sigterm_is_killed_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let marker = unique_sleep();

    let outcome = run(
        &exec_ctx(dir.path()),
        command(&format!("sh -c 'trap \"\" TERM; sleep {marker}' & wait")),
        500,
    )
    .await;

    assert_eq!(outcome.status, OutcomeStatus::TimedOut);
    assert!(
        !process_running(&marker),
        "a TERM-proof grandchild survived"
    );
}

#[tokio::test]
async fn background_job_holding_the_output_open_counts_as_running() {
    let dir = tempfile::tempdir().unwrap();
    let marker = unique_sleep();

    // The shell exits at once, but its background job keeps stdout open.
    let outcome = run(
        &exec_ctx(dir.path()),
        command(&format!("sleep {marker} & echo shell-done")),
        500,
    )
    .await;

    assert_eq!(outcome.status, OutcomeStatus::TimedOut);
    assert_eq!(outcome.stdout, "shell-done\n");
    assert!(!process_running(&marker));
}

#[tokio::test]
async fn cancel_kills_the_task_and_reports_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = exec_ctx(dir.path());
    let marker = unique_sleep();
    let task = claimed(command(&format!("sleep {marker} & wait")), 60_000);
    let cancel = CancellationToken::new();

    let plan = plan_for(&ctx, &task.spec);
    let run = exec::execute(&ctx, &task, &plan, cancel.clone());
    let stopper = async {
        while !process_running(&marker) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        cancel.cancel();
    };
    let (outcome, ()) = within_limit(async { tokio::join!(run, stopper) }).await;

    assert_eq!(outcome.status, OutcomeStatus::Cancelled);
    assert!(!process_running(&marker));
}

#[tokio::test]
async fn death_by_signal_reports_the_signal() {
    let dir = tempfile::tempdir().unwrap();

    let outcome = run(&exec_ctx(dir.path()), command("kill -9 $$"), 10_000).await;

    assert_eq!(outcome.status, OutcomeStatus::Failed);
    assert_eq!(outcome.signal, Some(9));
    assert_eq!(outcome.exit_code, Some(137));
    assert!(outcome.error.unwrap().contains("SIGKILL"));
}

#[tokio::test]
async fn output_past_the_cap_keeps_its_head_and_tail_per_stream_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = exec_ctx(dir.path());
    ctx.limits.max_output_bytes = 1000;

    let outcome = run(
        &ctx,
        command("yes a | head -c 50000; echo end; echo small >&2"),
        10_000,
    )
    .await;

    assert_eq!(outcome.status, OutcomeStatus::Succeeded);
    assert!(outcome.stdout.len() <= 1000, "{}", outcome.stdout.len());
    assert!(outcome.stdout.starts_with("a\na\n"));
    assert!(outcome.stdout.ends_with("a\nend\n"));
    let omitted = &outcome.metadata["stdoutOmitted"];
    let kept = omitted["headBytes"].as_u64().unwrap() + omitted["tailBytes"].as_u64().unwrap();
    assert_eq!(kept + omitted["omittedBytes"].as_u64().unwrap(), 50_004);
    assert!(outcome
        .stdout
        .contains(&format!("… {} bytes omitted …\n", omitted["omittedBytes"])));
    assert!(outcome.stdout_truncated);
    assert_eq!(outcome.stderr, "small\n");
    assert!(!outcome.stderr_truncated);
    assert!(!outcome.metadata.contains_key("stderrOmitted"));
}

#[tokio::test]
async fn megabytes_on_both_streams_do_not_deadlock() {
    let dir = tempfile::tempdir().unwrap();

    // Each stream gets 4 MB while the other is written too: a reader that drained one
    // stream at a time would leave the child blocked on the other pipe.
    let outcome = run(
        &exec_ctx(dir.path()),
        command("(yes e | head -c 4000000 >&2) & yes o | head -c 4000000; wait"),
        60_000,
    )
    .await;

    assert_eq!(outcome.status, OutcomeStatus::Succeeded);
    assert!(outcome.stdout.len() <= 1024 * 1024);
    assert!(outcome.stderr.len() <= 1024 * 1024);
    assert!(outcome.stdout_truncated && outcome.stderr_truncated);
}

#[tokio::test]
async fn invalid_utf8_output_is_converted_lossily() {
    let dir = tempfile::tempdir().unwrap();

    let outcome = run(&exec_ctx(dir.path()), command("printf 'a\\377b'"), 10_000).await;

    assert_eq!(outcome.stdout, "a\u{fffd}b");
}

// ---- claude ----

/// A fake `claude` that prints each argument on its own line, then the marker line.
const FAKE_CLAUDE: &str = "#!/bin/sh\nfor a in \"$@\"; do printf 'arg:%s\\n' \"$a\"; done\n\
                           echo 'PLEASE_UPLOAD_TO_DISCORD: /tmp/shot.png'\n";

fn claude(prompt: &str, session: Option<AgentSession>) -> TaskSpec {
    TaskSpec::Claude {
        prompt: prompt.into(),
        session,
        cwd: None,
    }
}

#[tokio::test]
async fn claude_prompt_is_one_argument_and_never_runs_as_shell() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("claude");
    write_script(&bin, FAKE_CLAUDE);
    let mut ctx = exec_ctx(dir.path());
    ctx.claude_bin = bin.to_str().unwrap().into();
    let prompt = "look $(touch pwned) and `touch pwned2`; touch pwned3";

    let outcome = run(&ctx, claude(prompt, None), 10_000).await;

    assert_eq!(outcome.status, OutcomeStatus::Succeeded, "{outcome:?}");
    let args: Vec<&str> = outcome
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("arg:"))
        .collect();
    assert_eq!(args, ["-p", "--", prompt]);
    for file in ["pwned", "pwned2", "pwned3"] {
        assert!(!dir.path().join(file).exists(), "{file} was created");
    }
}

#[tokio::test]
async fn claude_session_and_screenshot_go_to_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("claude");
    write_script(&bin, FAKE_CLAUDE);
    let mut ctx = exec_ctx(dir.path());
    ctx.claude_bin = bin.to_str().unwrap().into();

    let resumed = AgentSession::resume("sess-42");
    let started = AgentSession::start("sess-43");

    let outcome = run(&ctx, claude("take a screenshot", Some(resumed)), 10_000).await;
    let first = run(&ctx, claude("hello there", Some(started)), 10_000).await;

    assert!(outcome.stdout.contains("arg:--resume\narg:sess-42\n"));
    assert_eq!(outcome.metadata["sessionId"], "sess-42");
    assert_eq!(outcome.metadata["sessionNew"], false);
    assert!(first.stdout.contains("arg:--session-id\narg:sess-43\n"));
    assert!(!first.stdout.contains("--resume"));
    assert_eq!(first.metadata["sessionNew"], true);
    assert_eq!(outcome.metadata["screenshotPath"], "/tmp/shot.png");
}

#[tokio::test]
async fn missing_claude_binary_fails_with_exit_127() {
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = exec_ctx(dir.path());
    ctx.claude_bin = dir.path().join("no-claude").to_str().unwrap().into();

    let outcome = run(&ctx, claude("hi there", None), 10_000).await;

    assert_eq!(outcome.status, OutcomeStatus::Failed);
    assert_eq!(outcome.exit_code, Some(127));
    assert!(outcome.error.unwrap().contains("could not start claude"));
}

#[tokio::test]
async fn claude_past_its_timeout_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("claude");
    let marker = unique_sleep();
    write_script(&bin, &format!("#!/bin/sh\nsleep {marker}\n"));
    let mut ctx = exec_ctx(dir.path());
    ctx.claude_bin = bin.to_str().unwrap().into();

    let outcome = run(&ctx, claude("slow one", None), 300).await;

    assert_eq!(outcome.status, OutcomeStatus::TimedOut);
    assert!(!process_running(&marker));
}
