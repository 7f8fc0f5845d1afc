//! Unit tests of the result and progress messages.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use openclaw_shared::{ContentEncoding, OutcomeStatus, TaskOutcome, TaskSpec, TaskStatus};
use serde_json::json;

use super::text::chars;
use super::*;
use crate::queue::{Task, TaskBrief};

/// A task as the queue stores it; one place to follow changes to `Task`.
pub(crate) fn sample_task(spec: TaskSpec, status: TaskStatus) -> Task {
    Task {
        id: "6f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11".parse().unwrap(),
        spec,
        status,
        timeout: Duration::from_secs(30),
        target_worker: None,
        worker: Some("mac".into()),
        origin: None,
        owner: None,
        priority: crate::queue::Priority::default(),
        cancel_requested: false,
        created_at: 1_700_000_000_000,
        started_at: None,
        completed_at: None,
        outcome: None,
        approval: None,
    }
}

/// The brief a list reads of [`sample_task`].
pub(crate) fn sample_brief(spec: TaskSpec, status: TaskStatus) -> TaskBrief {
    let task = sample_task(spec, status);
    TaskBrief {
        id: task.id,
        kind: task.spec.kind(),
        status: task.status,
        summary: TaskBrief::summary_of(&task.spec),
        target_worker: task.target_worker,
        worker: task.worker,
        created_at: task.created_at,
        completed_at: task.completed_at,
        exit_code: None,
        owner: task.owner,
    }
}

fn command(command: &str) -> TaskSpec {
    TaskSpec::Command {
        command: command.into(),
        cwd: None,
    }
}

fn finished(spec: TaskSpec, outcome: TaskOutcome) -> Task {
    let mut task = sample_task(spec, outcome.status.into());
    task.outcome = Some(outcome);
    task
}

fn succeeded(stdout: &str) -> TaskOutcome {
    TaskOutcome {
        stdout: stdout.into(),
        exit_code: Some(0),
        duration_ms: 12,
        ..TaskOutcome::new(OutcomeStatus::Succeeded)
    }
}

#[test]
fn a_short_result_has_header_facts_and_one_code_block() {
    let task = finished(command("echo hi"), succeeded("hi\n"));

    let rendered = result(&task, Vec::new(), ResultOptions::default());

    assert_eq!(
        rendered.content,
        "✅ `echo hi`\n-# succeeded · exit 0 · 12 ms · on `mac`\n```\nhi\n```"
    );
    assert!(rendered.files.is_empty());
}

#[test]
fn a_failure_shows_exit_code_error_and_stderr_after_stdout() {
    let outcome = TaskOutcome {
        stdout: "partial".into(),
        stderr: "boom\n".into(),
        exit_code: Some(2),
        error: Some("exited with 2".into()),
        ..TaskOutcome::new(OutcomeStatus::Failed)
    };
    let task = finished(command("make"), outcome);

    let content = result(&task, Vec::new(), ResultOptions::default()).content;

    assert!(content.starts_with("❌ `make`\n-# failed · exit 2 · on `mac`\n⚠️ `exited with 2`"));
    assert!(
        content.contains("```\npartial\n── stderr ──\nboom\n```"),
        "{content}"
    );
}

#[test]
fn a_signal_death_and_a_timeout_are_named() {
    let outcome = TaskOutcome {
        exit_code: Some(143),
        signal: Some(15),
        duration_ms: 30_000,
        ..TaskOutcome::new(OutcomeStatus::TimedOut)
    };
    let task = finished(command("sleep 100"), outcome);

    let content = result(&task, Vec::new(), ResultOptions::default()).content;

    assert!(
        content.contains("-# timed out · killed by SIGTERM · limit 30.0 s · 30.0 s · on `mac`"),
        "{content}"
    );
    assert!(content.contains("-# no output"));
}

#[test]
fn long_output_keeps_its_tail_within_the_limit_and_attaches_the_whole() {
    let stdout: String = (0..2000).map(|i| format!("line {i}\n")).collect();
    let task = finished(command("seq"), succeeded(&stdout));

    let rendered = result(&task, Vec::new(), ResultOptions::default());

    assert!(chars(&rendered.content) <= MESSAGE_LIMIT);
    assert!(
        rendered.content.contains("line 1999\n```"),
        "the tail is kept"
    );
    assert!(!rendered.content.contains("line 0\n"));
    assert!(rendered.content.contains("output trimmed"));
    assert_eq!(rendered.files.len(), 1);
    assert_eq!(rendered.files[0].name, OUTPUT_FILE);
    assert_eq!(rendered.files[0].bytes, stdout.as_bytes());
}

