//! Paths and globs as the regular expressions deny rules match by.
//!
//! macOS file systems are usually case-insensitive, and Seatbelt compares the path the
//! kernel reports, which may keep the case the program asked for (`~/.SSH/id_rsa` opens
//! `~/.ssh/id_rsa`). So every deny is a regex in which each letter matches either case.
//! The dialect (AppleMatch) has no `(?i)` flag, so letters become `[sS]` classes, and a
//! non-ASCII letter an alternation such as `(é|É)` (the engine may match bytes, and a
//! class of multi-byte characters would be a class of bytes). Only constructs both
//! AppleMatch and POSIX share are used: `^ $ . * ? ( | ) [ ] [^ ]` and `\`-escapes; the
//! tests compile every regex with the `regex` crate too.
//!
//! Not covered: Unicode normalisation. APFS treats `é` (one code point) and `e` + `◌́`
//! as one name; a deny written in one form does not match a path spelled in the other.
//! And `?` or `[…]` stand for one byte in a byte-matching engine, so they miss a
//! non-ASCII character (`*` and `**` are unaffected).

use super::sbpl::MAX_STRING_BYTES;

/// What a deny regex matches below the path it names: the path itself and everything
/// beneath it, as a `subpath` filter would (a pattern that names a directory hides what
/// is in it, as the policy's own matching does).
const BELOW: &str = "(/.*)?$";

/// The regex for `path` and everything below it, any case.
pub(super) fn path_regex(path: &[u8]) -> String {
    let components = split(path);
    fit(components.len(), |fold_from| {
        let mut out = String::from("^");
        for (i, component) in components.iter().enumerate() {
            out.push('/');
            push_bytes(&mut out, component, i >= fold_from);
        }
        if components.is_empty() {
            out.push('/');
        }
        out.push_str(BELOW);
        out
    })
}

/// The regex for exactly `path` (a directory whose rename would move what is under it),
/// any case.
pub(super) fn exact_regex(path: &[u8]) -> String {
    let components = split(path);
    fit(components.len(), |fold_from| {
        let mut out = String::from("^");
        for (i, component) in components.iter().enumerate() {
            out.push('/');
            push_bytes(&mut out, component, i >= fold_from);
        }
        out.push('$');
        out
    })
}

/// The regex for an absolute glob (the policy's dialect: `*` and `?` stop at `/`, `**`
/// as a whole component spans directories, `[…]`/`[!…]` classes), any case, and
/// everything below what it matches.
pub(super) fn glob_regex(glob: &str) -> String {
    glob_components_regex(&glob_components(glob), BELOW)
}

/// The directories a glob's matches sit in whose renaming would take a match out of the
/// pattern (`/**/.git` for `/**/.git/hooks`), as exact regexes. A prefix ending in `*` or
/// `**` is left out: any new name still matches it. So is `/`.
pub(super) fn glob_parent_regexes(glob: &str) -> Vec<String> {
    let components = glob_components(glob);
    (1..components.len())
        .filter(|&len| !matches!(components[len - 1], "*" | "**"))
        .map(|len| glob_components_regex(&components[..len], "$"))
        .collect()
}

/// The components of an absolute glob (a relative one matches at any depth).
fn glob_components(glob: &str) -> Vec<&str> {
    let mut components: Vec<&str> = glob.split('/').filter(|c| !c.is_empty()).collect();
    if !glob.starts_with('/') {
        components.insert(0, "**");
    }
    components
}

fn glob_components_regex(components: &[&str], tail: &str) -> String {
    fit(components.len(), |fold_from| {
        let mut out = String::from("^");
        for (i, component) in components.iter().enumerate() {
            if *component == "**" {
                // Zero or more directories: `/**/x` matches `/x` and `/a/b/x`.
                if i + 1 == components.len() {
                    out.push_str("/.*");
                } else {
                    out.push_str("(/.*)?");
                }
            } else {
                out.push('/');
                push_glob_component(&mut out, component, i >= fold_from);
            }
        }
        if components.is_empty() {
            out.push('/');
        }
        out.push_str(tail);
        out
    })
}

/// Builds the regex with case folding from component `fold_from` on, starting at 0 (all
/// folded) and keeping more leading components case-sensitive only while the quoted
/// regex would be too long for the profile. A path that long is rare; its leading
/// directories are the least likely to be spelled in another case by the task.
fn fit(components: usize, build: impl Fn(usize) -> String) -> String {
    let mut regex = build(0);
    for fold_from in 1..=components {
        if super::sbpl::quote(&regex).len() <= MAX_STRING_BYTES {
            break;
        }
        regex = build(fold_from);
    }
    regex
}

fn split(path: &[u8]) -> Vec<&[u8]> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .collect()
}

