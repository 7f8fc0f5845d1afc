//! The file executors with real files in temp dirs: binary-safe reads, exact atomic
//! writes, exact-match edits.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use openclaw_shared::{ContentEncoding, OutcomeStatus, TaskSpec};

use crate::helpers::{claimed, exec_ctx, plan_for, run, within_limit};
use openclaw_worker::exec;
use tokio_util::sync::CancellationToken;

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
async fn a_symlink_planted_after_the_check_is_refused_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside.txt");
    fs::write(&outside, "precious").unwrap();
    let ctx = exec_ctx(dir.path());
    let task = claimed(write("link", "new", ContentEncoding::Utf8), 10_000);
    let plan = plan_for(&ctx, &task.spec);

    // Between the check and the write, a link to a file outside appears at the target.
    std::os::unix::fs::symlink(&outside, dir.path().join("link")).unwrap();
    let outcome = within_limit(exec::execute(&ctx, &task, &plan, CancellationToken::new())).await;

    assert_eq!(outcome.status, OutcomeStatus::Failed);
    assert!(outcome.error.unwrap().contains("symbolic link"));
    assert_eq!(fs::read_to_string(&outside).unwrap(), "precious");
}

#[tokio::test]
async fn a_symlink_planted_at_a_checked_read_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("secret"), "s3cret").unwrap();
    fs::write(dir.path().join("note"), "fine").unwrap();
    let ctx = exec_ctx(dir.path());
    let task = claimed(read("note"), 10_000);
    let plan = plan_for(&ctx, &task.spec);

    fs::remove_file(dir.path().join("note")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret"), dir.path().join("note")).unwrap();
    let outcome = within_limit(exec::execute(&ctx, &task, &plan, CancellationToken::new())).await;

    assert_eq!(outcome.status, OutcomeStatus::Failed);
    assert!(!outcome.stdout.contains("s3cret"));
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

    assert_ne!(outcome.status, OutcomeStatus::Succeeded);
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
