//! Command rules: what one is ([`CommandRule`], as the policy file writes it), resolving a
//! program to the file that would run, matching allow and deny rules, and spotting
//! programs that evaluate code given as text.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use glob::{MatchOptions, Pattern};
use serde::{Deserialize, Serialize};

use super::paths;

/// One command rule: a program and argument patterns.
///
/// `args` are matched one to one against the first arguments; every further argument must
/// match one of `options` (none may follow when `options` is empty). Patterns are globs in
/// which `*` also matches `/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandRule {
    /// An absolute path, or a name resolved through [`CommandPolicy::path`](crate::policy::file::CommandPolicy::path) at check time:
    /// a rule for `ls` matches `/bin/ls`, never some other `ls`.
    pub program: String,
    /// Patterns for the leading arguments, one each.
    #[serde(default)]
    pub args: Vec<String>,
    /// Patterns any further argument must match.
    #[serde(default)]
    pub options: Vec<String>,
    /// Whether the program may use the network (TCP, UDP, any socket) when it runs
    /// without approval. Off by default: an auto-allowed task has no network.
    #[serde(default, skip_serializing_if = "is_false")]
    pub network: bool,
    /// `false` runs the program outside the kernel sandbox. The escape hatch for a program
    /// the sandbox breaks: such a rule never allows, it only ever asks for approval.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub sandbox: bool,
}

impl CommandRule {
    /// A rule for `program` with these argument patterns, sandboxed and without network.
    pub fn new(program: &str, args: &[&str], options: &[&str]) -> Self {
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        Self {
            program: program.to_owned(),
            args: owned(args),
            options: owned(options),
            network: false,
            sandbox: true,
        }
    }
}

fn yes() -> bool {
    true
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if signature"
)]
fn is_true(value: &bool) -> bool {
    *value
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if signature"
)]
fn is_false(value: &bool) -> bool {
    !*value
}

/// How argument patterns match: exactly, with `*` also crossing `/` (arguments are not
/// paths to the matcher).
const ARG_MATCH: MatchOptions = MatchOptions {
    case_sensitive: true,
    require_literal_separator: false,
    require_literal_leading_dot: false,
};

/// A program word resolved to the file that would be executed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// The path found (search dir + name, or the word made absolute), symlinks kept: its
    /// file name is what the program sees as `argv[0]`.
    pub path: PathBuf,
    /// The same file with every symlink resolved: the identity rules compare.
    pub real: PathBuf,
}

impl Program {
    /// The file name as invoked (`ls`), for name-based checks.
    pub fn name(&self) -> &str {
        file_name(&self.path)
    }
}

/// The last component of `path` as text ("" when there is none or it is not UTF-8).
pub fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// Resolves a program word the way `execvp` would, but only through `search` (absolute
/// directories; relative entries are skipped so the working directory never counts). A
/// word with a `/` is a path, relative to `cwd`. Returns `None` when no executable file is
/// found.
pub fn resolve_program(word: &str, search: &[PathBuf], cwd: &Path) -> Option<Program> {
    if word.is_empty() || word.contains('\0') {
        return None;
    }
    let candidates: Vec<PathBuf> = if word.contains('/') {
        vec![paths::fold(&cwd.join(word))]
    } else {
        search
            .iter()
            .filter(|dir| dir.is_absolute())
            .map(|dir| dir.join(word))
            .collect()
    };
    candidates.into_iter().find_map(|path| {
        let real = std::fs::canonicalize(&path).ok()?;
        let meta = std::fs::metadata(&real).ok()?;
        (meta.is_file() && meta.permissions().mode() & 0o111 != 0).then_some(Program { path, real })
    })
}

/// The programs of a list of rules, resolved once: a rule naming its program by an
/// absolute path or a bare name resolves the same whatever the task's working directory,
/// so only a relative path (`./tool`) is resolved again for each task.
#[derive(Debug, Clone, Default)]
pub struct RulePrograms(Vec<Option<Program>>);

impl RulePrograms {
    /// Resolves the programs of `rules` through `search`.
    pub fn resolve(rules: &[CommandRule], search: &[PathBuf]) -> Self {
        Self(
            rules
                .iter()
                .map(|rule| resolve_program(&rule.program, search, Path::new("/")))
                .collect(),
        )
    }

    /// What the program of `rules[i]` is for a task running in `cwd`.
    pub fn get(
        &self,
        rules: &[CommandRule],
        i: usize,
        search: &[PathBuf],
        cwd: &Path,
    ) -> Option<Program> {
        let rule = rules.get(i)?;
        if rule.program.contains('/') && !rule.program.starts_with('/') {
            resolve_program(&rule.program, search, cwd)
        } else {
            self.0.get(i).cloned().flatten()
        }
    }
}

/// Whether `pattern` matches `text` (a pattern that does not compile matches nothing).
fn arg_matches(pattern: &str, text: &str) -> bool {
    Pattern::new(pattern).is_ok_and(|p| p.matches_with(text, ARG_MATCH))
}

