//! Text pieces for Discord messages: code blocks that output cannot break out of, inline code,
//! trimming to a character budget, and human-friendly durations, sizes and signals.

/// Zero-width space: splits backtick runs so output cannot close our code block.
const ZWSP: char = '\u{200B}';

/// Shown in place of a bidirectional-text control: a right-to-left override in a path or in
/// output could otherwise make `gpj.exe` read as `exe.jpg` in the message.
const BIDI_STAND_IN: char = '\u{FFFD}';

/// Whether `c` reorders the text around it (embeddings, overrides, isolates, marks).
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Counts characters the way Discord's 2,000 limit does (Unicode code points).
pub fn chars(text: &str) -> usize {
    text.chars().count()
}

/// Makes `text` safe inside a ```` ``` ```` block: no run of three backticks survives (a
/// zero-width space goes between every pair), so the block ends only where we end it, and
/// bidirectional controls become a visible stand-in.
pub fn escape_fences(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut previous_was_backtick = false;
    for c in text.chars() {
        let c = if is_bidi_control(c) { BIDI_STAND_IN } else { c };
        if c == '`' && previous_was_backtick {
            out.push(ZWSP);
        }
        previous_was_backtick = c == '`';
        out.push(c);
    }
    out
}

/// Wraps already-escaped text in a code block. The closing fence always starts its own line,
/// so a backtick at the end of the output cannot merge with it.
pub fn code_block(escaped: &str) -> String {
    let newline = if escaped.ends_with('\n') { "" } else { "\n" };
    format!("```\n{escaped}{newline}```")
}

/// The characters [`code_block`] adds around its text, at most.
pub const CODE_BLOCK_OVERHEAD: usize = 8;

/// Shows `text` as one line of inline code, at most `max_chars` characters long. Backticks
/// become a look-alike (inline code cannot contain them) and line breaks a `⏎`.
pub fn inline_code(text: &str, max_chars: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| match c {
            '`' => 'ˋ',
            '\n' => '⏎',
            c if c.is_control() => ' ',
            c if is_bidi_control(c) => BIDI_STAND_IN,
            c => c,
        })
        .collect();
    let (kept, trimmed) = head(&flat, max_chars.saturating_sub(1).max(1));
    if trimmed {
        format!("`{kept}…`")
    } else {
        format!("`{kept}`")
    }
}

/// The last `max_chars` characters of `text`, starting at a line boundary when one is close,
/// and whether anything was cut.
pub fn tail(text: &str, max_chars: usize) -> (&str, bool) {
    let total = chars(text);
    if total <= max_chars {
        return (text, false);
    }
    let start = byte_index(text, total - max_chars);
    let kept = &text[start..];
    // Prefer starting on a fresh line, unless that would throw away most of what fits.
    match kept.find('\n') {
        Some(newline) if newline < kept.len() / 4 => (&kept[newline + 1..], true),
        _ => (kept, true),
    }
}

/// The first `max_chars` characters of `text`, ending at a line boundary when one is close,
/// and whether anything was cut.
pub fn head(text: &str, max_chars: usize) -> (&str, bool) {
    if chars(text) <= max_chars {
        return (text, false);
    }
    let kept = &text[..byte_index(text, max_chars)];
    match kept.rfind('\n') {
        Some(newline) if newline > kept.len() * 3 / 4 => (&kept[..newline], true),
        _ => (kept, true),
    }
}

/// The byte offset of the `n`th character of `text` (its length when `n` is past the end).
fn byte_index(text: &str, n: usize) -> usize {
    text.char_indices().nth(n).map_or(text.len(), |(i, _)| i)
}

/// A duration as a person reads it: `850 ms`, `4.2 s`, `3 min 5 s`, `1 h 2 min`.
pub fn duration_ms(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=59_999 => format!("{}.{} s", ms / 1000, ms % 1000 / 100),
        60_000..=3_599_999 => format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000),
        _ => format!("{} h {} min", ms / 3_600_000, ms % 3_600_000 / 60_000),
    }
}

/// A byte count as a person reads it: `512 B`, `1.5 KiB`, `2.0 MiB`.
pub fn size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    match bytes {
        0..KIB => format!("{bytes} B"),
        KIB..MIB => format!("{}.{} KiB", bytes / KIB, bytes % KIB * 10 / KIB),
        _ => format!("{}.{} MiB", bytes / MIB, bytes % MIB * 10 / MIB),
    }
}

/// A signal's name (`SIGTERM`) when it is a common one, else `signal N`.
pub fn signal(number: i32) -> String {
    let name = match number {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        9 => "SIGKILL",
        10 => "SIGBUS",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => return format!("signal {number}"),
    };
    name.to_owned()
}

/// A Discord timestamp that every client shows in its own locale as "3 minutes ago".
pub fn relative_time(epoch_ms: u64) -> String {
    format!("<t:{}:R>", epoch_ms / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_output_never_contains_a_fence() {
        for text in ["```", "a````b", "``` rm -rf ```", "`", "``", "x`"] {
            let block = code_block(&escape_fences(text));

            let inner = &block[4..block.len() - 3];
            assert!(!inner.contains("```"), "{block:?}");
            assert!(block.ends_with("\n```"), "{block:?}");
            assert_eq!(block.matches("```").count(), 2, "{block:?}");
        }
    }

    #[test]
    fn escaping_keeps_single_backticks_and_other_text() {
        assert_eq!(escape_fences("say `hi` @everyone"), "say `hi` @everyone");
    }

    #[test]
    fn tail_keeps_the_end_and_prefers_a_line_start() {
        let text = "line one\nline two\nline three\n";

        let (kept, trimmed) = tail(text, 14);

        assert!(trimmed);
        assert_eq!(kept, "line three\n");
        assert_eq!(tail("short", 10), ("short", false));
    }

    #[test]
    fn head_keeps_the_start_and_counts_characters_not_bytes() {
        let text = "ééééé";

        assert_eq!(head(text, 3), ("ééé", true));
        assert_eq!(head(text, 5), (text, false));
    }

    #[test]
    fn inline_code_is_one_line_without_backticks() {
        let shown = inline_code("echo `id`\nrm x", 100);

        assert_eq!(shown, "`echo ˋidˋ⏎rm x`");
        let long = inline_code(&"x".repeat(50), 10);
        assert_eq!(chars(&long), 12);
        assert!(long.ends_with("…`"));
    }

    #[test]
    fn durations_sizes_and_signals_read_naturally() {
        assert_eq!(duration_ms(850), "850 ms");
        assert_eq!(duration_ms(4_250), "4.2 s");
        assert_eq!(duration_ms(185_000), "3 min 5 s");
        assert_eq!(duration_ms(3_720_000), "1 h 2 min");
        assert_eq!(size(512), "512 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(2 * 1024 * 1024), "2.0 MiB");
        assert_eq!(signal(15), "SIGTERM");
        assert_eq!(signal(99), "signal 99");
        assert_eq!(relative_time(1_700_000_000_999), "<t:1700000000:R>");
    }
}
