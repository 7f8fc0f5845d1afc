//! Redaction of text cut out of a longer stream: the head of a long output (cut before its
//! end), its tail (cut after its start), and live output sent a piece at a time. A secret
//! may straddle any of those cuts, so each piece is redacted together with the text next to
//! it, and only the piece's own part of the result is kept: a secret the patterns see whole
//! across a cut is hidden on both sides of it.
//!
//! [`LiveRedactor`] holds back the last, unfinished line of a stream (no pattern but a
//! private key block spans a line break) and keeps the last [`CONTEXT_BYTES`] it let go as
//! context for the next piece; an open private key block is kept as context until its end
//! line, so its body never goes out.

use super::{redact, Redactions, Redactor};

/// Text already let go that the next piece is redacted after (4 KiB, the capture's margin):
/// a secret that starts this far back and ends in the next piece is still seen whole.
pub const CONTEXT_BYTES: usize = 4 * 1024;
/// Longest unfinished line held back waiting for its end; past it the line goes out in
/// pieces (keeping this much back), so a stream without line breaks still shows.
pub const MAX_HELD_LINE_BYTES: usize = 8 * 1024;
/// Longest context kept for an open private key block (its body is never sent).
const MAX_KEY_CONTEXT_BYTES: usize = 64 * 1024;
/// How an open private key block starts and ends (the patterns' own markers).
const KEY_BEGIN: &str = "-----BEGIN";
const KEY_END: &str = "-----END";
/// The context after a skip: the opening of a key block the skipped bytes may have held.
const SKIPPED_KEY_BEGIN: &str = "-----BEGIN PRIVATE KEY-----\n";

/// `text` redacted as it reads when `after` follows it (the head of an output cut before
/// its end): a secret that starts in `text` and runs on into `after` is cut off before it
/// starts rather than shown in part. Returns the text and the secrets replaced in it.
pub fn redact_before(text: &str, after: &str, redactor: &Redactor) -> (String, Redactions) {
    let (alone, counts) = redact(text, redactor);
    if after.is_empty() {
        return (alone, counts);
    }
    let (joined, _) = redact(&format!("{text}{after}"), redactor);
    if joined.starts_with(&alone) {
        return (alone, counts);
    }
    let common = common_prefix(&alone, &joined);
    (alone[..common].to_owned(), counts)
}

/// `text` redacted as it reads after `before` (the tail of an output, or the next piece of
/// a live stream): the part of the redaction of `before + text` that is not the redaction
/// of `before`. A secret that starts in `before` and ends in `text` is hidden in both.
/// Returns the text and the secrets newly replaced in it.
pub fn redact_after(before: &str, text: &str, redactor: &Redactor) -> (String, Redactions) {
    if before.is_empty() {
        return redact(text, redactor);
    }
    let (earlier, counted) = redact(before, redactor);
    let (joined, counts) = redact(&format!("{before}{text}"), redactor);
    let start = if joined.starts_with(&earlier) {
        earlier.len()
    } else {
        common_prefix(&earlier, &joined)
    };
    (joined[start..].to_owned(), counts.since(&counted))
}

/// Bytes `a` and `b` share at their start, cut back to a character boundary.
fn common_prefix(a: &str, b: &str) -> usize {
    let mut n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    while !a.is_char_boundary(n) {
        n -= 1;
    }
    n
}

/// Redacts one stream of live output piece by piece (see the module docs). Feed it bytes as
/// they come with [`LiveRedactor::push`]; [`LiveRedactor::take`] gives what may go out now.
#[derive(Debug, Default)]
pub struct LiveRedactor {
    /// The raw text already let go that the next piece is redacted after.
    context: String,
    /// Raw text not let go yet.
    pending: String,
    /// The start of a character split across two pushes.
    partial: Vec<u8>,
}

impl LiveRedactor {
    /// A redactor for a stream not yet begun.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes read from the stream. Invalid UTF-8 becomes U+FFFD; a character split
    /// across two pushes is joined.
    pub fn push(&mut self, bytes: &[u8]) {
        self.partial.extend_from_slice(bytes);
        let valid = match std::str::from_utf8(&self.partial) {
            Ok(_) => self.partial.len(),
            // Ends inside a character: keep its start for the next push.
            Err(err) if err.error_len().is_none() => err.valid_up_to(),
            Err(_) => self.partial.len(),
        };
        let rest = self.partial.split_off(valid);
        self.pending
            .push_str(&String::from_utf8_lossy(&self.partial));
        self.partial = rest;
    }

    /// Raw bytes waiting (not yet redacted and let go).
    pub fn pending_len(&self) -> usize {
        self.pending.len() + self.partial.len()
    }

