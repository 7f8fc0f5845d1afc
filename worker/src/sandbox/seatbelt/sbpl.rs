//! The few pieces of the Sandbox Profile Language we write: string literals and path
//! filters. Every string that reaches a profile goes through [`quote`], so a path holding
//! `"` or `)` stays one string and cannot add a rule of its own.

use std::fmt::{self, Write as _};
use std::path::Path;

/// `text` as an SBPL (TinyScheme) string literal. Inside `"…"` only `\` and `"` are
/// special; both are escaped, everything else (parentheses, `;`, newlines) is taken
/// literally by the reader.
pub(super) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        if matches!(ch, '"' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('"');
    out
}

/// How long a string literal may be once quoted. `sandbox-exec` refuses a profile whose
/// string literal passes ~1 KiB ("Error reading string", as Anthropic's sandbox-runtime
/// notes); one such string would make every task fail, so long regexes are shortened
/// (see `pattern`) to stay under this.
pub(super) const MAX_STRING_BYTES: usize = 900;

/// A path filter: which paths a rule applies to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Filter {
    /// Exactly this path.
    Literal(String),
    /// This path and everything below it.
    Subpath(String),
    /// Every path the (AppleMatch) regular expression matches.
    Regex(String),
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, value) = match self {
            Filter::Literal(path) => ("literal", path),
            Filter::Subpath(path) => ("subpath", path),
            Filter::Regex(regex) => ("regex", regex),
        };
        write!(f, "({name} {})", quote(value))
    }
}

/// A path as profile text, or `None` when it is not UTF-8 or holds a NUL. The kernel
/// would read a NUL as the end of the string, turning `/Users\0/me` into a rule for all
/// of `/Users`; such a path is left out of every allow rule (denies match it by regex).
pub(super) fn path_text(path: &Path) -> Option<&str> {
    path.to_str().filter(|text| !text.contains('\0'))
}

/// Appends `(action operations filters…)` to `out`, one filter per line; nothing when
/// `filters` is empty, because a rule without a filter applies to every path.
pub(super) fn rule(out: &mut String, action: &str, operations: &str, filters: &[Filter]) {
    if filters.is_empty() {
        return;
    }
    let _ = write!(out, "({action} {operations}");
    for filter in filters {
        let _ = write!(out, "\n  {filter}");
    }
    out.push_str(")\n");
}

/// Appends a `;` comment line (one per line of `text`).
pub(super) fn comment(out: &mut String, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "; {line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_backslashes_are_escaped_and_nothing_else_is() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quote("(x) ; y\nz"), "\"(x) ; y\nz\"");
    }

    #[test]
    fn a_rule_without_filters_is_not_written() {
        let mut out = String::new();

        rule(&mut out, "allow", "file-write*", &[]);

        assert_eq!(out, "");
    }

    #[test]
    fn a_path_with_a_nul_has_no_text() {
        assert_eq!(path_text(Path::new("/Users\0/me")), None);
        assert_eq!(path_text(Path::new("/Users/me")), Some("/Users/me"));
    }
}
