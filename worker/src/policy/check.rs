//! [`check()`]: from a task to a [`Decision`]. Order of precedence, for every kind: canary
//! paths, the worker's own files, deny rules (built-in, then the file's), limits; then the
//! floors (shell syntax, inline evaluation, unknown program, Claude without permission
//! prompts: never better than `approve`); then allow rules and roots; then the default.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use openclaw_shared::{ContentEncoding, TaskSpec};
use sha2::{Digest, Sha256};

use super::command::{analyze, CommandShape};
use super::defaults;
use super::file::CommandRule;
use super::paths::{self, PathPattern, ResolvedPath};
use super::rules::{self, Program};
use super::{CheckEnv, Decision, Exec, Plan, Policy, Verdict};

/// Decides what to do with `spec` under `policy`. Reads file metadata (to resolve paths
/// and programs) but changes nothing; locking on a canary is the caller's job.
pub fn check(policy: &Policy, spec: &TaskSpec, env: &CheckEnv) -> Decision {
    let checker = Checker::new(policy, env);
    match spec {
        TaskSpec::Command { command, cwd } => checker.command(command, cwd.as_deref()),
        TaskSpec::FileRead { path } => checker.read(path),
        TaskSpec::FileWrite {
            path,
            content,
            encoding,
        } => checker.write(path, content, *encoding),
        TaskSpec::FileEdit { path, .. } => checker.edit(path),
        TaskSpec::Claude { cwd, .. } => checker.claude(cwd.as_deref()),
    }
}

/// A verdict without its plan, while the check runs.
struct Ruling {
    verdict: Verdict,
    rule: String,
    reason: String,
    canary: Option<PathBuf>,
    allow_rule: Option<usize>,
}

fn ruling(verdict: Verdict, rule: impl Into<String>, reason: impl Into<String>) -> Ruling {
    Ruling {
        verdict,
        rule: rule.into(),
        reason: reason.into(),
        canary: None,
        allow_rule: None,
    }
}

fn deny(rule: impl Into<String>, reason: impl Into<String>) -> Ruling {
    ruling(Verdict::Deny, rule, reason)
}

impl Ruling {
    fn with(self, plan: Plan) -> Decision {
        Decision {
            verdict: self.verdict,
            rule: self.rule,
            reason: self.reason,
            canary: self.canary,
            allow_rule: self.allow_rule,
            plan,
        }
    }
}

/// One check's compiled view of the policy.
struct Checker<'a> {
    policy: &'a Policy,
    env: &'a CheckEnv,
    search: Vec<PathBuf>,
    /// Read-and-write deny patterns, with the rule name each reports.
    deny: Vec<(String, PathPattern)>,
    /// Write-only deny patterns.
    deny_write: Vec<(String, PathPattern)>,
    canary: Vec<(String, PathPattern)>,
}

fn compile(prefix: &str, list: &[impl AsRef<str>], home: &Path) -> Vec<(String, PathPattern)> {
    list.iter()
        .enumerate()
        .filter_map(|(i, source)| {
            // `Policy::validate` already refused bad patterns; a built-in one cannot be.
            PathPattern::new(source.as_ref(), home)
                .ok()
                .map(|p| (format!("{prefix}[{i}]"), p))
        })
        .collect()
}

impl<'a> Checker<'a> {
    fn new(policy: &'a Policy, env: &'a CheckEnv) -> Self {
        let home = env.home.as_path();
        let mut deny = compile("builtin.deny_paths", defaults::DENY_PATHS, home);
        deny.extend(compile("paths.deny", &policy.paths.deny, home));
        let mut deny_write = compile("builtin.deny_write_paths", defaults::DENY_WRITE_PATHS, home);
        deny_write.extend(compile("paths.deny_write", &policy.paths.deny_write, home));
        let search = policy.search_path(env);
        // Writing into a program directory would plant a program the allow rules trust.
        let search_sources: Vec<String> = search
            .iter()
            .map(|d| glob::Pattern::escape(&d.to_string_lossy()))
            .collect();
        deny_write.extend(compile("commands.path", &search_sources, home));
        Self {
            policy,
            env,
            search,
            deny,
            deny_write,
            canary: compile("paths.canary", &policy.paths.canary, home),
        }
    }

    fn resolve(&self, raw: &str, cwd: &Path) -> Result<ResolvedPath, Ruling> {
        paths::resolve(raw, &self.env.home, cwd)
            .map_err(|err| deny("path", format!("cannot resolve `{raw}`: {err}")))
    }

