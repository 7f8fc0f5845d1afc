//! What a task will do, in words, exactly as planned: the resolved program and argv (shell
//! quoted), the shell for approved shell syntax, the working directory, the timeout, the
//! extra environment, the kernel sandbox (or its absence, in capitals), Claude's flags and
//! session, resolved paths, content sizes and hashes. This is what the owner reads before
//! approving, on the Mac's webhook and in the bot.
//!
//! The task's own text (command, prompt, edit strings) opens with its total size and line
//! count, comes last, and is shown whole with every line numbered and every hiding
//! character spelled out ([`visible`](crate::visible)); a task whose text cannot be shown
//! whole in one Discord message is [`Unshowable`] and cannot be approved from the phone.

use std::path::Path;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use data_encoding::HEXLOWER;
use openclaw_shared::task::AgentSession;
use openclaw_shared::{ContentEncoding, TaskSpec};

use crate::approval::fingerprint::ApprovalSubject;
use crate::exec::process::format_duration;
use crate::exec::MAX_TIMEOUT_MS;
use crate::notify::MAX_SUMMARY_CHARS;
use crate::policy::Exec;
use crate::visible::{line_count, lines_label, numbered, one_line, shown_chars};

/// Longest task text (a command, a prompt, an edit's two strings together), in characters
/// as shown, that an approval may carry. A Discord webhook message holds 2,000 characters;
/// the worker's header, footer and code fences take up to 400 of them
/// ([`crate::notify::MAX_FRAME_CHARS`]), and the facts around the text (size, directory,
/// timeout, environment, sandbox, Claude's flags) up to about 600 more. What does not fit
/// whole would have to be cut, and a cut command can hide its second half, so it is not
/// shown at all: the task is denied, to be run on the Mac itself.
pub const MAX_SHOWN_TEXT_CHARS: usize = 1000;
/// Longest description, in bytes: the server refuses a summary of more than 4096.
pub const MAX_DESCRIPTION_BYTES: usize = 4000;

/// Why a task cannot be shown whole to the owner, so cannot be approved from the phone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unshowable {
    /// The task's own text is too long.
    #[error(
        "the {what} is {bytes} bytes, too long to show whole in an approval message \
         (at most {MAX_SHOWN_TEXT_CHARS} characters as shown); run it on the Mac"
    )]
    Text {
        /// `command`, `prompt` or `edit`.
        what: &'static str,
        /// Its size as sent.
        bytes: usize,
    },
    /// The whole description is too long (a long path, a long sandbox summary).
    #[error(
        "the description of this task is {chars} characters ({bytes} bytes), too long to \
         show whole in an approval message; run it on the Mac"
    )]
    Description {
        /// Characters, as shown.
        chars: usize,
        /// Bytes.
        bytes: usize,
    },
}

/// The task as it will run, for the owner to approve; [`Unshowable`] when it does not fit
/// whole in one approval message.
pub fn describe(subject: &ApprovalSubject<'_>) -> Result<String, Unshowable> {
    let plan = subject.plan;
    let path = || {
        plan.paths
            .first()
            .map_or_else(|| "(no path)".to_owned(), |p| show_path(p))
    };
    let text = match subject.spec {
        TaskSpec::Command { command, .. } => {
            let (label, through, body) = match &plan.exec {
                Some(Exec::Direct { program, argv }) => {
                    let mut words = vec![show_path(program)];
                    // A multi-call binary behaves by argv[0]: say so when it is not the
                    // program's own name.
                    if let Some(arg0) = argv.first() {
                        if Path::new(arg0).file_name() != program.file_name() {
                            words.push(format!("(as {})", quote(&one_line(arg0))));
                        }
                    }
                    words.extend(argv.iter().skip(1).map(|arg| quote(&one_line(arg))));
                    ("command", String::new(), format!("1│ {}", words.join(" ")))
                }
                Some(Exec::Shell { command }) => {
                    let shell: Vec<String> =
                        subject.shell.iter().map(|w| quote(&one_line(w))).collect();
                    let through = format!(" through the shell {}", shell.join(" "));
                    ("shell command", through, numbered(command))
                }
                None => ("command", String::new(), "(nothing planned)".to_owned()),
            };
            fits("command", command, &body)?;
            let size = size(command);
            let mut lines = vec![format!("{label} ({size}){through}, shown last:")];
            lines.extend(process_facts(subject));
            lines.push(body);
            lines.join("\n")
        }
        TaskSpec::FileRead { .. } => format!("read {}", path()),
        TaskSpec::FileWrite {
            content, encoding, ..
        } => {
            let size = match encoding {
                ContentEncoding::Utf8 => content.len(),
                ContentEncoding::Base64 => BASE64.decode(content).map_or(0, |b| b.len()),
            };
            let hash = plan.content_sha256.map_or_else(String::new, |h| {
                format!(", SHA-256 {}", HEXLOWER.encode(&h))
            });
            format!("write {size} bytes{hash} to {}", path())
        }
        TaskSpec::FileEdit {
            old_string,
            new_string,
            replace_all,
            ..
        } => {
            let which = if *replace_all { "every" } else { "the one" };
            let (old, new) = (numbered(old_string), numbered(new_string));
            let both = format!("{old}{new}");
            if shown_chars(&both) > MAX_SHOWN_TEXT_CHARS {
                return Err(Unshowable::Text {
                    what: "edit",
                    bytes: old_string.len() + new_string.len(),
                });
            }
            format!(
                "edit {}: replace {which} occurrence of ({}):\n{old}\nwith ({}):\n{new}",
                path(),
                size(old_string),
                size(new_string)
            )
        }
        TaskSpec::Claude {
            prompt, session, ..
        } => {
            let body = numbered(prompt);
            fits("prompt", prompt, &body)?;
            let mut lines = vec![format!("claude prompt ({}), shown last:", size(prompt))];
            lines.push(claude_line(subject));
            lines.push(session_line(session.as_ref()));
            lines.extend(process_facts(subject));
            lines.push(body);
            lines.join("\n")
        }
        TaskSpec::Agent {
            agent,
            prompt,
            session,
            ..
        } => {
            let body = numbered(prompt);
            fits("prompt", prompt, &body)?;
            let mut lines = vec![format!(
                "agent {} prompt ({}), shown last:",
                quote(&one_line(agent)),
                size(prompt)
            )];
            lines.push(agent_line(subject, session.as_ref()));
            lines.push(session_line(session.as_ref()));
            lines.extend(process_facts(subject));
            lines.push(body);
            lines.join("\n")
        }
    };
    let chars = shown_chars(&text);
    if chars > MAX_SUMMARY_CHARS || text.len() > MAX_DESCRIPTION_BYTES {
        return Err(Unshowable::Description {
            chars,
            bytes: text.len(),
        });
    }
    Ok(text)
}

