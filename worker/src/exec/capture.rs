//! Output captured from one stream of a task's process. A stream within the cap
//! (`max_output_bytes`) is kept whole. Past it, the result keeps its head and its tail: the
//! first [`head_bytes`] (64 KiB, or a quarter of a smaller cap) and the last rest of the
//! cap, both cut at line breaks where one is near, with a marker line between them that
//! counts the bytes left out. People read the end of a long log; the head shows how it
//! started.
//!
//! Both parts are captured with [`REDACTION_MARGIN_BYTES`] more on their inner side, and
//! are redacted together with that margin ([`crate::redact::stream`]), so a secret that
//! straddles a cut is hidden, not shown in part.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::redact::stream::{redact_after, redact_before};
use crate::redact::{Redactions, Redactor};

/// Bytes captured past each cut, per stream, so a secret that straddles it is seen whole.
/// A secret longer than this (escapes included) can still be cut.
pub const REDACTION_MARGIN_BYTES: usize = 4 * 1024;
/// Most of a long stream's head the result keeps.
pub const HEAD_BYTES: usize = 64 * 1024;
/// Room left in the cap for the marker line between head and tail.
const MARKER_ROOM: usize = 64;
/// How far from a cut a line break is looked for, to cut there instead: at most this, and
/// at most an eighth of the part kept (a long last line is cut rather than lost).
const LINE_SEARCH_BYTES: usize = 4 * 1024;

/// Where the bytes of a stream also go as they are read (live output).
pub type Tee = Box<dyn FnMut(&[u8]) + Send>;

/// How much of a long stream's start the result keeps: 64 KiB, or a quarter of a smaller cap.
pub fn head_bytes(cap: usize) -> usize {
    HEAD_BYTES.min(cap / 4)
}

/// How much of a long stream's end the result keeps: the rest of the cap.
pub fn tail_bytes(cap: usize) -> usize {
    cap.saturating_sub(head_bytes(cap) + MARKER_ROOM.min(cap / 8))
}

/// A stream's bytes as captured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// The stream's first bytes: all of them when it had at most cap + margin bytes, else
    /// the head and its margin.
    pub bytes: Vec<u8>,
    /// When the stream had more than cap + margin bytes: its last bytes (the tail and its
    /// margin); empty otherwise.
    pub tail: Vec<u8>,
    /// How many bytes the stream had.
    pub total: u64,
    /// The cap the capture was made for.
    pub cap: usize,
}

/// How a long stream was cut, in the stream's own bytes (before redaction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Omission {
    /// Bytes of the stream's start that were kept.
    pub head_bytes: u64,
    /// Bytes between head and tail that were left out.
    pub omitted_bytes: u64,
    /// Bytes of the stream's end that were kept.
    pub tail_bytes: u64,
}

/// A captured stream as the text a result carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapturedText {
    /// The text: whole, or head, marker line and tail.
    pub text: String,
    /// How it was cut, if it was.
    pub omission: Option<Omission>,
    /// Secrets replaced while cutting (the pipeline redacts the whole text again; it finds
    /// these already replaced).
    pub redactions: Redactions,
}

impl Captured {
    /// The stream went past the cap, so the result has its head and tail only.
    pub fn is_cut(&self) -> bool {
        self.total > self.cap as u64
    }

