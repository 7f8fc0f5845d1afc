//! [`check()`]: from a task to a [`Decision`]. Order of precedence, for every kind: canary
//! paths, the worker's own files, deny rules (built-in, then the file's), limits; then the
//! floors (shell syntax, inline evaluation, unknown program, Claude without permission
//! prompts: never better than `approve`); then allow rules and roots, each with its
//! conditions (path arguments inside the roots, git only in the owner's repositories, the
//! write quota); then the default.
//!
//! # Layout
//! - this file: the checker, the verdict helpers, Claude.
//! - `command.rs`: command tasks.
//! - `file.rs`: reads, writes and edits.
//! - `tests/`: one test file per kind of task on a shared fake home (`tests/fixture.rs`).

mod command;
mod file;

use std::path::{Path, PathBuf};

use openclaw_shared::TaskSpec;

use super::defaults;
use super::guarded::{Denial, Guarded};
use super::paths::{self, ResolvedPath};
use super::roots::Roots;
use super::rules::CommandRule;
use super::rules::RulePrograms;
use super::{CheckEnv, Decision, Plan, Policy, Verdict};

/// Decides what to do with `spec` under `policy`. Reads file metadata (to resolve paths
/// and programs, to measure a write root) but changes nothing; locking on a canary is the
/// caller's job. Compiles the policy first: a caller that checks many tasks keeps a
/// [`Compiled`] and calls [`check_compiled`].
pub fn check(policy: &Policy, spec: &TaskSpec, env: &CheckEnv) -> Decision {
    check_compiled(policy, &Compiled::new(policy, env), spec, env)
}

/// A policy compiled for one environment: its guarded paths (patterns, and the identities
/// of what they name on disk) and roots, resolved. Compiling reads the file system (a few
/// hundred `lstat`s): worth keeping for a while, not forever, since the identities it
/// records go stale when the named files are replaced.
pub struct Compiled {
    search: Vec<PathBuf>,
    guarded: Guarded,
    roots: Roots,
    /// The built-in deny rules, as rules.
    builtin_deny: Vec<CommandRule>,
    /// The programs of `commands.allow`, `builtin_deny` and `commands.deny`, resolved.
    allow_programs: RulePrograms,
    builtin_deny_programs: RulePrograms,
    deny_programs: RulePrograms,
}

impl Compiled {
    /// Compiles `policy` for `env`.
    pub fn new(policy: &Policy, env: &CheckEnv) -> Self {
        let search = policy.search_path(env);
        let builtin_deny: Vec<CommandRule> = defaults::DENY_COMMANDS
            .iter()
            .map(|name| CommandRule::new(name, &[], &[]))
            .collect();
        Self {
            guarded: Guarded::new(policy, env, &search),
            roots: Roots::new(policy, &env.home),
            allow_programs: RulePrograms::resolve(&policy.commands.allow, &search),
            builtin_deny_programs: RulePrograms::resolve(&builtin_deny, &search),
            deny_programs: RulePrograms::resolve(&policy.commands.deny, &search),
            builtin_deny,
            search,
        }
    }
}