/// Whether an allow rule matches: the rule's program resolves to the same file, invoked
/// under the same name (a multi-call binary behaves by its `argv[0]`), and the arguments
/// fit its patterns.
pub fn allow_matches(
    rule: &CommandRule,
    ruled: Option<&Program>,
    program: &Program,
    args: &[String],
) -> bool {
    let Some(ruled) = ruled else {
        return false;
    };
    if ruled.real != program.real || ruled.name() != program.name() {
        return false;
    }
    if args.len() < rule.args.len() {
        return false;
    }
    let (leading, rest) = args.split_at(rule.args.len());
    leading
        .iter()
        .zip(&rule.args)
        .all(|(arg, pattern)| arg_matches(pattern, arg))
        && rest
            .iter()
            .all(|arg| rule.options.iter().any(|pattern| arg_matches(pattern, arg)))
}

/// Whether a deny rule matches a program word and its arguments: by file name (so a copy
/// or link elsewhere is caught too) or by resolved file, with `args` as a prefix.
pub fn deny_matches(
    rule: &CommandRule,
    ruled: Option<&Program>,
    word: &str,
    resolved: Option<&Program>,
    args: &[String],
) -> bool {
    let rule_name = file_name(Path::new(&rule.program));
    let by_name = file_name(Path::new(word)) == rule_name
        || resolved.is_some_and(|p| p.name() == rule_name || file_name(&p.real) == rule_name);
    let by_file = resolved.is_some_and(|p| ruled.is_some_and(|r| r.real == p.real));
    (by_name || by_file)
        && args.len() >= rule.args.len()
        && args
            .iter()
            .zip(&rule.args)
            .all(|(arg, pattern)| arg_matches(pattern, arg))
}

/// Programs that run code given as text or run another program named in their arguments.
/// Matched by file name; a trailing version (`python3.12`) is ignored.
const EVALUATORS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "dash",
    "ksh",
    "mksh",
    "fish",
    "csh",
    "tcsh",
    "python",
    "pypy",
    "node",
    "nodejs",
    "deno",
    "bun",
    "perl",
    "ruby",
    "irb",
    "php",
    "lua",
    "luajit",
    "tclsh",
    "wish",
    "osascript",
    "swift",
    "pwsh",
    "rscript",
    "awk",
    "gawk",
    "nawk",
    "mawk",
    "sed",
    "gsed",
    "env",
    "xargs",
    "sudo",
    "doas",
    "su",
    "nohup",
    "nice",
    "timeout",
    "gtimeout",
    "time",
    "watch",
    "script",
    "caffeinate",
    "eval",
    "exec",
    "source",
    ".",
    "command",
    "builtin",
    "trap",
    "fc",
    "open",
    "ssh",
    "launchctl",
    "crontab",
    "at",
    "batch",
    "expect",
    "make",
    "npx",
    "npm",
    "pnpm",
    "yarn",
    "vim",
    "vi",
    "nvim",
    "emacs",
];

/// Programs that take another program as their first non-option argument.
const RUNNERS: &[&str] = &[
    "env",
    "xargs",
    "sudo",
    "doas",
    "nohup",
    "nice",
    "timeout",
    "gtimeout",
    "time",
    "watch",
    "exec",
    "command",
    "builtin",
    "caffeinate",
];

/// `find` actions that run programs or change files.
const FIND_ACTIONS: &[&str] = &[
    "-exec", "-execdir", "-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf", "-fls",
];

/// Strips a version suffix: `python3.12` → `python`, `ruby2` → `ruby`.
fn base_name(name: &str) -> String {
    name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.')
        .to_ascii_lowercase()
}

/// Why this invocation evaluates code or runs another program, if it does. `names` are
/// the file names the program goes by (as typed, as found, as resolved).
pub fn evaluates_code(names: &[&str], args: &[String]) -> Option<String> {
    for name in names {
        let base = base_name(name);
        let base = if base.is_empty() {
            (*name).to_owned()
        } else {
            base
        };
        if EVALUATORS.contains(&base.as_str()) {
            return Some(format!("`{name}` can run code or other programs"));
        }
        if base == "find" {
            if let Some(action) = args.iter().find(|a| FIND_ACTIONS.contains(&a.as_str())) {
                return Some(format!("`find {action}` runs programs or changes files"));
            }
        }
        if base == "git" {
            // Global options before the subcommand can point git at any program.
            let global = args.iter().take_while(|a| a.starts_with('-')).find(|a| {
                a.starts_with("-c") || a.starts_with("--config-env") || a.starts_with("--exec-path")
            });
            let anywhere = args.iter().find(|a| {
                [
                    "--upload-pack",
                    "--receive-pack",
                    "--exec=",
                    "--ext-diff",
                    "--output",
                ]
                .iter()
                .any(|p| a.starts_with(p))
            });
            if let Some(option) = global.or(anywhere) {
                return Some(format!("`git {option}` can run programs or write files"));
            }
        }
    }
    None
}

/// The program a runner (`env`, `sudo`, `xargs`, …) would start, if `program` is one:
/// its first argument that is neither an option nor an assignment.
pub fn runner_target<'a>(program: &str, args: &'a [String]) -> Option<&'a str> {
    if !RUNNERS.contains(&base_name(file_name(Path::new(program))).as_str()) {
        return None;
    }
    args.iter()
        .map(String::as_str)
        .find(|a| !a.starts_with('-') && !a.contains('=') && a.parse::<f64>().is_err())
}

#[cfg(test)]
mod tests;
