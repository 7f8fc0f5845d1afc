//! What a task will do, in words, exactly as planned: the resolved program and argv (shell
//! quoted), the shell for approved shell syntax, resolved paths, content sizes and hashes.
//! This is what the owner reads before approving, on the Mac's webhook and in the bot.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use data_encoding::HEXLOWER;
use openclaw_shared::{ContentEncoding, TaskSpec};

use crate::policy::{Exec, Plan};

/// Longest piece of free text (an edit's strings, a prompt) shown in full.
const MAX_TEXT_CHARS: usize = 1500;

/// The task as it will run.
pub fn describe(spec: &TaskSpec, plan: &Plan, shell: &[String]) -> String {
    let path = || {
        plan.paths
            .first()
            .map_or_else(|| "(no path)".to_owned(), |p| quote(&p.to_string_lossy()))
    };
    let cwd = plan
        .cwd
        .as_deref()
        .map_or_else(|| "the default directory".to_owned(), show_path);
    match spec {
        TaskSpec::Command { .. } => {
            let what = match &plan.exec {
                Some(Exec::Direct { program, argv }) => {
                    let mut words = vec![quote(&program.to_string_lossy())];
                    words.extend(argv.iter().skip(1).map(|arg| quote(arg)));
                    words.join(" ")
                }
                Some(Exec::Shell { command }) => {
                    format!("{command}\n(through the shell: {})", shell.join(" "))
                }
                None => "(nothing)".to_owned(),
            };
            format!("{what}\n(in {cwd})")
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
            format!(
                "edit {}: replace {which} occurrence of\n{}\nwith\n{}",
                path(),
                excerpt(old_string),
                excerpt(new_string)
            )
        }
        TaskSpec::Claude {
            prompt, session_id, ..
        } => {
            let session = session_id
                .as_deref()
                .map_or_else(String::new, |id| format!(", resuming session {id}"));
            format!("claude in {cwd}{session}, prompt:\n{}", excerpt(prompt))
        }
    }
}

fn show_path(path: &Path) -> String {
    quote(&path.to_string_lossy())
}

/// `text`, cut at [`MAX_TEXT_CHARS`] characters with a note.
fn excerpt(text: &str) -> String {
    if text.chars().count() <= MAX_TEXT_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MAX_TEXT_CHARS).collect();
    cut.push_str("… (cut)");
    cut
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
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn plan(exec: Exec) -> Plan {
        Plan {
            exec: Some(exec),
            cwd: Some(PathBuf::from("/Users/me/Projects")),
            ..Plan::default()
        }
    }

    #[test]
    fn a_direct_command_shows_the_resolved_program_and_quoted_arguments() {
        let spec = TaskSpec::Command {
            command: "rm -rf 'my build'".into(),
            cwd: None,
        };
        let exec = Exec::Direct {
            program: PathBuf::from("/bin/rm"),
            argv: vec!["rm".into(), "-rf".into(), "my build".into()],
        };

        let text = describe(&spec, &plan(exec), &[]);

        assert_eq!(text, "/bin/rm -rf 'my build'\n(in /Users/me/Projects)");
    }

    #[test]
    fn shell_syntax_names_the_shell_it_goes_through() {
        let command = "ls | wc -l";
        let spec = TaskSpec::Command {
            command: command.into(),
            cwd: None,
        };
        let exec = Exec::Shell {
            command: command.into(),
        };

        let text = describe(&spec, &plan(exec), &["/bin/zsh".into(), "-c".into()]);

        assert!(text.starts_with("ls | wc -l\n(through the shell: /bin/zsh -c)"));
    }

    #[test]
    fn a_write_shows_size_hash_and_resolved_path_not_content() {
        let spec = TaskSpec::FileWrite {
            path: "~/x".into(),
            content: "secret content".into(),
            encoding: ContentEncoding::Utf8,
        };
        let plan = Plan {
            paths: vec![PathBuf::from("/Users/me/x")],
            content_sha256: Some([0xab; 32]),
            ..Plan::default()
        };

        let text = describe(&spec, &plan, &[]);

        assert!(text.starts_with("write 14 bytes, SHA-256 abab"), "{text}");
        assert!(text.ends_with("to /Users/me/x"));
        assert!(!text.contains("secret content"));
    }

    #[test]
    fn quoting_is_unambiguous() {
        assert_eq!(quote("plain-1.txt"), "plain-1.txt");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("$(id)"), "'$(id)'");
    }
}
