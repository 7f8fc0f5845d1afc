//! The executors with real child processes and real files in temp dirs.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use openclaw_shared::{ContentEncoding, OutcomeStatus, TaskSpec};
use openclaw_worker::exec;
use tokio_util::sync::CancellationToken;

use crate::helpers::{
    claimed, command, exec_ctx, process_running, run, unique_sleep, within_limit, write_script,
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

    let run = exec::execute(&ctx, &task, cancel.clone());
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
async fn output_is_capped_per_stream_and_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = exec_ctx(dir.path());
    ctx.limits.max_output_bytes = 1000;

    let outcome = run(
        &ctx,
        command("yes a | head -c 5000; echo small >&2"),
        10_000,
    )
    .await;

    assert_eq!(outcome.status, OutcomeStatus::Succeeded);
    assert_eq!(outcome.stdout.len(), 1000);
    assert!(outcome.stdout_truncated);
    assert_eq!(outcome.stderr, "small\n");
    assert!(!outcome.stderr_truncated);
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
    assert_eq!(outcome.stdout.len(), 1024 * 1024);
    assert_eq!(outcome.stderr.len(), 1024 * 1024);
    assert!(outcome.stdout_truncated && outcome.stderr_truncated);
}

#[tokio::test]
async fn invalid_utf8_output_is_converted_lossily() {
    let dir = tempfile::tempdir().unwrap();

    let outcome = run(&exec_ctx(dir.path()), command("printf 'a\\377b'"), 10_000).await;

    assert_eq!(outcome.stdout, "a\u{fffd}b");
}

// ---- files ----

fn read(path: &str) -> TaskSpec {
    TaskSpec::FileRead { path: path.into() }
}

fn write(path: &str, content: &str, encoding: ContentEncoding) -> TaskSpec {
    TaskSpec::FileWrite {
        path: path.into(),
        content: content.into(),
        encoding,
    }
}

fn edit(path: &str, old: &str, new: &str, replace_all: bool) -> TaskSpec {
    TaskSpec::FileEdit {
        path: path.into(),
        old_string: old.into(),
        new_string: new.into(),
        replace_all,
    }
}

#[tokio::test]
async fn text_file_reads_as_text() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.txt"), "héllo\n").unwrap();

    let outcome = run(&exec_ctx(dir.path()), read("~/a.txt"), 10_000).await;

    assert_eq!(outcome.status, OutcomeStatus::Succeeded);
    assert_eq!(outcome.stdout, "héllo\n");
    assert_eq!(outcome.stdout_encoding, ContentEncoding::Utf8);
}

#[tokio::test]
async fn binary_file_round_trips_through_base64() {
    let dir = tempfile::tempdir().unwrap();
    let bytes: Vec<u8> = (0..=255).collect();
    fs::write(dir.path().join("bin"), &bytes).unwrap();
    let ctx = exec_ctx(dir.path());

    let outcome = run(&ctx, read("bin"), 10_000).await;
    let copy = run(
        &ctx,
        write("copy", &outcome.stdout, ContentEncoding::Base64),
        10_000,
    )
    .await;

    assert_eq!(outcome.stdout_encoding, ContentEncoding::Base64);
    assert_eq!(BASE64.decode(&outcome.stdout).unwrap(), bytes);
    assert_eq!(copy.status, OutcomeStatus::Succeeded);
    assert_eq!(fs::read(dir.path().join("copy")).unwrap(), bytes);
}

#[tokio::test]
async fn file_over_the_read_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("big"), vec![b'x'; 2000]).unwrap();
    let mut ctx = exec_ctx(dir.path());
    ctx.max_read_bytes = 1000;

    let outcome = run(&ctx, read("big"), 10_000).await;

    assert_eq!(outcome.status, OutcomeStatus::Failed);
    assert!(outcome.stdout.is_empty());
    assert!(outcome.error.unwrap().contains("max_read_bytes"));
}

#[tokio::test]
async fn reading_a_directory_or_missing_file_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = exec_ctx(dir.path());

    let directory = run(&ctx, read("~"), 10_000).await;
    let missing = run(&ctx, read("nope.txt"), 10_000).await;

    assert!(directory.error.unwrap().contains("directory"));
    assert_eq!(missing.status, OutcomeStatus::Failed);
    assert!(missing.error.unwrap().contains("nope.txt"));
}

#[tokio::test]
async fn write_stores_exact_bytes_with_trailing_newlines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");

    let outcome = run(
        &exec_ctx(dir.path()),
        write(path.to_str().unwrap(), "  line\n\n", ContentEncoding::Utf8),
        10_000,
    )
    .await;

    assert_eq!(outcome.status, OutcomeStatus::Succeeded);
    assert_eq!(outcome.stdout, format!("File written: {}", path.display()));
    assert_eq!(outcome.metadata["bytes"], 8);
    assert_eq!(fs::read(&path).unwrap(), b"  line\n\n");
}