    /// Forgets what is pending and the context (the reader skipped bytes it could not keep
    /// up with). The skipped bytes may have opened a private key block (or one was open
    /// already), so what follows is taken as its body until an end line, or until it is
    /// longer than any key (64 KiB): live output may hide more than it
    /// must after a skip, never a key's body.
    pub fn skip(&mut self) {
        self.pending.clear();
        self.partial.clear();
        self.context = SKIPPED_KEY_BEGIN.to_owned();
    }

    /// The redacted text that may go out now: the finished lines, or everything once
    /// `finished` (the stream ended). Empty when nothing is due or when a secret may run
    /// across the end of what is due (it waits for more).
    pub fn take(&mut self, redactor: &Redactor, finished: bool) -> (String, Redactions) {
        if finished && !self.partial.is_empty() {
            let rest = std::mem::take(&mut self.partial);
            self.pending.push_str(&String::from_utf8_lossy(&rest));
        }
        let cut = if finished {
            self.pending.len()
        } else {
            self.cut()
        };
        if cut == 0 {
            return (String::new(), Redactions::default());
        }
        let (due, held) = self.pending.split_at(cut);
        let (text, counts) = redact_after(&self.context, due, redactor);
        if !finished && !held.is_empty() {
            // A secret running on past the cut would read differently with what follows.
            // Whatever is held, and however long the line: a cut inside a long line falls
            // anywhere (no single-line secret is longer than the window looked at).
            let mut window = held.len().min(CONTEXT_BYTES);
            while !held.is_char_boundary(window) {
                window -= 1;
            }
            let whole = format!("{due}{}", &held[..window]);
            let (later, _) = redact_after(&self.context, &whole, redactor);
            if !later.starts_with(&text) {
                return (String::new(), Redactions::default());
            }
        }
        let mut context = std::mem::take(&mut self.context);
        context.push_str(due);
        self.context = trim_context(context);
        self.pending = self.pending.split_off(cut);
        (text, counts)
    }

    /// Where the text due now ends: after the last line break, or for a line too long to
    /// wait for, [`MAX_HELD_LINE_BYTES`] before the end (0: nothing due).
    fn cut(&self) -> usize {
        let len = self.pending.len();
        let mut cut = self.pending.rfind('\n').map_or(0, |i| i + 1);
        if len - cut > MAX_HELD_LINE_BYTES {
            cut = len - MAX_HELD_LINE_BYTES / 2;
            while !self.pending.is_char_boundary(cut) {
                cut -= 1;
            }
        }
        cut
    }
}

