//! Shell-syntax analysis of a command string: is it a SIMPLE command (one program and its
//! arguments, split exactly as POSIX `sh` would split them), or does it use shell syntax?
//!
//! Hand-written on purpose: word-splitting crates (shlex, shell-words) answer "what are the
//! words", not "did the shell do anything but split words", which is the security question.
//! The lexer works as an allowlist: outside quotes only letters, digits, non-ASCII text and
//! `- _ . / : , + @ % =` are plain; every other character is treated as shell syntax, so an
//! unknown construct (of sh, bash or zsh) can only make a command *less* trusted.

use std::collections::BTreeSet;
use std::path::Path;

mod lexer;

use lexer::Lexer;

/// A shell construct found in a command. Any of them makes the command "shell syntax".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ShellFeature {
    /// `|` or `|&`.
    Pipe,
    /// `;`.
    Sequence,
    /// `&` (run in background).
    Background,
    /// `&&` or `||`.
    AndOr,
    /// `<`, `>`, `>>`, `<<` (here-docs), `&>`.
    Redirection,
    /// `$(…)` or `$((…))`.
    CommandSubstitution,
    /// `` `…` ``.
    Backtick,
    /// `$VAR`, `${…}`, `$'…'` and any other `$`.
    Expansion,
    /// Unquoted `*`, `?`, `[`, `]` or `^`: file-name generation.
    Glob,
    /// A newline, carriage return or other control character: a second command could hide there.
    ControlCharacter,
    /// `(` or `)`: subshells and process substitution.
    Subshell,
    /// `{` or `}`: brace groups and brace expansion.
    Brace,
    /// `#` at the start of a word.
    Comment,
    /// `~user` (another user's home).
    Tilde,
    /// `NAME=value` before the program: changes the program's environment.
    Assignment,
    /// `=word` at the start of a word (zsh expands it to a program's path).
    EqualsExpansion,
    /// A reserved word (`if`, `for`, `!`, `time`, …) in command position.
    ReservedWord,
    /// `!` (history expansion and negation).
    History,
    /// A quote that never closes, or a backslash at the very end.
    Unterminated,
}

impl ShellFeature {
    /// A short name for messages: "pipe", "command substitution", ….
    pub fn as_str(self) -> &'static str {
        match self {
            ShellFeature::Pipe => "pipe",
            ShellFeature::Sequence => "`;`",
            ShellFeature::Background => "`&`",
            ShellFeature::AndOr => "`&&`/`||`",
            ShellFeature::Redirection => "redirection",
            ShellFeature::CommandSubstitution => "command substitution",
            ShellFeature::Backtick => "backticks",
            ShellFeature::Expansion => "`$` expansion",
            ShellFeature::Glob => "glob",
            ShellFeature::ControlCharacter => "newline or control character",
            ShellFeature::Subshell => "parentheses",
            ShellFeature::Brace => "braces",
            ShellFeature::Comment => "comment",
            ShellFeature::Tilde => "`~` form",
            ShellFeature::Assignment => "variable assignment",
            ShellFeature::EqualsExpansion => "`=word` expansion",
            ShellFeature::ReservedWord => "reserved word",
            ShellFeature::History => "`!`",
            ShellFeature::Unterminated => "unterminated quote or escape",
        }
    }
}

/// What a command string is, for the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandShape {
    /// One program with arguments: `argv[0]` is the program word as written (after quote
    /// removal and `~` expansion). Running `argv` directly is what the shell would run.
    Simple {
        /// The words, program first. Never empty.
        argv: Vec<String>,
    },
    /// Anything else. The words are a best-effort reading, for deny checks only.
    Shell {
        /// Every construct found, in a stable order.
        features: BTreeSet<ShellFeature>,
        /// Each command found (pipeline parts, `$(…)`, …): its program word first, then
        /// the arguments seen up to the next operator.
        commands: Vec<Vec<String>>,
        /// Every word seen, programs included.
        words: Vec<String>,
    },
    /// Nothing but blanks.
    Empty,
}

/// Splits `command` into words and classifies it; an unquoted leading `~` or `~/` expands
/// to `home`, as the shell would.
pub fn analyze(command: &str, home: &Path) -> CommandShape {
    let mut lexer = Lexer::new(command, home);
    lexer.run();
    lexer.finish()
}

#[cfg(test)]
mod tests;