    /// The output as text: whole when within the cap, otherwise head, the marker line
    /// `… N bytes omitted …` and tail, each redacted with the margin next to its cut when
    /// `redactor` is given (the pipeline redacts the whole text later either way). Invalid
    /// UTF-8 becomes U+FFFD.
    pub fn into_text(self, redactor: Option<&Redactor>) -> CapturedText {
        if !self.is_cut() {
            return CapturedText {
                text: lossy(&self.bytes),
                ..CapturedText::default()
            };
        }
        let (tail_src, tail_offset) = if self.tail.is_empty() {
            (&self.bytes, 0)
        } else {
            (&self.tail, self.total - self.tail.len() as u64)
        };
        let head_end = cut_head(&self.bytes, head_bytes(self.cap));
        let wanted = (self.total - tail_bytes(self.cap) as u64).saturating_sub(tail_offset);
        let search = LINE_SEARCH_BYTES.min(tail_bytes(self.cap) / 8);
        let tail_start = cut_tail(
            tail_src,
            usize::try_from(wanted).unwrap_or(usize::MAX),
            search,
        );
        let head = lossy(&self.bytes[..head_end]);
        let after =
            lossy(&self.bytes[head_end..(head_end + REDACTION_MARGIN_BYTES).min(self.bytes.len())]);
        let before =
            lossy(&tail_src[tail_start.saturating_sub(REDACTION_MARGIN_BYTES)..tail_start]);
        let tail = lossy(&tail_src[tail_start..]);
        let mut redactions = Redactions::default();
        let (head, tail) = match redactor {
            Some(redactor) => {
                let (head, found) = redact_before(&head, &after, redactor);
                redactions.merge(&found);
                let (tail, found) = redact_after(&before, &tail, redactor);
                redactions.merge(&found);
                (head, tail)
            }
            None => (head, tail),
        };
        let tail_at = tail_offset + tail_start as u64;
        let omission = Omission {
            head_bytes: head_end as u64,
            omitted_bytes: tail_at - head_end as u64,
            tail_bytes: self.total - tail_at,
        };
        let mut text = head;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&marker(omission.omitted_bytes));
        text.push_str(&tail);
        CapturedText {
            text,
            omission: Some(omission),
            redactions,
        }
    }
}

/// The line between head and tail.
pub fn marker(omitted: u64) -> String {
    format!("… {omitted} bytes omitted …\n")
}

/// Where the head ends: after the last line break within [`LINE_SEARCH_BYTES`] (or an
/// eighth of `keep`) before `keep`, else at `keep` moved back to a character boundary.
fn cut_head(bytes: &[u8], keep: usize) -> usize {
    let keep = keep.min(bytes.len());
    let from = keep.saturating_sub(LINE_SEARCH_BYTES.min(keep / 8));
    if let Some(i) = bytes[from..keep].iter().rposition(|&b| b == b'\n') {
        return from + i + 1;
    }
    let mut end = keep;
    while end > 0 && is_continuation(bytes[end]) {
        end -= 1;
    }
    end
}

/// Where the tail starts: after the first line break within `search` bytes from `from`,
/// else at `from` moved on to a character boundary.
fn cut_tail(bytes: &[u8], from: usize, search: usize) -> usize {
    let from = from.min(bytes.len());
    let to = (from + search).min(bytes.len());
    // A tail that starts right after a break is already at a line start.
    if from == 0 || bytes[from - 1] == b'\n' {
        return from;
    }
    if let Some(i) = bytes[from..to].iter().position(|&b| b == b'\n') {
        return from + i + 1;
    }
    let mut start = from;
    while start < bytes.len() && is_continuation(bytes[start]) {
        start += 1;
    }
    start
}