/// The last [`CONTEXT_BYTES`] of `context` (from a character boundary), or from the start
/// of a private key block still open, up to [`MAX_KEY_CONTEXT_BYTES`].
fn trim_context(context: String) -> String {
    let open_key = context
        .rfind(KEY_BEGIN)
        .filter(|&begin| !context[begin..].contains(KEY_END));
    let mut start = match open_key {
        Some(begin) => begin.max(context.len().saturating_sub(MAX_KEY_CONTEXT_BYTES)),
        None => context.len().saturating_sub(CONTEXT_BYTES),
    };
    while !context.is_char_boundary(start) {
        start += 1;
    }
    context[start..].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain() -> Redactor {
        Redactor::new(Vec::<String>::new()).unwrap()
    }

    // Built at run time so no literal token sits in the source for scanners to flag.
    fn token() -> String {
        format!("ghp_{}", "a".repeat(36))
    }

    /// Everything a live redactor lets go, fed `pieces` one at a time.
    fn stream(pieces: &[&[u8]]) -> Vec<String> {
        let redactor = plain();
        let mut live = LiveRedactor::new();
        let mut sent = Vec::new();
        for piece in pieces {
            live.push(piece);
            sent.push(live.take(&redactor, false).0);
        }
        sent.push(live.take(&redactor, true).0);
        sent
    }

    #[test]
    fn a_token_split_across_pieces_never_goes_out_in_part() {
        let line = format!("key {}\nnext\n", token());
        let (a, b) = line.as_bytes().split_at(10);

        let sent = stream(&[a, b]);

        let all = sent.concat();
        assert_eq!(all, "key [REDACTED:github_token]\nnext\n");
        assert!(sent.iter().all(|piece| !piece.contains("ghp_")));
    }

    #[test]
    fn a_token_across_the_cut_of_a_long_line_never_goes_out_in_part() {
        // The cut of a line too long to hold falls MAX_HELD_LINE_BYTES / 2 before what was
        // read: put a token across it, with more than 2 × MAX_HELD_LINE_BYTES waiting.
        let before = "x".repeat(4 * MAX_HELD_LINE_BYTES - MAX_HELD_LINE_BYTES / 2 - 20);
        let line = format!("{before} {} ", token());
        let first = format!("{line}{}", "y".repeat(MAX_HELD_LINE_BYTES / 2 - 22));

        let sent = stream(&[first.as_bytes(), b"\nend\n"]);

        assert!(
            sent.iter().all(|piece| !piece.contains("ghp_")),
            "a piece carried part of the token"
        );
        assert!(sent.concat().contains("[REDACTED:github_token]"));
    }

    #[test]
    fn a_key_body_after_a_skip_that_took_its_begin_line_is_never_sent() {
        let redactor = plain();
        let mut live = LiveRedactor::new();
        live.push(b"-----BEGIN OPENSSH PRIVATE KEY-----\n");
        live.skip();
        let mut sent = String::new();
        for i in 0..40 {
            live.push(format!("SECRETBODY{i:02}{}\n", "1".repeat(58)).as_bytes());
            sent.push_str(&live.take(&redactor, false).0);
        }
        live.push(b"-----END OPENSSH PRIVATE KEY-----\nafter\n");
        sent.push_str(&live.take(&redactor, false).0);
        sent.push_str(&live.take(&redactor, true).0);

        assert!(!sent.contains("SECRETBODY"), "{sent}");
        assert!(sent.contains("after"), "{sent}");
    }

    #[test]
    fn output_after_a_skip_flows_again_once_no_key_could_be_that_long() {
        let redactor = plain();
        let mut live = LiveRedactor::new();
        live.skip();
        let mut sent = String::new();
        for i in 0..2_000 {
            live.push(format!("line {i:04} {}\n", "z".repeat(40)).as_bytes());
            sent.push_str(&live.take(&redactor, false).0);
        }

        assert!(
            sent.contains("line 1999"),
            "live output stayed hidden after a skip"
        );
    }

    #[test]
    fn a_secret_named_on_one_line_and_given_on_the_next_is_hidden() {
        let secret = "A".repeat(40);
        let first = b"aws_secret_access_key =\n".as_slice();
        let second = format!("{secret}\nok\n");

        let sent = stream(&[first, second.as_bytes()]);

        assert!(!sent.concat().contains(&secret), "{sent:?}");
    }

    #[test]
    fn a_private_key_body_is_never_sent_however_it_is_cut() {
        let body: Vec<String> = (0..200).map(|i| format!("MIIE{i:060}\n")).collect();
        let mut pieces = vec![b"start\n-----BEGIN RSA PRIVATE KEY-----\n".to_vec()];
        pieces.extend(body.iter().map(|line| line.as_bytes().to_vec()));
        pieces.push(b"-----END RSA PRIVATE KEY-----\nafter\n".to_vec());
        let pieces: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();

        let sent = stream(&pieces);

        let all = sent.concat();
        assert!(!all.contains("MIIE"), "{all}");
        assert!(all.starts_with("start\n[REDACTED:private_key]"));
        assert!(all.ends_with("after\n"));
    }

    #[test]
    fn an_unfinished_line_waits_and_a_character_split_across_reads_is_joined() {
        let redactor = plain();
        let mut live = LiveRedactor::new();

        live.push(b"caf\xc3");
        assert_eq!(live.take(&redactor, false).0, "");
        live.push(b"\xa9 ok\nhalf");

        assert_eq!(live.take(&redactor, false).0, "café ok\n");
        assert_eq!(live.take(&redactor, true).0, "half");
    }

    #[test]
    fn a_long_line_without_breaks_still_goes_out() {
        let redactor = plain();
        let mut live = LiveRedactor::new();

        live.push("x".repeat(3 * MAX_HELD_LINE_BYTES).as_bytes());
        let (sent, _) = live.take(&redactor, false);

        assert!(!sent.is_empty());
        assert!(live.pending_len() <= MAX_HELD_LINE_BYTES);
    }

    #[test]
    fn the_head_of_a_cut_output_stops_before_a_secret_it_cannot_see_whole() {
        let secret = token();
        let (first, rest) = secret.split_at(12);

        let (head, _) = redact_before(&format!("ok\n{first}"), rest, &plain());
        let (tail, counts) =
            redact_after(&format!("ok\n{first}"), &format!("{rest}\nend"), &plain());

        assert_eq!(head, "ok\n");
        assert_eq!(tail, "[REDACTED:github_token]\nend");
        assert_eq!(counts.total(), 1);
    }
}