#[test]
fn a_smaller_budget_is_respected_for_every_kind_of_output() {
    let big = "`@everyone`\n".repeat(500);
    let cases = [
        finished(command(&"c".repeat(5000)), succeeded(&big)),
        finished(
            TaskSpec::FileRead {
                path: format!("/{}", "n".repeat(300)),
            },
            succeeded(&big),
        ),
    ];
    for task in &cases {
        for budget in [MESSAGE_LIMIT, 1900, 600] {
            let options = ResultOptions {
                budget,
                files_allowed: true,
            };

            let content = result(task, Vec::new(), options).content;

            assert!(chars(&content) <= budget, "{budget}: {}", chars(&content));
            assert_eq!(content.matches("```").count() % 2, 0, "{content}");
        }
    }
}

#[test]
fn fences_in_output_cannot_close_the_block() {
    let task = finished(command("cat evil"), succeeded("```\n@everyone\n```\n"));

    let content = result(&task, Vec::new(), ResultOptions::default()).content;

    assert_eq!(content.matches("```").count(), 2, "{content}");
    assert!(content.contains("@everyone"));
}

#[test]
fn a_short_text_file_is_shown_inline_without_attachment() {
    let spec = TaskSpec::FileRead {
        path: "/tmp/notes.txt".into(),
    };
    let task = finished(spec, succeeded("remember the milk\n"));

    let rendered = result(&task, Vec::new(), ResultOptions::default());

    assert!(rendered.content.contains("```\nremember the milk\n```"));
    assert!(rendered.files.is_empty());
}

#[test]
fn a_binary_file_is_attached_under_its_own_name() {
    let bytes = vec![0_u8, 159, 146, 150, 255];
    let outcome = TaskOutcome {
        stdout: STANDARD.encode(&bytes),
        stdout_encoding: ContentEncoding::Base64,
        ..succeeded("")
    };
    let spec = TaskSpec::FileRead {
        path: "/Users/me/photo.bin".into(),
    };

    let rendered = result(
        &finished(spec, outcome),
        Vec::new(),
        ResultOptions::default(),
    );

    assert_eq!(
        rendered.files,
        [FileOut {
            name: "photo.bin".into(),
            bytes
        }]
    );
    assert!(rendered
        .content
        .contains("binary file, 5 B; attached as `photo.bin`"));
    assert!(!rendered.content.contains("```"));
}

#[test]
fn a_read_file_the_worker_altered_says_so_and_redacted_output_is_counted() {
    let mut altered = TaskOutcome {
        stdout: STANDARD.encode([0_u8, 255, 1]),
        stdout_encoding: ContentEncoding::Base64,
        ..succeeded("")
    };
    altered.metadata.insert("redactions".into(), json!(2));
    altered.metadata.insert("altered".into(), json!(true));
    let mut output = succeeded("token [REDACTED:github_token]\n");
    output.metadata.insert("redactions".into(), json!(1));
    let read = TaskSpec::FileRead {
        path: "/Users/me/tool.bin".into(),
    };

    let file = result(
        &finished(read, altered),
        Vec::new(),
        ResultOptions::default(),
    );
    let run = result(
        &finished(command("env"), output),
        Vec::new(),
        ResultOptions::default(),
    );
    let clean = result(
        &finished(command("ls"), succeeded("a\n")),
        Vec::new(),
        ResultOptions::default(),
    );

    assert!(
        file.content
            .contains("the worker redacted 2 secrets: this is NOT the file's exact content"),
        "{}",
        file.content
    );
    assert!(run
        .content
        .contains("the worker redacted 1 secret from the output"));
    assert!(!clean.content.contains("redacted"));
}

#[test]
fn a_long_text_file_gets_a_preview_and_the_attachment() {
    let text = "word ".repeat(1000);
    let spec = TaskSpec::FileRead {
        path: "big.txt".into(),
    };

    let rendered = result(
        &finished(spec, succeeded(&text)),
        Vec::new(),
        ResultOptions::default(),
    );

    assert!(rendered.content.contains("```\nword word"));
    assert!(rendered.content.contains("first"));
    assert_eq!(rendered.files[0].name, "big.txt");
    assert_eq!(rendered.files[0].bytes, text.as_bytes());
}