    /// The first rule that forbids touching `path`, if any. Canaries come first so that a
    /// canary inside a denied directory still locks the worker.
    fn path_denial(&self, path: &ResolvedPath, write: bool) -> Option<Ruling> {
        if let Some((rule, _)) = self.canary.iter().find(|(_, p)| p.matches(path)) {
            let mut ruling = deny(
                rule.clone(),
                "touches a canary path; the worker is now locked",
            );
            ruling.canary = Some(path.real.clone());
            return Some(ruling);
        }
        for (i, own) in self.policy.protected.iter().enumerate() {
            let own = paths::resolve(&own.to_string_lossy(), &self.env.home, &self.env.home);
            if own.is_ok_and(|own| {
                paths::is_within(&path.real, &own.real) || paths::is_within(&path.named, &own.named)
            }) {
                return Some(deny(
                    format!("protected[{i}]"),
                    "is one of the worker's own files",
                ));
            }
        }
        let write_list = if write {
            self.deny_write.as_slice()
        } else {
            &[]
        };
        self.deny
            .iter()
            .chain(write_list)
            .find(|(_, pattern)| pattern.matches(path))
            .map(|(rule, pattern)| deny(rule.clone(), format!("matches `{}`", pattern.source)))
    }

    /// The first root (of `roots`, reported as `key[i]`) that contains `path`.
    fn root_for(&self, key: &str, roots: &[String], path: &ResolvedPath) -> Option<String> {
        roots.iter().enumerate().find_map(|(i, root)| {
            let root = paths::resolve(root, &self.env.home, &self.env.home).ok()?;
            paths::is_within(&path.real, &root.real).then(|| format!("{key}[{i}]"))
        })
    }

    fn default_ruling(&self, what: &str) -> Ruling {
        ruling(
            self.policy.default,
            "default",
            format!("no rule matches {what}"),
        )
    }

    /// `ruling` raised to at least `approve` by a floor rule, unless the default denies.
    fn floor(&self, matched: Option<Ruling>, rule: &str, reason: String) -> Ruling {
        match matched {
            None if self.policy.default == Verdict::Deny => ruling(
                Verdict::Deny,
                "default",
                format!("{reason}; the default denies"),
            ),
            matched => {
                let mut floored = ruling(Verdict::Approve, rule, reason);
                floored.allow_rule = matched.and_then(|m| m.allow_rule);
                floored
            }
        }
    }

