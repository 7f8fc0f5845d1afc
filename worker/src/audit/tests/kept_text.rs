//! Tests of long text in audit entries: kept as prefix + size + hash, and entries written
//! before that still read and verify.

use super::*;

#[test]
fn a_long_command_is_kept_as_its_prefix_size_and_hash() {
    let f = files();
    let command = format!("echo {}", "é".repeat(3000));
    let mut log = AuditLog::open(&f.log, &f.head).unwrap();

    let head = log.append(&record(&command)).unwrap();

    let line = &lines(&f)[0];
    assert!(
        line.len() < 2 * entry::MAX_KEPT_TEXT_BYTES,
        "{} bytes",
        line.len()
    );
    let parsed: AuditEntry = serde_json::from_str(line).unwrap();
    let Some(KeptText::Long {
        prefix,
        size,
        sha256,
    }) = parsed.record.asked.command
    else {
        panic!("not shortened: {line}");
    };
    assert!(command.starts_with(&prefix));
    assert!(prefix.len() <= entry::KEPT_PREFIX_BYTES && prefix.len() > 200);
    assert_eq!(size, command.len() as u64);
    assert_eq!(sha256, line_hash(command.as_bytes()));
    assert!(verify_files(&f.log, &f.head, Some(&head)).is_ok());
}

#[test]
fn a_long_prompt_and_a_long_reason_are_shortened_too() {
    let prompt = "p".repeat(5000);
    let spec = TaskSpec::Claude {
        prompt: prompt.clone(),
        session: None,
        cwd: None,
    };

    let record = AuditRecord::new(TaskId::new(), &spec, Verdict::Deny, "r", &prompt);

    assert!(matches!(
        record.asked.prompt,
        Some(KeptText::Long { size: 5000, .. })
    ));
    assert!(matches!(record.reason, KeptText::Long { size: 5000, .. }));
    let text = serde_json::to_string(&record).unwrap();
    assert!(!text.contains(&prompt[..1000]), "{} bytes", text.len());
}

#[test]
fn a_command_at_the_limit_is_kept_whole_as_a_plain_string() {
    let command = "x".repeat(entry::MAX_KEPT_TEXT_BYTES);

    let record = record(&command);

    let json = serde_json::to_value(&record).unwrap();
    assert_eq!(json["asked"]["command"], serde_json::json!(command));
}

#[test]
fn entries_written_before_long_text_was_shortened_still_verify_and_read() {
    let f = files();
    // An entry exactly as the previous version wrote it.
    let old = format!(
        r#"{{"index":0,"prev":"{GENESIS}","time_ms":1,"task_id":"{}","kind":"command","asked":{{"command":"ls -la","cwd":"/tmp"}},"verdict":"allow","rule":"commands.allow[0]","reason":"allowed","status":"succeeded","exit_code":0,"bytes_uploaded":3,"redactions":0}}"#,
        TaskId::new()
    );
    std::fs::write(&f.log, format!("{old}\n")).unwrap();
    let old_head = Head {
        count: 1,
        last_hash: line_hash(old.as_bytes()),
    };
    old_head.write(&f.head).unwrap();

    let mut log = AuditLog::open(&f.log, &f.head).unwrap();
    let head = log.append(&record(&"y".repeat(2000))).unwrap();

    assert_eq!(
        verify_files(&f.log, &f.head, Some(&old_head))
            .unwrap()
            .count,
        2
    );
    assert_eq!(head.count, 2);
    let parsed: AuditEntry = serde_json::from_str(&old).unwrap();
    assert_eq!(
        parsed
            .record
            .asked
            .command
            .as_ref()
            .and_then(KeptText::whole),
        Some("ls -la")
    );
    assert_eq!(parsed.record.reason.whole(), Some("allowed"));
}