/// Decides as [`check`] does, with the policy already compiled (by [`Compiled::new`] for
/// the same policy and environment).
pub fn check_compiled(
    policy: &Policy,
    compiled: &Compiled,
    spec: &TaskSpec,
    env: &CheckEnv,
) -> Decision {
    let checker = Checker {
        policy,
        env,
        search: &compiled.search,
        guarded: &compiled.guarded,
        roots: &compiled.roots,
        compiled,
    };
    match spec {
        TaskSpec::Command { command, cwd } => checker.command(command, cwd.as_deref()),
        TaskSpec::FileRead { path } => checker.read(path),
        TaskSpec::FileWrite {
            path,
            content,
            encoding,
        } => checker.write(path, content, *encoding),
        TaskSpec::FileEdit {
            path,
            old_string,
            new_string,
            replace_all,
        } => checker.edit(path, old_string, new_string, *replace_all),
        TaskSpec::Claude { cwd, .. } => checker.claude(cwd.as_deref()),
        TaskSpec::Agent { agent, cwd, .. } => checker.agent(agent, cwd.as_deref()),
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

impl From<Denial> for Ruling {
    fn from(denial: Denial) -> Self {
        Ruling {
            canary: denial.canary,
            ..deny(denial.rule, denial.reason)
        }
    }
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

/// One check's view of the policy, compiled.
struct Checker<'a> {
    policy: &'a Policy,
    env: &'a CheckEnv,
    search: &'a [PathBuf],
    guarded: &'a Guarded,
    roots: &'a Roots,
    compiled: &'a Compiled,
}

impl Checker<'_> {
    fn resolve(&self, raw: &str, cwd: &Path) -> Result<ResolvedPath, Ruling> {
        paths::resolve(raw, &self.env.home, cwd)
            .map_err(|err| deny("path", format!("cannot resolve `{raw}`: {err}")))
    }

    /// The first rule that forbids touching `path`, if any.
    fn path_denial(&self, path: &ResolvedPath, write: bool) -> Option<Ruling> {
        self.guarded.denial(path, write).map(Ruling::from)
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

    /// An `allow` whose condition failed: the task falls to the default verdict, but
    /// never better than `approve` (a default of `allow` must not undo the condition).
    fn withdraw(&self, allowed: Ruling, rule: &str, reason: String) -> Ruling {
        let (verdict, reason) = if self.policy.default == Verdict::Deny {
            (Verdict::Deny, format!("{reason}; the default denies"))
        } else {
            (Verdict::Approve, reason)
        };
        Ruling {
            allow_rule: allowed.allow_rule,
            ..ruling(verdict, rule, reason)
        }
    }

    /// Resolves and checks a task's working directory, recording it in the plan. One the
    /// task names (`named`) trips a canary it holds, as naming it in an argument does: a
    /// program run there lists it (`ls`), or reads all below it (git, Claude). The default
    /// directory, which the task does not name, does not.
    fn working_dir(
        &self,
        cwd: Option<&str>,
        named: bool,
        plan: &mut Plan,
    ) -> Result<PathBuf, Ruling> {
        let default = self.env.default_cwd.to_string_lossy();
        let raw = cwd.unwrap_or(&default);
        let resolved = self.resolve(raw, &self.env.default_cwd)?;
        plan.cwd = Some(resolved.real.clone());
        let denial = self.path_denial(&resolved, false).or_else(|| {
            named
                .then(|| self.guarded.canary_below(&resolved.real))
                .flatten()
                .map(Ruling::from)
        });
        match denial {
            Some(mut ruling) => {
                ruling.reason = format!("working directory {}", ruling.reason);
                Err(ruling)
            }
            None => Ok(resolved.real),
        }
    }

    fn claude(&self, cwd: Option<&str>) -> Decision {
        let mut plan = Plan::default();
        let claude = &self.policy.claude;
        let named = cwd.is_some();
        let ruling = match self.working_dir(cwd.or(claude.cwd.as_deref()), named, &mut plan) {
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

    /// An agent CLI of the worker config: its tier, once its working directory passes. An
    /// agent the worker does not have is denied: nothing runs, and the owner learns why.
    fn agent(&self, name: &str, cwd: Option<&str>) -> Decision {
        let mut plan = Plan::default();
        let Some(agent) = self.policy.agents.get(name) else {
            return deny(
                "agents",
                format!("this worker has no agent named {name} (configure [agents.{name}])"),
            )
            .with(plan);
        };
        let named = cwd.is_some();
        let ruling = match self.working_dir(cwd.or(agent.cwd.as_deref()), named, &mut plan) {
            Err(ruling) => ruling,
            Ok(_) => ruling(
                agent.tier,
                format!("agents.{name}.tier"),
                "the agent's tier",
            ),
        };
        ruling.with(plan)
    }
}

#[cfg(test)]
mod tests;