/// `Ok` when `shown` (the visible form of `text`) fits in an approval message.
fn fits(what: &'static str, text: &str, shown: &str) -> Result<(), Unshowable> {
    if shown_chars(shown) > MAX_SHOWN_TEXT_CHARS {
        return Err(Unshowable::Text {
            what,
            bytes: text.len(),
        });
    }
    Ok(())
}

/// `22 bytes, 1 line`.
fn size(text: &str) -> String {
    format!("{} bytes, {}", text.len(), lines_label(line_count(text)))
}

/// Where and how long a process runs, what it gets on top of the allowlisted environment,
/// and what the kernel lets it do.
fn process_facts(subject: &ApprovalSubject<'_>) -> Vec<String> {
    let plan = subject.plan;
    let cwd = plan
        .cwd
        .as_deref()
        .map_or_else(|| "the default directory".to_owned(), show_path);
    let timeout = Duration::from_millis(subject.timeout_ms.min(MAX_TIMEOUT_MS));
    let mut facts = vec![format!("in {cwd} · timeout {}", format_duration(timeout))];
    if !plan.env.is_empty() {
        let pairs: Vec<String> = plan
            .env
            .iter()
            .map(|(name, value)| quote(&one_line(&format!("{name}={value}"))))
            .collect();
        facts.push(format!("env: {}", pairs.join(" ")));
    }
    facts.push(plan.sandbox.as_ref().map_or_else(
        || "NO SANDBOX: runs unconfined".to_owned(),
        |spec| one_line(&spec.summary()),
    ));
    facts
}

/// The Claude CLI and the flags the worker adds, with a warning in capitals when they let
/// Claude act without asking.
fn claude_line(subject: &ApprovalSubject<'_>) -> String {
    let program = quote(&one_line(subject.claude_bin));
    let flags: Vec<String> = subject
        .claude_args
        .iter()
        .map(|arg| quote(&one_line(arg)))
        .collect();
    let mut line = if flags.is_empty() {
        format!("runs {program} with no extra flags")
    } else {
        format!("runs {program} with flags {}", flags.join(" "))
    };
    if subject
        .claude_args
        .iter()
        .any(|arg| arg == "--dangerously-skip-permissions")
    {
        line.push_str(" (SKIPS CLAUDE'S PERMISSION PROMPTS)");
    }
    line
}

/// Which session an agent task runs in, and whether it starts or continues it.
fn session_line(session: Option<&AgentSession>) -> String {
    match session {
        None => "new session (the CLI names it)".to_owned(),
        Some(session) if session.new => {
            format!("starts session {}", quote(&one_line(&session.id)))
        }
        Some(session) => format!("resumes session {}", quote(&one_line(&session.id))),
    }
}

/// The agent's program and its argv, the prompt shown as `<prompt>` (it follows in full).
fn agent_line(subject: &ApprovalSubject<'_>, session: Option<&AgentSession>) -> String {
    let Some(agent) = subject.agent else {
        return "this worker has no such agent: nothing runs".to_owned();
    };
    // Built around a stand-in no prompt can equal (prompts hold no NUL), so the prompt's
    // own element, and only it, shows as `<prompt>`.
    const STAND_IN: &str = "\0";
    let argv: Vec<String> = match agent.argv(STAND_IN, session) {
        Ok(argv) => argv
            .iter()
            .map(|arg| {
                if arg == STAND_IN {
                    "<prompt>".to_owned()
                } else {
                    quote(&one_line(arg))
                }
            })
            .collect(),
        Err(why) => return format!("cannot run: {why}"),
    };
    format!(
        "runs {} with arguments {}",
        quote(&one_line(&agent.bin)),
        argv.join(" ")
    )
}

fn show_path(path: &Path) -> String {
    quote(&one_line(&path.to_string_lossy()))
}

/// A word as a POSIX shell would need it written: plain when it only has safe characters,
/// else in single quotes. Shows spaces, quotes and empty arguments unambiguously.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./:=,+@%-".contains(&b));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests;
