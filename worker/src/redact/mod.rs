//! Output egress: terminal control sequences are stripped from text output, then secrets
//! are replaced by `[REDACTED:<kind>]` before anything leaves the Mac, and the number
//! replaced is reported per kind.
//!
//! Byte regexes in ASCII mode (`(?-u)`): every pattern starts and ends on an ASCII
//! character, so replacing a match never splits a UTF-8 sequence, and no Unicode tables are
//! compiled in. One linear pass per pattern; 1 MiB of output takes milliseconds.
//!
//! [`stream`] redacts pieces cut out of a longer text (an output's head and tail, live
//! output) so that a secret straddling a cut is still hidden.

use std::borrow::Cow;
use std::collections::BTreeMap;

use regex::bytes::{Captures, Regex};
use serde::{Serialize, Serializer};

/// Environment values shorter than this are not redacted: they would hit ordinary words.
pub const MIN_ENV_VALUE_LEN: usize = 8;

/// What kind of secret was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SecretKind {
    /// A PEM/PGP private key block (or its start, when output was cut).
    PrivateKey,
    /// The value of an environment variable listed in the policy's `env.redact`.
    EnvValue,
    /// `sk-ant-…`.
    AnthropicKey,
    /// `sk-…`, `sk-proj-…`.
    OpenaiKey,
    /// `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`.
    GithubToken,
    /// `xoxa-`, `xoxb-`, `xoxp-`, `xoxr-`, `xoxs-`.
    SlackToken,
    /// `AKIA…` and the other AWS key id prefixes.
    AwsAccessKeyId,
    /// A 40-character AWS secret key next to its name.
    AwsSecretKey,
    /// A Discord bot token.
    DiscordToken,
    /// The password in `scheme://user:password@host`.
    UrlCredential,
    /// The value of a `password=`, `passwd:`, `secret=`, `token=`, `api_key:` … pair.
    Credential,
}

impl SecretKind {
    /// The name inside `[REDACTED:…]` and in the counts.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::PrivateKey => "private_key",
            SecretKind::EnvValue => "env_value",
            SecretKind::AnthropicKey => "anthropic_key",
            SecretKind::OpenaiKey => "openai_key",
            SecretKind::GithubToken => "github_token",
            SecretKind::SlackToken => "slack_token",
            SecretKind::AwsAccessKeyId => "aws_access_key_id",
            SecretKind::AwsSecretKey => "aws_secret_key",
            SecretKind::DiscordToken => "discord_token",
            SecretKind::UrlCredential => "url_credential",
            SecretKind::Credential => "credential",
        }
    }
}

impl Serialize for SecretKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// How many secrets of each kind were replaced. Serializes as `{"github_token": 1, …}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Redactions(BTreeMap<SecretKind, u64>);

impl Redactions {
    /// All replacements, every kind.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// Replacements of one kind.
    pub fn count(&self, kind: SecretKind) -> u64 {
        self.0.get(&kind).copied().unwrap_or(0)
    }

    /// Adds `other`'s counts (e.g. stdout's to stderr's).
    pub fn merge(&mut self, other: &Redactions) {
        for (kind, n) in &other.0 {
            *self.0.entry(*kind).or_default() += n;
        }
    }

    /// The counts added since `earlier` (a redaction of a prefix of the same text).
    pub fn since(&self, earlier: &Redactions) -> Redactions {
        let mut added = Redactions::default();
        for (kind, n) in &self.0 {
            let more = n.saturating_sub(earlier.count(*kind));
            if more > 0 {
                added.0.insert(*kind, more);
            }
        }
        added
    }

    fn bump(&mut self, kind: SecretKind) {
        *self.0.entry(kind).or_default() += 1;
    }
}

/// One pattern: which capture group holds the secret (0: the whole match).
#[derive(Debug, Clone)]
struct Rule {
    kind: SecretKind,
    regex: Regex,
    group: usize,
}

