//! Tests of the audit log on real files: the tampering cases of issue 4, crash repair,
//! and what an entry must never contain.

use super::*;
use openclaw_shared::{ContentEncoding, OutcomeStatus, TaskId, TaskSpec};
use std::os::unix::fs::PermissionsExt;

use crate::policy::Verdict;

struct Files {
    _dir: tempfile::TempDir,
    log: PathBuf,
    head: PathBuf,
}

fn files() -> Files {
    let dir = tempfile::tempdir().unwrap();
    Files {
        log: dir.path().join("audit.jsonl"),
        head: dir.path().join("audit.head"),
        _dir: dir,
    }
}

fn record(command: &str) -> AuditRecord {
    let spec = TaskSpec::Command {
        command: command.into(),
        cwd: None,
    };
    let mut record = AuditRecord::new(
        TaskId::new(),
        &spec,
        Verdict::Allow,
        "commands.allow[0]",
        "allowed",
    );
    record.status = OutcomeStatus::Succeeded;
    record.exit_code = Some(0);
    record
}

/// A log with entries for `ls`, `pwd`, `date`, `whoami`, closed again.
fn four_entries(f: &Files) -> Head {
    let mut log = AuditLog::open(&f.log, &f.head).unwrap();
    let mut head = Head::empty();
    for command in ["ls", "pwd", "date", "whoami"] {
        head = log.append(&record(command)).unwrap();
    }
    head
}

fn lines(f: &Files) -> Vec<String> {
    std::fs::read_to_string(&f.log)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn rewrite(f: &Files, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(&f.log, text).unwrap();
}

fn verify_err(f: &Files, external: Option<&Head>) -> VerifyError {
    verify_files(&f.log, &f.head, external).unwrap_err()
}

#[test]
fn appended_entries_chain_and_verify() {
    let f = files();

    let head = four_entries(&f);

    let report = verify_files(&f.log, &f.head, Some(&head)).unwrap();
    assert_eq!(report.count, 4);
    assert_eq!(report.last_hash, head.last_hash);
    let entries: Vec<AuditEntry> = lines(&f)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries[0].prev, GENESIS);
    assert_eq!(entries[1].prev, line_hash(lines(&f)[0].as_bytes()));
    assert_eq!(entries[3].index, 3);
    let third = entries[2].record.asked.command.as_ref();
    assert_eq!(third.and_then(KeptText::whole), Some("date"));
    assert_eq!(Head::read(&f.head).unwrap(), Some(head));
}

#[test]
fn edited_line_is_named() {
    let f = files();
    four_entries(&f);
    let mut edited = lines(&f);
    edited[1] = edited[1].replace("\"pwd\"", "\"rm -rf ~\"");
    rewrite(&f, &edited);

    assert_eq!(verify_err(&f, None).line, 2);
}

#[test]
fn edited_last_line_is_caught_by_the_head_file() {
    let f = files();
    four_entries(&f);
    let mut edited = lines(&f);
    edited[3] = edited[3].replace("\"allow\"", "\"deny\"");
    rewrite(&f, &edited);

    let err = verify_err(&f, None);

    assert_eq!(err.line, 4, "{err}");
}

#[test]
fn reordered_lines_are_named() {
    let f = files();
    four_entries(&f);
    let mut swapped = lines(&f);
    swapped.swap(1, 2);
    rewrite(&f, &swapped);

    assert_eq!(verify_err(&f, None).line, 2);
}

#[test]
fn deleted_middle_line_is_named() {
    let f = files();
    four_entries(&f);
    let mut cut = lines(&f);
    cut.remove(1);
    rewrite(&f, &cut);

    assert_eq!(verify_err(&f, None).line, 2);
}

#[test]
fn truncated_tail_is_caught_by_the_head_file() {
    let f = files();
    four_entries(&f);
    let mut cut = lines(&f);
    cut.truncate(2);
    rewrite(&f, &cut);

    let err = verify_err(&f, None);

    assert_eq!(err.line, 3, "{err}");
    assert!(err.why.contains("tail cut"), "{err}");
}

#[test]
fn truncated_tail_with_a_rewritten_head_file_is_caught_by_the_external_head() {
    let f = files();
    let kept_by_bot = four_entries(&f);
    let mut cut = lines(&f);
    cut.truncate(2);
    rewrite(&f, &cut);
    // The attacker also fixes up the head file.
    Head {
        count: 2,
        last_hash: line_hash(cut[1].as_bytes()),
    }
    .write(&f.head)
    .unwrap();

    assert!(verify_files(&f.log, &f.head, None).is_ok());
    assert_eq!(verify_err(&f, Some(&kept_by_bot)).line, 3);
}

#[test]
fn rewritten_history_is_caught_by_an_older_external_head() {
    let f = files();
    four_entries(&f);
    let older = Head {
        count: 2,
        last_hash: line_hash(lines(&f)[1].as_bytes()),
    };
    // Rebuild the whole log with a different second entry, chain and head consistent.
    std::fs::remove_file(&f.log).unwrap();
    std::fs::remove_file(&f.head).unwrap();
    let mut forged = AuditLog::open(&f.log, &f.head).unwrap();
    for command in ["ls", "innocent", "date", "whoami"] {
        forged.append(&record(command)).unwrap();
    }

    assert!(verify_files(&f.log, &f.head, None).is_ok());
    assert_eq!(verify_err(&f, Some(&older)).line, 2);
}

#[test]
fn torn_last_line_is_named() {
    let f = files();
    four_entries(&f);
    let text = std::fs::read_to_string(&f.log).unwrap();
    std::fs::write(&f.log, &text[..text.len() - 10]).unwrap();

    assert_eq!(verify_err(&f, None).line, 4);
}

