//! Test-only: a reader for the profiles we write and a model of how Seatbelt picks the
//! rule for a file operation (the last matching rule wins; `literal`, `subpath` and
//! `regex` filters; `x*` operation families). It lets tests state what a profile allows
//! without a Mac. It is OUR reading of SBPL, not the kernel: the kernel tests need macOS.

/// One S-expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Expr {
    /// `( … )`.
    List(Vec<Expr>),
    /// A `"…"` string, unescaped.
    Str(String),
    /// A symbol or number.
    Atom(String),
}

/// Reads a whole profile. Refuses anything our renderer should never write (an unknown
/// string escape, an unbalanced parenthesis, a raw `#"` string).
pub(super) fn parse(text: &str) -> Result<Vec<Expr>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut pos = 0;
    let mut forms = Vec::new();
    loop {
        skip_blank(&chars, &mut pos);
        if pos == chars.len() {
            return Ok(forms);
        }
        forms.push(read(&chars, &mut pos)?);
    }
}

fn skip_blank(chars: &[char], pos: &mut usize) {
    while *pos < chars.len() {
        if chars[*pos].is_whitespace() {
            *pos += 1;
        } else if chars[*pos] == ';' {
            while *pos < chars.len() && chars[*pos] != '\n' {
                *pos += 1;
            }
        } else {
            return;
        }
    }
}

fn read(chars: &[char], pos: &mut usize) -> Result<Expr, String> {
    match chars[*pos] {
        '(' => {
            *pos += 1;
            let mut items = Vec::new();
            loop {
                skip_blank(chars, pos);
                match chars.get(*pos) {
                    None => return Err("unclosed (".to_owned()),
                    Some(')') => {
                        *pos += 1;
                        return Ok(Expr::List(items));
                    }
                    Some(_) => items.push(read(chars, pos)?),
                }
            }
        }
        ')' => Err(format!("unexpected ) at {pos}")),
        '"' => {
            *pos += 1;
            let mut text = String::new();
            loop {
                match chars.get(*pos) {
                    None => return Err("unclosed string".to_owned()),
                    Some('"') => {
                        *pos += 1;
                        return Ok(Expr::Str(text));
                    }
                    Some('\\') => {
                        match chars.get(*pos + 1) {
                            Some(&c @ ('"' | '\\')) => text.push(c),
                            other => return Err(format!("unknown escape \\{other:?}")),
                        }
                        *pos += 2;
                    }
                    Some(&c) => {
                        text.push(c);
                        *pos += 1;
                    }
                }
            }
        }
        '#' => Err("raw #\" strings are not written by us".to_owned()),
        _ => {
            let start = *pos;
            while *pos < chars.len()
                && !chars[*pos].is_whitespace()
                && !"()\";".contains(chars[*pos])
            {
                *pos += 1;
            }
            Ok(Expr::Atom(chars[start..*pos].iter().collect()))
        }
    }
}

/// An `(allow …)` or `(deny …)` rule.
#[derive(Debug, Clone)]
pub(super) struct Rule {
    /// Whether it allows.
    pub allow: bool,
    /// Its operations (`file-read*`, `default`, …).
    pub operations: Vec<String>,
    /// Its filters, unevaluated.
    pub filters: Vec<Expr>,
}

/// The rules of a parsed profile, in order. Panics on a form that is neither a rule nor
/// `(version 1)`.
pub(super) fn rules(forms: &[Expr]) -> Vec<Rule> {
    let mut out = Vec::new();
    for form in forms {
        let Expr::List(items) = form else {
            panic!("top-level form is not a list: {form:?}")
        };
        let head = match items.first() {
            Some(Expr::Atom(head)) => head.as_str(),
            other => panic!("form without a head: {other:?}"),
        };
        match head {
            "version" => assert_eq!(items.get(1), Some(&Expr::Atom("1".to_owned()))),
            "allow" | "deny" => {
                let mut operations = Vec::new();
                let mut filters = Vec::new();
                for item in &items[1..] {
                    match item {
                        Expr::Atom(op) => operations.push(op.clone()),
                        other => filters.push(other.clone()),
                    }
                }
                out.push(Rule {
                    allow: head == "allow",
                    operations,
                    filters,
                });
            }
            other => panic!("unexpected top-level form `{other}`"),
        }
    }
    out
}

/// Operations `(deny default)` is not trusted to cover: Firefox's profile notes that
/// process-info, nvram, iokit-get-properties and file-map-executable are not included in
/// it, and we found no word either way on hard links and clones. The model lets these
/// through unless a rule names them, so a profile must deny them explicitly.
const NOT_COVERED_BY_DEFAULT: &[&str] = &[
    "process-info",
    "nvram",
    "iokit-get-properties",
    "file-map-executable",
    "file-link",
    "file-clone",
];

/// Whether `operation` on `path` is allowed: the last rule naming the operation (or its
/// family, or `default`) whose filters match wins. A rule without filters matches every
/// path; a non-path filter (a process target, a sysctl name) never matches a path.
pub(super) fn allows(rules: &[Rule], operation: &str, path: &str) -> bool {
    let uncovered = NOT_COVERED_BY_DEFAULT
        .iter()
        .any(|family| operation.starts_with(family));
    let mut decision = None;
    for rule in rules {
        let names = rule.operations.iter().any(|op| {
            (op == "default" && !uncovered)
                || op == operation
                || op
                    .strip_suffix('*')
                    .is_some_and(|family| operation.starts_with(family))
        });
        let matches =
            rule.filters.is_empty() || rule.filters.iter().any(|f| filter_matches(f, path));
        if names && matches {
            decision = Some(rule.allow);
        }
    }
    decision.unwrap_or(uncovered)
}

fn filter_matches(filter: &Expr, path: &str) -> bool {
    let Expr::List(items) = filter else {
        return false;
    };
    match items.as_slice() {
        [Expr::Atom(kind), Expr::Str(value)] => {
            // The kernel reads each string as a C string: a NUL ends it.
            let value = value.split('\0').next().unwrap_or_default();
            filter_kind_matches(kind, value, path)
        }
        _ => false,
    }
}

fn filter_kind_matches(kind: &str, value: &str, path: &str) -> bool {
    match kind {
        "literal" => path == value,
        "subpath" => {
            path == value || path.starts_with(&format!("{}/", value.trim_end_matches('/')))
        }
        "regex" => regex::Regex::new(value)
            .unwrap_or_else(|err| panic!("{value}: {err}"))
            .is_match(path),
        _ => false,
    }
}

/// Every string literal in the profile, in order.
pub(super) fn strings(forms: &[Expr]) -> Vec<String> {
    fn walk(expr: &Expr, out: &mut Vec<String>) {
        match expr {
            Expr::Str(text) => out.push(text.clone()),
            Expr::List(items) => items.iter().for_each(|item| walk(item, out)),
            Expr::Atom(_) => {}
        }
    }
    let mut out = Vec::new();
    forms.iter().for_each(|form| walk(form, &mut out));
    out
}