    fn command(&self, command: &str, cwd: Option<&str>) -> Decision {
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
        let cwd = self.working_dir(cwd, plan)?;
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
        let Some(program) = rules::resolve_program(word, &self.search, &cwd) else {
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
        let allowed = self
            .policy
            .commands
            .allow
            .iter()
            .position(|rule| rules::allow_matches(rule, &program, args, &self.search, &cwd));
        let allowed = allowed.map(|i| {
            let unsandboxed = self
                .policy
                .commands
                .allow
                .get(i)
                .is_some_and(|r| !r.sandbox);
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
            matched
        });
        let names = [
            rules::file_name(Path::new(word)),
            program.name(),
            rules::file_name(&program.real),
        ];
        if let Some(reason) = rules::evaluates_code(&names, args) {
            return Ok(self.floor(allowed, "inline_eval", reason));
        }
        Ok(allowed.unwrap_or_else(|| self.default_ruling("this command")))
    }

    /// Resolves and checks a task's working directory, recording it in the plan.
    fn working_dir(&self, cwd: Option<&str>, plan: &mut Plan) -> Result<PathBuf, Ruling> {
        let default = self.env.default_cwd.to_string_lossy();
        let raw = cwd.unwrap_or(&default);
        let resolved = self.resolve(raw, &self.env.default_cwd)?;
        plan.cwd = Some(resolved.real.clone());
        match self.path_denial(&resolved, false) {
            Some(mut ruling) => {
                ruling.reason = format!("working directory {}", ruling.reason);
                Err(ruling)
            }
            None => Ok(resolved.real),
        }
    }

    /// Denies a command any of whose words (or `--opt=value` values) names a denied path.
    fn check_words(&self, words: &[String], cwd: &Path) -> Result<(), Ruling> {
        for word in words {
            let value = word
                .strip_prefix('-')
                .and_then(|w| w.split_once('='))
                .map(|(_, v)| v);
            for candidate in std::iter::once(word.as_str()).chain(value) {
                let Ok(path) = paths::resolve(candidate, &self.env.home, cwd) else {
                    continue;
                };
                if let Some(mut ruling) = self.path_denial(&path, false) {
                    ruling.reason = format!("argument `{candidate}` {}", ruling.reason);
                    return Err(ruling);
                }
            }
        }
        Ok(())
    }

    /// Denies a command that starts a program a deny rule names.
    fn check_programs(&self, programs: &[(String, Vec<String>)], cwd: &Path) -> Result<(), Ruling> {
        let builtin: Vec<CommandRule> = defaults::DENY_COMMANDS
            .iter()
            .map(|name| CommandRule::new(name, &[], &[]))
            .collect();
        let rule_sets = [
            ("builtin.deny_commands", builtin.as_slice()),
            ("commands.deny", self.policy.commands.deny.as_slice()),
        ];
        for (word, args) in programs {
            let resolved: Option<Program> = rules::resolve_program(word, &self.search, cwd);
            for (key, set) in rule_sets {
                if let Some(i) = set.iter().position(|rule| {
                    rules::deny_matches(rule, word, resolved.as_ref(), args, &self.search, cwd)
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

    fn read(&self, raw: &str) -> Decision {
        let mut plan = Plan::default();
        let ruling = self.read_ruling(raw, &mut plan).unwrap_or_else(|r| r);
        ruling.with(plan)
    }

    fn read_ruling(&self, raw: &str, plan: &mut Plan) -> Result<Ruling, Ruling> {
        let path = self.resolve(raw, &self.env.default_cwd)?;
        plan.paths.push(path.real.clone());
        if let Some(ruling) = self.path_denial(&path, false) {
            return Err(ruling);
        }
        self.check_existing(&path.real)?;
        let paths = &self.policy.paths;
        let root = self
            .root_for("paths.read_roots", &paths.read_roots, &path)
            .or_else(|| self.root_for("paths.write_roots", &paths.write_roots, &path));
        Ok(match root {
            Some(rule) => ruling(Verdict::Allow, rule, "inside a read root"),
            None => self.default_ruling("this path"),
        })
    }

    /// Refuses an existing target that is not a regular file or is over the read limit.
    fn check_existing(&self, real: &Path) -> Result<(), Ruling> {
        let Ok(meta) = std::fs::metadata(real) else {
            return Ok(());
        };
        let limit = self.policy.limits.max_read_bytes;
        if !meta.is_file() {
            Err(deny("path", "is not a regular file"))
        } else if meta.len() > limit {
            Err(deny(
                "limits.max_read_bytes",
                format!("file is over {limit} bytes"),
            ))
        } else {
            Ok(())
        }
    }

    fn write(&self, raw: &str, content: &str, encoding: ContentEncoding) -> Decision {
        let mut plan = Plan::default();
        let ruling = self
            .write_ruling(raw, Some((content, encoding)), &mut plan)
            .unwrap_or_else(|r| r);
        ruling.with(plan)
    }

    fn edit(&self, raw: &str) -> Decision {
        let mut plan = Plan::default();
        let ruling = self
            .write_ruling(raw, None, &mut plan)
            .unwrap_or_else(|r| r);
        ruling.with(plan)
    }

    /// A write (with content) or an edit (without).
    fn write_ruling(
        &self,
        raw: &str,
        content: Option<(&str, ContentEncoding)>,
        plan: &mut Plan,
    ) -> Result<Ruling, Ruling> {
        if let Some((content, encoding)) = content {
            let bytes = match encoding {
                ContentEncoding::Utf8 => content.as_bytes().to_vec(),
                ContentEncoding::Base64 => base64::engine::general_purpose::STANDARD
                    .decode(content)
                    .map_err(|_| deny("content", "content is not valid base64"))?,
            };
            plan.content_sha256 = Some(Sha256::digest(&bytes).into());
            let limit = self.policy.limits.max_write_bytes;
            if bytes.len() as u64 > limit {
                return Err(deny(
                    "limits.max_write_bytes",
                    format!("content is over {limit} bytes"),
                ));
            }
        }
        let path = self.resolve(raw, &self.env.default_cwd)?;
        plan.paths.push(path.real.clone());
        if let Some(ruling) = self.path_denial(&path, true) {
            return Err(ruling);
        }
        self.check_existing(&path.real)?;
        Ok(
            match self.root_for("paths.write_roots", &self.policy.paths.write_roots, &path) {
                Some(rule) => ruling(Verdict::Allow, rule, "inside a write root"),
                None => self.default_ruling("this path"),
            },
        )
    }

    fn claude(&self, cwd: Option<&str>) -> Decision {
        let mut plan = Plan::default();
        let claude = &self.policy.claude;
        let ruling = match self.working_dir(cwd.or(claude.cwd.as_deref()), &mut plan) {
            Err(ruling) => ruling,
            Ok(_) if claude.dangerously_skip_permissions && claude.tier == Verdict::Allow => {
                ruling(
                    Verdict::Approve,
                    "claude.dangerously_skip_permissions",
                    "Claude without permission prompts can run anything",
                )
            }
            Ok(_) => ruling(claude.tier, "claude.tier", "the Claude tier"),
        };
        ruling.with(plan)
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

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