#[test]
fn open_refuses_to_extend_a_broken_log() {
    let f = files();
    four_entries(&f);
    let mut swapped = lines(&f);
    swapped.swap(0, 1);
    rewrite(&f, &swapped);

    let err = AuditLog::open(&f.log, &f.head).unwrap_err();

    assert!(
        matches!(err, AuditError::Broken(VerifyError { line: 1, .. })),
        "{err}"
    );
}

#[test]
fn open_repairs_a_head_file_one_entry_behind() {
    let f = files();
    let mut log = AuditLog::open(&f.log, &f.head).unwrap();
    log.append(&record("ls")).unwrap();
    let before_crash = std::fs::read(&f.head).unwrap();
    let head = log.append(&record("pwd")).unwrap();
    drop(log);
    // Crash after the log append, before the head write.
    std::fs::write(&f.head, before_crash).unwrap();

    let reopened = AuditLog::open(&f.log, &f.head).unwrap();

    assert_eq!(reopened.head(), &head);
    assert_eq!(Head::read(&f.head).unwrap(), Some(head));
}

#[test]
fn open_repairs_a_head_file_several_entries_behind() {
    // The head file is not synced on every append: after a power loss it may lag the log
    // by more than one entry, and the log must extend it.
    let f = files();
    let mut log = AuditLog::open(&f.log, &f.head).unwrap();
    log.append(&record("ls")).unwrap();
    let before_crash = std::fs::read(&f.head).unwrap();
    log.append(&record("pwd")).unwrap();
    let head = log.append(&record("id")).unwrap();
    drop(log);
    std::fs::write(&f.head, before_crash).unwrap();

    let reopened = AuditLog::open(&f.log, &f.head).unwrap();

    assert_eq!(reopened.head(), &head);
}

#[test]
fn open_refuses_a_head_file_the_log_does_not_extend() {
    // A head file behind the log, whose entry the log no longer holds: rewritten history.
    let f = files();
    let mut log = AuditLog::open(&f.log, &f.head).unwrap();
    log.append(&record("ls")).unwrap();
    let before = std::fs::read(&f.head).unwrap();
    log.append(&record("pwd")).unwrap();
    log.append(&record("id")).unwrap();
    drop(log);
    let mut rewritten = lines(&f);
    rewritten[0] = rewritten[0].replace("\"ls\"", "\"true\"");
    rewrite(&f, &rewritten);
    std::fs::write(&f.head, before).unwrap();

    assert!(matches!(
        AuditLog::open(&f.log, &f.head),
        Err(AuditError::Broken(_))
    ));
}

#[test]
fn open_refuses_a_log_whose_head_file_vanished() {
    let f = files();
    four_entries(&f);
    std::fs::remove_file(&f.head).unwrap();

    assert!(matches!(
        AuditLog::open(&f.log, &f.head),
        Err(AuditError::Broken(_))
    ));
}

#[test]
fn reopened_log_continues_the_chain() {
    let f = files();
    four_entries(&f);

    let mut log = AuditLog::open(&f.log, &f.head).unwrap();
    log.append(&record("uptime")).unwrap();

    assert_eq!(verify_files(&f.log, &f.head, None).unwrap().count, 5);
}

#[test]
fn a_second_writer_is_refused() {
    let f = files();
    let _first = AuditLog::open(&f.log, &f.head).unwrap();

    assert!(matches!(
        AuditLog::open(&f.log, &f.head),
        Err(AuditError::Busy(_))
    ));
}

#[test]
fn missing_log_with_missing_head_is_empty_and_fine() {
    let f = files();

    assert_eq!(verify_files(&f.log, &f.head, None).unwrap().count, 0);
    assert!(tail(&f.log, 5).unwrap().is_empty());
}

#[test]
fn tail_returns_the_last_lines_oldest_first() {
    let f = files();
    four_entries(&f);

    let last = tail(&f.log, 2).unwrap();

    assert_eq!(last, lines(&f)[2..]);
    assert_eq!(tail(&f.log, 10).unwrap().len(), 4);
    assert!(tail(&f.log, 0).unwrap().is_empty());
}

#[test]
fn entries_keep_content_as_size_and_hash_only() {
    let f = files();
    let spec = TaskSpec::FileWrite {
        path: "~/Downloads/openclaw/x".into(),
        content: "supersecret-content".into(),
        encoding: ContentEncoding::Utf8,
    };
    let mut log = AuditLog::open(&f.log, &f.head).unwrap();

    log.append(&AuditRecord::new(
        TaskId::new(),
        &spec,
        Verdict::Approve,
        "default",
        "no rule",
    ))
    .unwrap();

    let line = &lines(&f)[0];
    assert!(!line.contains("supersecret"), "{line}");
    assert!(line.contains(&line_hash(b"supersecret-content")), "{line}");
    assert!(line.contains("\"size\":19"), "{line}");
}

#[test]
fn approval_evidence_is_the_fingerprint_and_step() {
    let f = files();
    let mut entry = record("ls");
    entry.approval = Some(ApprovalRecord {
        fingerprint: "ABCD2345".into(),
        step: 56_666_666,
    });
    let mut log = AuditLog::open(&f.log, &f.head).unwrap();

    log.append(&entry).unwrap();

    let parsed: AuditEntry = serde_json::from_str(&lines(&f)[0]).unwrap();
    assert_eq!(parsed.record, entry);
}

#[test]
fn log_and_head_files_are_private() {
    let f = files();
    four_entries(&f);

    for path in [&f.log, &f.head] {
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", path.display());
    }
}

mod kept_text;