#[test]
fn screenshots_are_attached_and_a_missing_one_is_mentioned() {
    let mut outcome = succeeded("done\n");
    outcome
        .metadata
        .insert("screenshotPath".into(), json!("/tmp/shot.png"));
    let task = finished(
        TaskSpec::Claude {
            prompt: "take a screenshot".into(),
            session: None,
            cwd: None,
        },
        outcome,
    );
    let image = FileOut {
        name: "shot.png".into(),
        bytes: vec![0x89, b'P', b'N', b'G'],
    };

    let with = result(&task, vec![image.clone()], ResultOptions::default());
    let without = result(&task, Vec::new(), ResultOptions::default());

    assert_eq!(with.files, [image]);
    assert!(!with.content.contains("not uploaded"));
    assert!(without
        .content
        .contains("screenshot `/tmp/shot.png` was not uploaded"));
}

#[test]
fn without_files_the_message_says_where_the_rest_is() {
    let stdout = "x\n".repeat(3000);
    let task = finished(command("yes"), succeeded(&stdout));
    let options = ResultOptions {
        budget: MESSAGE_LIMIT,
        files_allowed: false,
    };

    let rendered = result(&task, Vec::new(), options);

    assert!(rendered.files.is_empty());
    assert!(rendered.content.contains("too large for Discord"));
    assert!(rendered
        .content
        .contains("full output in `/tasks` and the API"));
}

#[test]
fn progress_lines_follow_the_task() {
    let mut task = sample_task(command("make"), TaskStatus::Queued);
    task.worker = None;

    assert_eq!(
        progress(&task, None),
        "⏳ `make`\n-# queued · waiting for a worker"
    );
    task.target_worker = Some("mini".into());
    assert_eq!(
        progress(&task, None),
        "⏳ `make`\n-# queued · waiting for `mini`"
    );
    task.status = TaskStatus::Running;
    task.worker = Some("mini".into());
    assert_eq!(progress(&task, None), "⚙️ `make`\n-# running on `mini`…");
}

#[test]
fn an_approval_request_names_the_fingerprint_and_a_refusal_its_reason() {
    let mut task = sample_task(command("rm -rf build"), TaskStatus::AwaitingApproval);
    task.approval = Some(crate::queue::PendingApproval {
        fingerprint: "ABCD2345".into(),
        summary: "/bin/rm -rf build".into(),
        expires_at: 0,
    });

    let line = progress(&task, Some("wrong code"));

    assert!(line.starts_with("🔐 `rm -rf build`\n-# waiting for your approval on `mac`: it will run `/bin/rm -rf build`"), "{line}");
    assert!(line.contains("`/approve ABCD2345 <code>`"), "{line}");
    assert!(
        line.ends_with("⚠️ approval refused: `wrong code`"),
        "{line}"
    );
}

#[test]
fn a_stream_the_worker_cut_is_described_as_it_was_cut() {
    let mut outcome = succeeded(&"x\n".repeat(2000));
    outcome.stdout_truncated = true;
    outcome.metadata.insert(
        "stdoutOmitted".into(),
        json!({"headBytes": 65_536, "omittedBytes": 240_000, "tailBytes": 983_000}),
    );
    let task = finished(command("seq 1 200000"), outcome);

    let content = result(&task, Vec::new(), ResultOptions::default()).content;

    assert!(
        content.contains(
            "stdout was 1.2 MiB: the worker kept the first 64.0 KiB and the last 959.9 KiB; \
         234.3 KiB in between were left out"
        ),
        "{content}"
    );
    assert!(
        content.contains("`output.txt` holds all the worker kept"),
        "{content}"
    );
    assert!(!content.contains("full output"), "{content}");
}

#[test]
fn a_running_tasks_progress_shows_the_end_of_its_live_output_in_a_block() {
    let mut task = sample_task(command("make"), TaskStatus::Running);
    task.worker = Some("mac".into());
    let live: String = (0..500).map(|i| format!("step {i}\n")).collect::<String>() + "```\n";

    let content = progress_with_output(&task, &live);

    assert!(
        content.starts_with("⚙️ `make`\n-# running on `mac`…\n```\n"),
        "{content}"
    );
    assert!(content.contains("step 499\n"));
    assert!(!content.contains("step 0\n"));
    assert!(chars(&content) <= MESSAGE_LIMIT);
    assert_eq!(content.matches("```").count(), 2, "{content}");
}
