//! Command tasks: shell syntax, deny rules, program resolution, allow rules and their
//! conditions — path arguments are reads inside the roots, and `git` runs only hardened,
//! in the owner's own repositories.

use std::path::Path;

use super::super::command::{analyze, CommandShape};
use super::super::git;
use super::super::paths;
use super::super::rules::{self, Program};
use super::{deny, ruling, Checker, Ruling};
use crate::policy::{Decision, Exec, Plan, Verdict};

/// The words of `words` that may name a path: each word, and the value of `--opt=value`.
fn path_candidates(words: &[String]) -> impl Iterator<Item = &str> {
    words.iter().flat_map(|word| {
        let value = word
            .strip_prefix('-')
            .and_then(|w| w.split_once('='))
            .map(|(_, v)| v);
        std::iter::once(word.as_str()).chain(value)
    })
}

impl Checker<'_> {
    pub(super) fn command(&self, command: &str, cwd: Option<&str>) -> Decision {
        let mut plan = Plan::default();
        match self.command_ruling(command, cwd, &mut plan) {
            Ok(ruling) | Err(ruling) => ruling.with(plan),
        }
    }

    fn command_ruling(
        &self,
        command: &str,
        cwd: Option<&str>,
        plan: &mut Plan,
    ) -> Result<Ruling, Ruling> {
        let limit = self.policy.limits.max_command_bytes;
        if command.len() > limit {
            return Err(deny(
                "limits.max_command_bytes",
                format!("command is over {limit} bytes"),
            ));
        }
        let cwd = self.working_dir(cwd, cwd.is_some(), plan)?;
        let (argv, programs) = match analyze(command, &self.env.home) {
            CommandShape::Empty => return Err(deny("command", "the command is empty")),
            CommandShape::Simple { argv } => {
                let programs = program_words(&argv);
                (argv, programs)
            }
            CommandShape::Shell {
                features,
                commands,
                words,
            } => {
                plan.exec = Some(Exec::Shell {
                    command: command.to_owned(),
                });
                self.check_words(&words, &cwd)?;
                let programs: Vec<_> = commands.iter().flat_map(|c| program_words(c)).collect();
                self.check_programs(&programs, &cwd)?;
                let names: Vec<&str> = features.iter().map(|f| f.as_str()).collect();
                let reason = format!("uses shell syntax ({})", names.join(", "));
                return Ok(self.floor(None, "shell_syntax", reason));
            }
        };
        self.check_words(&argv, &cwd)?;
        self.check_programs(&programs, &cwd)?;
        let (word, args) = argv.split_first().ok_or_else(|| deny("command", "empty"))?;
        let Some(program) = rules::resolve_program(word, self.search, &cwd) else {
            plan.exec = Some(Exec::Shell {
                command: command.to_owned(),
            });
            let reason = match rules::evaluates_code(&[rules::file_name(Path::new(word))], args) {
                Some(eval) => eval,
                None => format!("`{word}` is not a program in the search path"),
            };
            return Ok(self.floor(None, "program_not_found", reason));
        };
        plan.exec = Some(Exec::Direct {
            program: program.path.clone(),
            argv: argv.clone(),
        });
        let allowed = self.allow_ruling(&program, args, &cwd);
        let names = [
            rules::file_name(Path::new(word)),
            program.name(),
            rules::file_name(&program.real),
        ];
        if let Some(reason) = rules::evaluates_code(&names, args) {
            return Ok(self.floor(allowed, "inline_eval", reason));
        }
        let ruling = match allowed {
            Some(allowed) if allowed.verdict == Verdict::Allow => {
                match self.unread_argument(args, &cwd) {
                    Some((rule, reason)) => self.withdraw(allowed, rule, reason),
                    None => allowed,
                }
            }
            Some(matched) => matched,
            None => self.default_ruling("this command"),
        };
        // Whatever allowed it (a rule or the default), git runs hardened or not at all.
        let is_git = names.contains(&"git");
        if ruling.verdict == Verdict::Allow && is_git {
            return Ok(match git::harden(&argv, &cwd, &self.env.home, self.roots) {
                Ok(hardened) => {
                    // Git reads the whole work tree, wherever below it it runs.
                    if let Some(denial) = self.guarded.canary_below(&hardened.work_tree) {
                        let mut ruling = Ruling::from(denial);
                        ruling.reason = format!("git's work tree {}", ruling.reason);
                        return Err(ruling);
                    }
                    plan.exec = Some(Exec::Direct {
                        program: program.path.clone(),
                        argv: hardened.argv,
                    });
                    plan.env = hardened.env;
                    ruling
                }
                Err(reason) => self.withdraw(ruling, "git", reason),
            });
        }
        Ok(ruling)
    }

    /// The verdict of the first allow rule that matches, if any.
    fn allow_ruling(&self, program: &Program, args: &[String], cwd: &Path) -> Option<Ruling> {
        let rules = &self.policy.commands.allow;
        let programs = &self.compiled.allow_programs;
        let i = rules.iter().enumerate().position(|(i, rule)| {
            let ruled = programs.get(rules, i, self.search, cwd);
            rules::allow_matches(rule, ruled.as_ref(), program, args)
        })?;
        let unsandboxed = rules.get(i).is_some_and(|r| !r.sandbox);
        let mut matched = if unsandboxed {
            ruling(
                Verdict::Approve,
                format!("commands.allow[{i}].sandbox"),
                format!("`{}` runs outside the kernel sandbox", program.name()),
            )
        } else {
            ruling(
                Verdict::Allow,
                format!("commands.allow[{i}]"),
                format!("`{}` with these arguments is allowed", program.name()),
            )
        };
        matched.allow_rule = Some(i);
        Some(matched)
    }

    /// The first argument of an allowed program that is not a read inside the roots: one
    /// that names an existing path outside every read and write root, or a directory
    /// holding a denied path or the worker's own files (a recursive listing or diff would
    /// reach it). Returns the rule and the reason.
    fn unread_argument(&self, args: &[String], cwd: &Path) -> Option<(&'static str, String)> {
        for candidate in path_candidates(args) {
            let Ok(path) = paths::resolve(candidate, &self.env.home, cwd) else {
                continue;
            };
            if std::fs::symlink_metadata(&path.real).is_err() {
                continue;
            }
            if self.roots.any_root_for(&path.real).is_none() {
                return Some((
                    "arguments.outside_roots",
                    format!(
                        "argument `{candidate}` names {}, outside the read and write roots",
                        path.real.display()
                    ),
                ));
            }
            if let Some(what) = self.guarded.held_below(&path.real) {
                return Some((
                    "arguments.holds_denied",
                    format!("argument `{candidate}` is a directory that holds {what}"),
                ));
            }
        }
        None
    }

    /// Denies a command any of whose words (or `--opt=value` values) names a denied path,
    /// and trips a canary on a word naming the canary or a directory that holds it.
    fn check_words(&self, words: &[String], cwd: &Path) -> Result<(), Ruling> {
        for candidate in path_candidates(words) {
            let Ok(path) = paths::resolve(candidate, &self.env.home, cwd) else {
                continue;
            };
            let denial = self
                .guarded
                .denial(&path, false)
                .or_else(|| self.guarded.canary_below(&path.real));
            if let Some(denial) = denial {
                let mut ruling = Ruling::from(denial);
                ruling.reason = format!("argument `{candidate}` {}", ruling.reason);
                return Err(ruling);
            }
        }
        Ok(())
    }

    /// Denies a command that starts a program a deny rule names.
    fn check_programs(&self, programs: &[(String, Vec<String>)], cwd: &Path) -> Result<(), Ruling> {
        let compiled = self.compiled;
        let rule_sets = [
            (
                "builtin.deny_commands",
                compiled.builtin_deny.as_slice(),
                &compiled.builtin_deny_programs,
            ),
            (
                "commands.deny",
                self.policy.commands.deny.as_slice(),
                &compiled.deny_programs,
            ),
        ];
        for (word, args) in programs {
            let resolved: Option<Program> = rules::resolve_program(word, self.search, cwd);
            for (key, set, ruled) in rule_sets {
                if let Some(i) = set.iter().enumerate().position(|(i, rule)| {
                    let ruled = ruled.get(set, i, self.search, cwd);
                    rules::deny_matches(rule, ruled.as_ref(), word, resolved.as_ref(), args)
                }) {
                    return Err(deny(
                        format!("{key}[{i}]"),
                        format!("`{word}` is never run"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The program words of a simple command: `argv[0]`, then whatever a runner (`env`,
/// `sudo`, `xargs`, …) would start, each with the arguments that follow it.
fn program_words(argv: &[String]) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut rest = argv;
    while let Some((word, args)) = rest.split_first() {
        out.push((word.clone(), args.to_vec()));
        let Some(target) = rules::runner_target(word, args) else {
            break;
        };
        let at = args.iter().position(|a| a == target).unwrap_or(args.len());
        rest = &args[at..];
    }
    out
}