fn is_continuation(byte: u8) -> bool {
    byte & 0b1100_0000 == 0b1000_0000
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Collects a stream's bytes as they are read: everything up to cap + margin, then the head
/// (with its margin) and a ring of the last bytes (the tail with its margin).
#[derive(Debug)]
pub struct Capture {
    captured: Captured,
    ring: Option<VecDeque<u8>>,
}

impl Capture {
    /// A capture for a stream capped at `cap` bytes.
    pub fn new(cap: usize) -> Self {
        Self {
            captured: Captured {
                cap,
                ..Captured::default()
            },
            ring: None,
        }
    }

    /// Takes the next bytes read.
    pub fn push(&mut self, chunk: &[u8]) {
        let captured = &mut self.captured;
        captured.total += chunk.len() as u64;
        let whole = captured.cap.saturating_add(REDACTION_MARGIN_BYTES);
        let ring_len = tail_bytes(captured.cap) + REDACTION_MARGIN_BYTES;
        let mut rest = chunk;
        if self.ring.is_none() {
            let room = whole.saturating_sub(captured.bytes.len()).min(rest.len());
            captured.bytes.extend_from_slice(&rest[..room]);
            rest = &rest[room..];
            if rest.is_empty() {
                return;
            }
            // Past cap + margin: keep the head and its margin, the rest starts the ring.
            let head_len =
                (head_bytes(captured.cap) + REDACTION_MARGIN_BYTES).min(captured.bytes.len());
            let mut ring = VecDeque::with_capacity(ring_len);
            ring.extend(captured.bytes.drain(head_len..));
            self.ring = Some(ring);
        }
        if let Some(ring) = &mut self.ring {
            let rest = &rest[rest.len().saturating_sub(ring_len)..];
            ring.extend(rest);
            let excess = ring.len().saturating_sub(ring_len);
            ring.drain(..excess);
        }
    }

    /// What was captured.
    pub fn finish(mut self) -> Captured {
        if let Some(ring) = self.ring {
            self.captured.tail = ring.into();
        }
        self.captured
    }
}

/// A capture fed whole, for tests.
#[cfg(test)]
pub(crate) fn captured(bytes: &[u8], cap: usize) -> Captured {
    let mut capture = Capture::new(cap);
    for chunk in bytes.chunks(16 * 1024) {
        capture.push(chunk);
    }
    capture.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(n: u32) -> Vec<u8> {
        (1..=n)
            .map(|i| format!("{i}\n"))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn a_stream_within_the_cap_is_kept_whole() {
        let out = captured(b"one\ntwo\n", 100).into_text(None);

        assert_eq!(out.text, "one\ntwo\n");
        assert_eq!(out.omission, None);
    }

    #[test]
    fn a_long_stream_keeps_its_head_and_its_real_end_and_counts_what_is_left_out() {
        let bytes = seq(200_000);
        let cap = 1024 * 1024;

        let out = captured(&bytes, cap).into_text(None);

        let omission = out.omission.unwrap();
        assert!(out.text.starts_with("1\n2\n"));
        assert!(out.text.ends_with("\n199999\n200000\n"));
        assert_eq!(
            omission.head_bytes + omission.omitted_bytes + omission.tail_bytes,
            bytes.len() as u64
        );
        let (head, rest) = out.text.split_once("bytes omitted …\n").unwrap();
        let head = head.rsplit_once('…').unwrap().0;
        assert_eq!(head.len() as u64, omission.head_bytes);
        assert_eq!(rest.len() as u64, omission.tail_bytes);
        assert!(head.ends_with('\n') && rest.starts_with(|c: char| c.is_ascii_digit()));
        assert!(omission.head_bytes <= HEAD_BYTES as u64);
        assert!(out.text.len() <= cap);
    }

    #[test]
    fn just_over_the_cap_is_cut_the_same_way() {
        let bytes = seq(30);
        let cap = 40;

        let out = captured(&bytes, cap).into_text(None);

        let omission = out.omission.unwrap();
        assert!(out.text.ends_with("30\n"), "{}", out.text);
        assert_eq!(
            omission.head_bytes + omission.omitted_bytes + omission.tail_bytes,
            bytes.len() as u64
        );
    }

    #[test]
    fn a_secret_straddling_the_tail_cut_is_not_shown_in_part() {
        let redactor = Redactor::new(Vec::<String>::new()).unwrap();
        let token = format!("ghp_{}", "b".repeat(36));
        let mut bytes = "x".repeat(200_000).into_bytes();
        // No line break near the cut: it falls inside the token.
        let at = bytes.len() - tail_bytes(100_000) - 10;
        bytes.splice(at..at, format!(" {token} ").into_bytes());

        let out = captured(&bytes, 100_000).into_text(Some(&redactor));

        assert!(!out.text.contains("bbbbbbbbbb"), "part of the token shown");
    }
}