/// The built-in patterns, in the order they run: the most specific first, so a GitHub
/// token inside `token=…` counts as a GitHub token.
const PATTERNS: &[(SecretKind, &str, usize)] = &[
    (
        SecretKind::PrivateKey,
        r"(?s)-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|\z)",
        0,
    ),
    (SecretKind::AnthropicKey, r"\bsk-ant-[A-Za-z0-9_-]{20,}", 0),
    (
        SecretKind::OpenaiKey,
        r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
        0,
    ),
    (
        SecretKind::GithubToken,
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
        0,
    ),
    (SecretKind::SlackToken, r"\bxox[abprs]-[A-Za-z0-9-]{10,}", 0),
    (
        SecretKind::AwsAccessKeyId,
        r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}\b",
        0,
    ),
    (
        SecretKind::AwsSecretKey,
        r#"(?i)aws[a-z0-9_ .-]{0,30}secret[a-z0-9_ .-]{0,30}["']?\s*[=:]\s*["']?([A-Za-z0-9/+]{40})\b"#,
        1,
    ),
    (
        SecretKind::DiscordToken,
        r"\b[A-Za-z0-9_-]{24,28}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}\b",
        0,
    ),
    (
        SecretKind::UrlCredential,
        r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]+:([^\s@/]+)@",
        1,
    ),
    (
        SecretKind::Credential,
        r#"(?i)\b[a-z0-9_.-]*(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)["']?[ \t]*[=:][ \t]*("[^"\r\n]*"|'[^'\r\n]*'|[^\s"',;&]+)"#,
        1,
    ),
];

/// Compiled redaction patterns plus the literal values to hide. Build once at start.
#[derive(Debug, Clone)]
pub struct Redactor {
    rules: Vec<Rule>,
}

/// A redaction pattern failed to compile (only an absurdly long secret value can do this).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the redactor: {0}")]
pub struct RedactorError(#[from] regex::Error);

impl Redactor {
    /// Builds a redactor that also hides each of `secret_values` (e.g. the values of the
    /// policy's `env.redact` variables and the worker token). Values shorter than
    /// [`MIN_ENV_VALUE_LEN`] are skipped.
    pub fn new<S: AsRef<str>>(
        secret_values: impl IntoIterator<Item = S>,
    ) -> Result<Self, RedactorError> {
        let mut values: Vec<String> = secret_values
            .into_iter()
            .map(|v| v.as_ref().to_owned())
            .filter(|v| v.len() >= MIN_ENV_VALUE_LEN)
            .collect();
        // Longest first, so a value that contains another is hidden whole.
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        let mut rules = Vec::with_capacity(PATTERNS.len() + 1);
        for (i, (kind, pattern, group)) in PATTERNS.iter().enumerate() {
            rules.push(Rule {
                kind: *kind,
                regex: Regex::new(&format!("(?-u){pattern}"))?,
                group: *group,
            });
            if i == 0 && !values.is_empty() {
                let alternation: Vec<String> = values.iter().map(|v| regex::escape(v)).collect();
                rules.push(Rule {
                    kind: SecretKind::EnvValue,
                    regex: Regex::new(&alternation.join("|"))?,
                    group: 0,
                });
            }
        }
        Ok(Self { rules })
    }

    /// Builds a redactor hiding the values that `lookup` gives for `names` (pass
    /// `|n| std::env::var(n).ok()`), plus `extra` values such as the worker token.
    pub fn from_env(
        names: &[String],
        lookup: impl Fn(&str) -> Option<String>,
        extra: &[String],
    ) -> Result<Self, RedactorError> {
        let values = names
            .iter()
            .filter_map(|n| lookup(n))
            .chain(extra.iter().cloned());
        Self::new(values)
    }
}

/// Removes terminal control sequences and control characters from `text`, then replaces
/// every secret in what is left; returns that text (what may be uploaded) and the counts.
/// Stripping first means a secret cut up by colour codes or cursor moves (`AKIA`, `ESC[0m`,
/// the rest), which a terminal or Discord shows whole, is seen whole by the patterns too:
/// the patterns always see exactly the text that leaves the Mac.
pub fn redact(text: &str, redactor: &Redactor) -> (String, Redactions) {
    let stripped = strip_terminal_controls(text);
    let (bytes, counts) = redact_bytes(stripped.as_bytes(), redactor);
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        // Cannot happen (matches start and end on ASCII), but never panic on output.
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    };
    (text, counts)
}

