//! The lexer behind [`analyze`](super::analyze): one pass over the command string,
//! splitting words as POSIX `sh` would and flagging every construct that is not plain
//! word splitting.

use std::collections::BTreeSet;
use std::path::Path;

use super::{CommandShape, ShellFeature};

/// Words that change the meaning of what follows when they stand in command position.
const RESERVED_WORDS: [&str; 24] = [
    "!", "{", "}", "[[", "]]", "case", "coproc", "do", "done", "elif", "else", "esac", "fi", "for",
    "foreach", "function", "if", "in", "repeat", "select", "then", "time", "until", "while",
];

/// The lexer's state. Words are accumulated in `current`; `None` means "between words".
pub(super) struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    home: String,
    features: BTreeSet<ShellFeature>,
    words: Vec<String>,
    commands: Vec<Vec<String>>,
    current: Option<String>,
    /// Whether any part of the current word was quoted (a quoted `if` is not reserved).
    current_quoted: bool,
    /// The next word stands in command position.
    command_position: bool,
    /// The next word is a redirection target, not a program.
    redirect_target: bool,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `command`, expanding a leading `~` to `home`.
    pub(super) fn new(command: &'a str, home: &Path) -> Self {
        Self {
            chars: command.chars().peekable(),
            home: home.to_string_lossy().into_owned(),
            features: BTreeSet::new(),
            words: Vec::new(),
            commands: Vec::new(),
            current: None,
            current_quoted: false,
            command_position: true,
            redirect_target: false,
        }
    }

    fn flag(&mut self, feature: ShellFeature) {
        self.features.insert(feature);
    }

    fn word(&mut self) -> &mut String {
        self.current.get_or_insert_with(String::new)
    }

    /// Ends the current word (if any) and decides what it was.
    fn end_word(&mut self) {
        let Some(word) = self.current.take() else {
            return;
        };
        let quoted = std::mem::take(&mut self.current_quoted);
        if self.redirect_target {
            self.redirect_target = false;
        } else if self.command_position {
            if !quoted && is_assignment(&word) {
                // `NAME=value cmd`: the program is still to come.
                self.flag(ShellFeature::Assignment);
            } else if !quoted && RESERVED_WORDS.contains(&word.as_str()) {
                self.flag(ShellFeature::ReservedWord);
            } else {
                self.commands.push(vec![word.clone()]);
                self.command_position = false;
            }
        } else if let Some(command) = self.commands.last_mut() {
            command.push(word.clone());
        }
        self.words.push(word);
    }

    /// An operator: ends the word, records the feature; a new command may follow.
    fn operator(&mut self, feature: ShellFeature) {
        self.end_word();
        self.flag(feature);
        self.command_position = true;
        self.redirect_target = false;
    }

    /// Reads the whole command.
    pub(super) fn run(&mut self) {
        while let Some(c) = self.chars.next() {
            match c {
                ' ' | '\t' => self.end_word(),
                '|' => {
                    let feature = if self.chars.next_if_eq(&'|').is_some() {
                        ShellFeature::AndOr
                    } else {
                        self.chars.next_if_eq(&'&');
                        ShellFeature::Pipe
                    };
                    self.operator(feature);
                }
                '&' => {
                    if self.chars.next_if_eq(&'&').is_some() {
                        self.operator(ShellFeature::AndOr);
                    } else if self.chars.next_if_eq(&'>').is_some() {
                        self.redirection();
                    } else {
                        self.operator(ShellFeature::Background);
                    }
                }
                ';' => self.operator(ShellFeature::Sequence),
                '<' | '>' => {
                    if self.chars.next_if_eq(&'(').is_some() {
                        // Process substitution: a command inside.
                        self.operator(ShellFeature::Redirection);
                        self.flag(ShellFeature::Subshell);
                    } else {
                        while self
                            .chars
                            .next_if(|n| matches!(n, '<' | '>' | '&' | '|' | '-'))
                            .is_some()
                        {}
                        self.redirection();
                    }
                }
                '(' | ')' => self.operator(ShellFeature::Subshell),
                '`' => self.operator(ShellFeature::Backtick),
                '$' => self.dollar(),
                '\'' => self.single_quoted(),
                '"' => self.double_quoted(),
                '\\' => match self.chars.next() {
                    Some(next) if next.is_control() => {
                        // `\` + newline is a line continuation; either way, a control char.
                        self.operator(ShellFeature::ControlCharacter);
                    }
                    Some(next) => {
                        self.current_quoted = true;
                        self.word().push(next);
                    }
                    None => self.flag(ShellFeature::Unterminated),
                },
                '#' if self.current.is_none() => {
                    self.flag(ShellFeature::Comment);
                    self.word().push(c);
                }
                '*' | '?' | '[' | ']' | '^' => {
                    self.flag(ShellFeature::Glob);
                    self.word().push(c);
                }
                '{' | '}' => {
                    self.flag(ShellFeature::Brace);
                    self.word().push(c);
                }
                '!' => {
                    self.flag(ShellFeature::History);
                    self.word().push(c);
                }
                '~' => self.tilde(),
                '=' if self.current.is_none() => {
                    self.flag(ShellFeature::EqualsExpansion);
                    self.word().push(c);
                }
                c if c.is_control() => self.operator(ShellFeature::ControlCharacter),
                c if c.is_ascii_alphanumeric()
                    || !c.is_ascii()
                    || matches!(c, '-' | '_' | '.' | '/' | ':' | ',' | '+' | '@' | '%' | '=') =>
                {
                    self.word().push(c);
                }
                // `#` inside a word (zsh's extended glob reads it), and any character nobody
                // thought of: never treated as plain.
                other => {
                    self.flag(ShellFeature::Glob);
                    self.word().push(other);
                }
            }
        }
    }

    fn redirection(&mut self) {
        self.end_word();
        self.flag(ShellFeature::Redirection);
        self.redirect_target = true;
    }

    fn dollar(&mut self) {
        if self.chars.next_if_eq(&'(').is_some() {
            self.operator(ShellFeature::CommandSubstitution);
        } else {
            self.flag(ShellFeature::Expansion);
            self.word().push('$');
        }
    }

    /// `~` expands only at the start of a word (`HEAD~1` and `--dir=~/x` keep it literal,
    /// as in POSIX sh); `~user` is flagged rather than looked up.
    fn tilde(&mut self) {
        let at_start = self.current.is_none();
        let next = self.chars.peek().copied();
        if !at_start {
            self.word().push('~');
        } else if matches!(next, None | Some('/' | ' ' | '\t')) {
            let home = self.home.clone();
            self.word().push_str(&home);
        } else {
            self.flag(ShellFeature::Tilde);
            self.word().push('~');
        }
    }

    fn single_quoted(&mut self) {
        self.current_quoted = true;
        self.word();
        loop {
            match self.chars.next() {
                Some('\'') => return,
                Some(c) => {
                    if c.is_control() {
                        self.flag(ShellFeature::ControlCharacter);
                    }
                    self.word().push(c);
                }
                None => {
                    self.flag(ShellFeature::Unterminated);
                    return;
                }
            }
        }
    }

    fn double_quoted(&mut self) {
        self.current_quoted = true;
        self.word();
        loop {
            match self.chars.next() {
                Some('"') => return,
                Some('\\') => match self.chars.next() {
                    // Inside double quotes a backslash only escapes these.
                    Some(c @ ('$' | '`' | '"' | '\\')) => self.word().push(c),
                    Some(c) => {
                        if c.is_control() {
                            self.flag(ShellFeature::ControlCharacter);
                        }
                        self.word().push('\\');
                        self.word().push(c);
                    }
                    None => {
                        self.flag(ShellFeature::Unterminated);
                        return;
                    }
                },
                Some('$') => {
                    let feature = if self.chars.peek() == Some(&'(') {
                        ShellFeature::CommandSubstitution
                    } else {
                        ShellFeature::Expansion
                    };
                    self.flag(feature);
                    self.word().push('$');
                }
                Some(c) => {
                    match c {
                        '`' => self.flag(ShellFeature::Backtick),
                        '!' => self.flag(ShellFeature::History),
                        c if c.is_control() => self.flag(ShellFeature::ControlCharacter),
                        _ => {}
                    }
                    self.word().push(c);
                }
                None => {
                    self.flag(ShellFeature::Unterminated);
                    return;
                }
            }
        }
    }

    /// What the command turned out to be.
    pub(super) fn finish(mut self) -> CommandShape {
        self.end_word();
        if self.features.is_empty() {
            if self.words.is_empty() {
                CommandShape::Empty
            } else {
                CommandShape::Simple { argv: self.words }
            }
        } else {
            CommandShape::Shell {
                features: self.features,
                commands: self.commands,
                words: self.words,
            }
        }
    }
}

/// Whether an unquoted word is `NAME=…` with a valid shell variable name.
fn is_assignment(word: &str) -> bool {
    let Some((name, _)) = word.split_once('=') else {
        return false;
    };
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
