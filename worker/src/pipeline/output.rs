//! Output kept within the cap after redaction. A stream past the cap arrives here already
//! cut to its head and tail ([`crate::exec::capture`]; `metadata.*Omitted` says so) and is
//! left alone. Any other text over the cap (redaction markers can be longer than what they
//! replace) is cut, on a character boundary, and the truncation flags say so.

use openclaw_shared::{ContentEncoding, TaskOutcome, TaskSpec};

use crate::exec::process::{OMITTED_KEYS, REDACTION_MARGIN_BYTES};

/// Cuts a process's redacted output (command and Claude tasks) to `cap` bytes per stream,
/// setting the truncation flags where it cuts. A file read's content is left alone: its
/// own limit (`max_read_bytes`) applied when it was read.
pub fn cap_output(spec: &TaskSpec, outcome: &mut TaskOutcome, cap: usize) {
    if !matches!(
        spec,
        TaskSpec::Command { .. } | TaskSpec::Claude { .. } | TaskSpec::Agent { .. }
    ) {
        return;
    }
    let [stdout_cut, stderr_cut] = OMITTED_KEYS.map(|key| outcome.metadata.contains_key(key));
    if outcome.stdout_encoding == ContentEncoding::Utf8 && !stdout_cut {
        let lost = outcome.stdout_truncated;
        outcome.stdout_truncated |= cut_redacted(&mut outcome.stdout, cap, lost);
    }
    if !stderr_cut {
        let lost = outcome.stderr_truncated;
        outcome.stderr_truncated |= cut_redacted(&mut outcome.stderr, cap, lost);
    }
}

/// Cuts redacted `text` to at most `cap` bytes, on a character boundary. When the capture
/// `lost` bytes, the text's last [`REDACTION_MARGIN_BYTES`] go too: a secret the capture
/// cut off was never seen whole, and stripping or redaction before it may have moved it
/// below the cap. Returns whether anything was cut.
pub fn cut_redacted(text: &mut String, cap: usize, lost: bool) -> bool {
    let keep = if lost {
        text.len().saturating_sub(REDACTION_MARGIN_BYTES).min(cap)
    } else {
        cap
    };
    if keep >= text.len() {
        return false;
    }
    let mut end = keep;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_within_the_cap_is_kept_whole() {
        let mut text = "x".repeat(100);

        assert!(!cut_redacted(&mut text, 100, false));
        assert_eq!(text.len(), 100);
    }

    #[test]
    fn text_past_the_cap_is_cut_on_a_character_boundary() {
        let mut text = "é".repeat(100);

        assert!(cut_redacted(&mut text, 51, false));
        assert_eq!(text, "é".repeat(25));
    }

    #[test]
    fn after_a_lossy_capture_the_unseen_tail_never_moves_below_the_cap() {
        // What a capture of cap + margin became after redaction shrank a key block by 3000
        // bytes: the partial secret the capture cut off now sits below the cap.
        let cap = 10_000;
        let partial = "AKIAQQQQ";
        let mut text = "a".repeat(cap + REDACTION_MARGIN_BYTES - 3000 - partial.len());
        text.push_str(partial);

        assert!(cut_redacted(&mut text, cap, true));
        assert!(!text.contains(partial));
        assert!(text.len() < cap);
    }

    #[test]
    fn a_file_read_is_not_cut_and_process_output_is_flagged_when_it_is() {
        let mut read = TaskOutcome::new(openclaw_shared::OutcomeStatus::Succeeded);
        read.stdout = "r".repeat(50);
        let mut run = read.clone();
        let path = TaskSpec::FileRead { path: "x".into() };
        let command = TaskSpec::Command {
            command: "x".into(),
            cwd: None,
        };

        cap_output(&path, &mut read, 10);
        cap_output(&command, &mut run, 10);

        assert_eq!((read.stdout.len(), read.stdout_truncated), (50, false));
        assert_eq!((run.stdout.len(), run.stdout_truncated), (10, true));
    }
}