#[tokio::test]
async fn write_creates_parents_and_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();

    let outcome = run(
        &exec_ctx(dir.path()),
        write("a/b/c.txt", "x", ContentEncoding::Utf8),
        10_000,
    )
    .await;

    assert_eq!(outcome.status, OutcomeStatus::Succeeded);
    let names: Vec<_> = fs::read_dir(dir.path().join("a/b"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["c.txt"]);
}

#[tokio::test]
async fn write_keeps_the_existing_file_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("script.sh");
    fs::write(&path, "old").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o750)).unwrap();

    run(
        &exec_ctx(dir.path()),
        write("script.sh", "#!/bin/sh\n", ContentEncoding::Utf8),
        10_000,
    )
    .await;

    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o750);
    assert_eq!(fs::read_to_string(&path).unwrap(), "#!/bin/sh\n");
}

#[tokio::test]
async fn write_replaces_a_symlink_instead_of_writing_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside.txt");
    fs::write(&outside, "precious").unwrap();
    std::os::unix::fs::symlink(&outside, dir.path().join("link")).unwrap();

    run(
        &exec_ctx(dir.path()),
        write("link", "new", ContentEncoding::Utf8),
        10_000,
    )
    .await;

    assert_eq!(fs::read_to_string(&outside).unwrap(), "precious");
    let link = fs::symlink_metadata(dir.path().join("link")).unwrap();
    assert!(link.is_file());
}

#[tokio::test]
async fn invalid_base64_content_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();

    let outcome = run(
        &exec_ctx(dir.path()),
        write("f", "not base64!", ContentEncoding::Base64),
        10_000,
    )
    .await;

    assert_eq!(outcome.status, OutcomeStatus::Failed);
    assert!(outcome.error.unwrap().contains("base64"));
    assert!(!dir.path().join("f").exists());
}

#[tokio::test]
async fn edit_replaces_a_unique_match() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("f"), "alpha beta\n").unwrap();

    let outcome = run(
        &exec_ctx(dir.path()),
        edit("f", "beta", "gamma", false),
        10_000,
    )
    .await;

    assert_eq!(outcome.status, OutcomeStatus::Succeeded);
    assert_eq!(outcome.exit_code, Some(0));
    assert_eq!(
        fs::read_to_string(dir.path().join("f")).unwrap(),
        "alpha gamma\n"
    );
}

#[tokio::test]
async fn edit_without_a_match_fails_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("f"), "alpha\n").unwrap();

    let outcome = run(&exec_ctx(dir.path()), edit("f", "zeta", "x", false), 10_000).await;

    assert_eq!(outcome.status, OutcomeStatus::Failed);
    assert_eq!(outcome.exit_code, Some(1));
    assert_eq!(outcome.error.as_deref(), Some("old_string not found"));
    assert_eq!(fs::read_to_string(dir.path().join("f")).unwrap(), "alpha\n");
}

#[tokio::test]
async fn edit_with_several_matches_needs_replace_all() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("f"), "a-a-a").unwrap();
    let ctx = exec_ctx(dir.path());

    let refused = run(&ctx, edit("f", "a", "b", false), 10_000).await;
    let unchanged = fs::read_to_string(dir.path().join("f")).unwrap();
    let replaced = run(&ctx, edit("f", "a", "b", true), 10_000).await;

    assert_eq!(refused.error.as_deref(), Some("old_string not unique"));
    assert_eq!(refused.exit_code, Some(1));
    assert_eq!(unchanged, "a-a-a");
    assert_eq!(replaced.status, OutcomeStatus::Succeeded);
    assert_eq!(replaced.metadata["replacements"], 3);
    assert_eq!(fs::read_to_string(dir.path().join("f")).unwrap(), "b-b-b");
}

// ---- claude ----

/// A fake `claude` that prints each argument on its own line, then the marker line.
const FAKE_CLAUDE: &str = "#!/bin/sh\nfor a in \"$@\"; do printf 'arg:%s\\n' \"$a\"; done\n\
                           echo 'PLEASE_UPLOAD_TO_DISCORD: /tmp/shot.png'\n";

fn claude(prompt: &str, session_id: Option<&str>) -> TaskSpec {
    TaskSpec::Claude {
        prompt: prompt.into(),
        session_id: session_id.map(Into::into),
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

    let outcome = run(&ctx, claude("take a screenshot", Some("sess-42")), 10_000).await;

    assert!(outcome.stdout.contains("arg:--resume\narg:sess-42\n"));
    assert_eq!(outcome.metadata["sessionId"], "sess-42");
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