/// Text without terminal control sequences or control characters: CSI (`ESC [` … and
/// U+009B), OSC, DCS, SOS, PM and APC strings (up to BEL or ST, or the end of the text when
/// unterminated), every other `ESC` sequence, and the C0 and C1 controls and DEL. Newlines
/// and tabs stay, and so does a carriage return right before a newline: CRLF text (a file
/// read with `/read`) keeps its line ends, while a lone CR, which redraws a terminal line,
/// goes. Borrowed when there is nothing to remove.
pub fn strip_terminal_controls(text: &str) -> Cow<'_, str> {
    // Fast path: no control byte, no C1 lead byte (0xC2 also leads some printable Latin-1
    // characters; those just take the slow path).
    let suspicious = |b: u8| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f || b == 0xc2;
    if !text.bytes().any(suspicious) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\r' if chars.peek() == Some(&'\n') => out.push(c),
            '\u{1b}' => skip_escape(&mut chars),
            '\u{9b}' => skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// Skips what follows an `ESC` (ECMA-48 forms).
fn skip_escape(chars: &mut Chars<'_>) {
    let intermediate = |c: &char| ('\u{20}'..='\u{2f}').contains(c);
    match chars.peek() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_string(chars);
        }
        Some(c) if intermediate(c) => {
            while chars.next_if(intermediate).is_some() {}
            chars.next_if(|c| ('\u{30}'..='\u{7e}').contains(c));
        }
        Some(c) if ('\u{30}'..='\u{7e}').contains(c) => {
            chars.next();
        }
        // A lone ESC: only it goes.
        _ => {}
    }
}

/// Skips a control sequence's parameters and intermediates, then its final character.
fn skip_csi(chars: &mut Chars<'_>) {
    while chars
        .next_if(|c| ('\u{20}'..='\u{3f}').contains(c))
        .is_some()
    {}
    chars.next_if(|c| ('\u{40}'..='\u{7e}').contains(c));
}

/// Skips a control string (OSC, DCS, …) up to its terminator: BEL, ST (`ESC \` or U+009C),
/// or another `ESC`, which ends it and starts a sequence of its own, as terminals do.
fn skip_string(chars: &mut Chars<'_>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.next_if_eq(&'\\').is_none() {
                    skip_escape(chars);
                }
                return;
            }
            _ => {}
        }
    }
}

/// Redacts raw bytes (output that is not UTF-8) as [`redact`] redacts text. Nothing is stripped: these bytes
/// go out base64-encoded, exactly as read.
pub fn redact_bytes(bytes: &[u8], redactor: &Redactor) -> (Vec<u8>, Redactions) {
    let mut counts = Redactions::default();
    let mut current: Cow<'_, [u8]> = Cow::Borrowed(bytes);
    for rule in &redactor.rules {
        let replaced = rule.regex.replace_all(&current, |caps: &Captures<'_>| {
            replace(rule, caps, &mut counts)
        });
        if let Cow::Owned(next) = replaced {
            current = Cow::Owned(next);
        }
    }
    (current.into_owned(), counts)
}

/// The replacement for one match: the secret group becomes the marker (quotes around a
/// quoted value stay), the rest of the match is kept. Already-redacted values are left.
fn replace(rule: &Rule, caps: &Captures<'_>, counts: &mut Redactions) -> Vec<u8> {
    let whole = &caps[0];
    let Some(secret) = caps.get(rule.group) else {
        return whole.to_vec();
    };
    let start = caps.get(0).map_or(0, |m| m.start());
    let mut value = secret.as_bytes();
    let mut quote: &[u8] = b"";
    if let [q @ (b'"' | b'\''), inner @ .., last] = value {
        if last == q {
            quote = std::slice::from_ref(q);
            value = inner;
        }
    }
    if value.is_empty() || value.starts_with(b"[REDACTED:") {
        return whole.to_vec();
    }
    counts.bump(rule.kind);
    let mut out = Vec::with_capacity(whole.len() + 24);
    out.extend_from_slice(&whole[..secret.start() - start]);
    out.extend_from_slice(quote);
    out.extend_from_slice(b"[REDACTED:");
    out.extend_from_slice(rule.kind.as_str().as_bytes());
    out.push(b']');
    out.extend_from_slice(quote);
    out.extend_from_slice(&whole[secret.end() - start..]);
    out
}

pub mod stream;

#[cfg(test)]
mod tests;