/// Appends a path component: valid UTF-8 as (folded) literal characters, any other byte
/// as `.`, which matches it and so keeps the deny at least as wide as the path.
fn push_bytes(out: &mut String, bytes: &[u8], fold: bool) {
    for chunk in bytes.utf8_chunks() {
        for ch in chunk.valid().chars() {
            push_char(out, ch, fold);
        }
        for _ in chunk.invalid() {
            out.push('.');
        }
    }
}

/// Appends one glob component (no `/` inside).
fn push_glob_component(out: &mut String, component: &str, fold: bool) {
    let chars: Vec<char> = component.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => {
                out.push_str("[^/]*");
                i += 1;
            }
            '?' => {
                out.push_str("[^/]");
                i += 1;
            }
            '[' => match parse_class(&chars[i..]) {
                Some((class, used)) => {
                    push_class(out, &class, fold);
                    i += used;
                }
                // No closing `]`: the glob crate refuses such a pattern; read it literally.
                None => {
                    push_char(out, '[', fold);
                    i += 1;
                }
            },
            ch => {
                push_char(out, ch, fold);
                i += 1;
            }
        }
    }
}

/// A `[…]` class: its members and whether it is negated (`[!…]`).
struct Class {
    negated: bool,
    members: Vec<(char, char)>,
}

/// Parses a class at the start of `chars` (which begins with `[`) the way the glob crate
/// does: `!` negates, a `]` right after the opening (or after `!`) is a member, `a-z` is
/// a range. Returns the class and how many chars it used, or `None` when unclosed.
fn parse_class(chars: &[char]) -> Option<(Class, usize)> {
    let mut i = 1;
    let negated = chars.get(i) == Some(&'!');
    if negated {
        i += 1;
    }
    let mut members = Vec::new();
    let mut first = true;
    loop {
        let ch = *chars.get(i)?;
        if ch == ']' && !first {
            return Some((Class { negated, members }, i + 1));
        }
        first = false;
        if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|&c| c != ']') {
            members.push((ch, chars[i + 2]));
            i += 3;
        } else {
            members.push((ch, ch));
            i += 1;
        }
    }
}

/// The most characters a range may stand for before the class is widened instead.
const MAX_CLASS_CHARS: u32 = 256;

/// Appends a class. A positive class becomes an alternation of its characters (each in
/// both cases); a negated one a `[^…/]` bracket of ASCII characters. What cannot be
/// written safely in both dialects (a huge range, a negated non-ASCII or bracket-special
/// character) widens to `[^/]`, any one character: a deny that matches more, never less.
fn push_class(out: &mut String, class: &Class, fold: bool) {
    let mut chars: Vec<char> = Vec::new();
    for &(low, high) in &class.members {
        if u32::from(high).saturating_sub(u32::from(low)) >= MAX_CLASS_CHARS {
            out.push_str("[^/]");
            return;
        }
        chars.extend((low..=high).filter(|&c| c != '/'));
    }
    if fold {
        chars = chars.into_iter().flat_map(case_variants).collect();
    }
    chars.sort_unstable();
    chars.dedup();
    if class.negated {
        let bracket_safe = |c: &char| c.is_ascii() && !matches!(c, '\\' | ']' | '[' | '^' | '-');
        if !chars.iter().all(bracket_safe) {
            out.push_str("[^/]");
            return;
        }
        out.push_str("[^");
        out.extend(chars);
        out.push_str("/]");
    } else if chars.is_empty() {
        out.push_str("[^/]");
    } else {
        out.push('(');
        for (i, &ch) in chars.iter().enumerate() {
            if i > 0 {
                out.push('|');
            }
            push_char(out, ch, false);
        }
        out.push(')');
    }
}

/// `ch`'s single-character lower- and upper-case forms, and `ch` itself, in that order.
fn case_variants(ch: char) -> Vec<char> {
    let lower: Vec<char> = ch.to_lowercase().collect();
    let upper: Vec<char> = ch.to_uppercase().collect();
    let mut variants = Vec::new();
    for mapped in [lower, upper, vec![ch]] {
        if let [single] = mapped.as_slice() {
            if !variants.contains(single) {
                variants.push(*single);
            }
        }
    }
    variants
}

/// Appends one literal character: `[aA]` for an ASCII letter when folding, `(é|É)` for
/// another letter with case forms, `\`-escaped when it means something in a regex.
fn push_char(out: &mut String, ch: char, fold: bool) {
    let variants = if fold { case_variants(ch) } else { vec![ch] };
    match variants.as_slice() {
        [only] => push_escaped(out, *only),
        [a, b] if a.is_ascii() && b.is_ascii() => {
            out.push('[');
            out.push(*a);
            out.push(*b);
            out.push(']');
        }
        several => {
            out.push('(');
            for (i, &variant) in several.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                push_escaped(out, variant);
            }
            out.push(')');
        }
    }
}

fn push_escaped(out: &mut String, ch: char) {
    if matches!(
        ch,
        '.' | '^' | '$' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '\\'
    ) {
        out.push('\\');
    }
    out.push(ch);
}

#[cfg(test)]
mod tests;
