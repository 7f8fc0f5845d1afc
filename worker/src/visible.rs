//! Text shown to the owner made unambiguous: control, blank, zero-width and
//! direction-changing characters are spelled out (`⟨LF⟩`, `⟨U+202E⟩`), so a command cannot
//! hide a part of itself, reorder what the owner reads, or fake a line of the message.

use std::fmt::Write as _;
use std::ops::RangeInclusive;

/// Opens every spelled-out character. It is spelled out itself where the text has it, so
/// in what [`one_line`] returns a `⟨` always starts a marker the worker wrote.
const OPEN: char = '⟨';

/// Characters that show as nothing (or as a plain blank) and are not controls or Unicode
/// white space, which [`hides`] catches by their properties: format characters (bidi
/// embeddings, overrides and isolates, zero-width joiners, word joiners, the byte order
/// mark), fillers that render blank, variation selectors and tags.
const INVISIBLE: &[RangeInclusive<char>] = &[
    '\u{00AD}'..='\u{00AD}',   // soft hyphen
    '\u{034F}'..='\u{034F}',   // combining grapheme joiner
    '\u{0600}'..='\u{0605}',   // Arabic number signs (format)
    '\u{061C}'..='\u{061C}',   // Arabic letter mark
    '\u{06DD}'..='\u{06DD}',   // Arabic end of ayah (format)
    '\u{070F}'..='\u{070F}',   // Syriac abbreviation mark
    '\u{0890}'..='\u{0891}',   // Arabic pound/piastre marks (format)
    '\u{08E2}'..='\u{08E2}',   // Arabic disputed end of ayah
    '\u{115F}'..='\u{1160}',   // Hangul fillers
    '\u{17B4}'..='\u{17B5}',   // Khmer inherent vowels
    '\u{180B}'..='\u{180F}',   // Mongolian selectors and vowel separator
    '\u{200B}'..='\u{200F}',   // zero-width space, joiners, LRM, RLM
    '\u{202A}'..='\u{202E}',   // bidi embeddings and overrides
    '\u{2060}'..='\u{206F}',   // word joiner, invisible operators, bidi isolates
    '\u{2800}'..='\u{2800}',   // braille blank
    '\u{3164}'..='\u{3164}',   // Hangul filler
    '\u{FE00}'..='\u{FE0F}',   // variation selectors
    '\u{FEFF}'..='\u{FEFF}',   // zero-width no-break space (byte order mark)
    '\u{FFA0}'..='\u{FFA0}',   // halfwidth Hangul filler
    '\u{FFF0}'..='\u{FFFB}',   // interlinear annotation controls
    '\u{110BD}'..='\u{110BD}', // Kaithi number sign
    '\u{110CD}'..='\u{110CD}', // Kaithi number sign above
    '\u{13430}'..='\u{1343F}', // Egyptian hieroglyph format controls
    '\u{1BCA0}'..='\u{1BCA3}', // shorthand format controls
    '\u{1D173}'..='\u{1D17A}', // musical symbol format controls
    '\u{E0000}'..='\u{E0FFF}', // tags, variation selectors supplement
];

/// Whether `c` does not show as itself: every control (C0, DEL, C1) and white space but
/// the plain space, and the format characters, fillers and selectors that show as nothing.
pub fn hides(c: char) -> bool {
    c != ' ' && (c.is_control() || c.is_whitespace() || INVISIBLE.iter().any(|r| r.contains(&c)))
}

/// Puts `text` on one line with every hiding character spelled out, newlines included:
/// for an argument, a path, a value.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if hides(c) || c == OPEN {
            spell(c, &mut out);
        } else {
            out.push(c);
        }
    }
    out
}

/// Spells out every hiding character in `text` except the newline, and leaves `⟨` as it
/// is: for text already made visible line by line (the approval description), so running
/// it again changes nothing, while anything else hiding in it is spelled out.
pub fn keep_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c != '\n' && hides(c) {
            spell(c, &mut out);
        } else {
            out.push(c);
        }
    }
    out
}

/// Numbers `text`'s lines (`1│ …`), each made visible by [`one_line`], so every line
/// the text brings is marked as its own and none can pass for a line of the message.
pub fn numbered(text: &str) -> String {
    let count = line_count(text);
    let width = count.to_string().len();
    let mut out = String::with_capacity(text.len() + count * (width + 4));
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = write!(out, "{:>width$}│ {}", i + 1, one_line(line));
    }
    out
}

/// How many lines [`numbered`] shows for `text`: its newlines plus one.
pub fn line_count(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count() + 1
}

/// Names a count of lines: `1 line`, `3 lines`.
pub fn lines_label(count: usize) -> String {
    if count == 1 {
        "1 line".to_owned()
    } else {
        format!("{count} lines")
    }
}

/// How many characters `text` takes in the Discord message: a zero-width space follows
/// each backtick there (see [`crate::notify::escape_fences`]).
pub fn shown_chars(text: &str) -> usize {
    text.chars().map(|c| if c == '`' { 2 } else { 1 }).sum()
}

fn spell(c: char, out: &mut String) {
    let name = match c {
        '\n' => "LF",
        '\r' => "CR",
        '\t' => "TAB",
        '\u{1b}' => "ESC",
        '\0' => "NUL",
        _ => {
            let _ = write!(out, "{OPEN}U+{:04X}⟩", u32::from(c));
            return;
        }
    };
    let _ = write!(out, "{OPEN}{name}⟩");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_blanks_and_direction_overrides_are_spelled_out() {
        let shown =
            one_line("a\nb\tc\r\u{1b}[0m\u{202e}d\u{200b}e\u{a0}f\u{2028}g\u{85}h\u{e0041}");

        assert_eq!(
            shown,
            "a⟨LF⟩b⟨TAB⟩c⟨CR⟩⟨ESC⟩[0m⟨U+202E⟩d⟨U+200B⟩e⟨U+00A0⟩f⟨U+2028⟩g⟨U+0085⟩h⟨U+E0041⟩"
        );
    }

    #[test]
    fn ordinary_text_and_plain_spaces_are_left_alone() {
        let text = "rm -rf 'my build' — café ✓ 日本";

        assert_eq!(one_line(text), text);
    }

    #[test]
    fn a_typed_marker_cannot_pass_for_a_spelled_out_character() {
        assert_eq!(one_line("⟨LF⟩"), "⟨U+27E8⟩LF⟩");
    }

    #[test]
    fn every_line_is_numbered_so_none_can_fake_a_line_of_the_message() {
        let shown = numbered("ls\nsandbox `allowed`: no network\n");

        assert_eq!(shown, "1│ ls\n2│ sandbox `allowed`: no network\n3│ ");
        assert_eq!(line_count("ls\nx\n"), 3);
    }

    #[test]
    fn keeping_lines_is_idempotent_on_visible_text() {
        let visible = numbered("a\u{202e}b\nc⟨");

        assert_eq!(keep_lines(&visible), visible);
        assert_eq!(keep_lines("x\u{200b}\ny"), "x⟨U+200B⟩\ny");
    }
}
