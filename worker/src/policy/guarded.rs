//! The paths a check guards — canaries, the worker's own files, the deny lists, git's own
//! files — compiled once per check and matched two ways: patterns by folded spelling, and
//! every guarded path that exists by file identity, so that no second name of it (another
//! case, another normalization, a firmlink, a bind mount, a hard link to one of the
//! worker's files) gets past.

use std::path::{Path, PathBuf};

use super::defaults;
use super::identity::{self, FileId, IdentityMap};
use super::paths::{self, FoldedPath, PathPattern, ResolvedPath};
use super::{CheckEnv, Policy};

/// Most entries recorded from the worker's own trees (config, policy, state: a handful of
/// files; a tree this large is not the worker's).
const MAX_PROTECTED_ENTRIES: usize = 10_000;

/// Names of git's own files: a `.git` file or directory, and the `gitdir` and `commondir`
/// files that point git at another repository. Writing one can make git run a program.
pub const GIT_INTERNALS: &[&str] = &[".git", "gitdir", "commondir"];

/// Why a path is refused, and by which rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// The rule, e.g. `paths.deny[2]`, `protected[0]`, `builtin.git_internals`.
    pub rule: String,
    /// Why, in words.
    pub reason: String,
    /// The canary that was touched, when one was: the caller locks the worker.
    pub canary: Option<PathBuf>,
}

fn denial(rule: impl Into<String>, reason: impl Into<String>) -> Denial {
    Denial {
        rule: rule.into(),
        reason: reason.into(),
        canary: None,
    }
}

/// One deny or canary pattern.
struct Guard {
    rule: String,
    pattern: PathPattern,
    /// For a literal pattern (`~/.ssh`): what it names on disk, when that exists.
    existing: Option<(FileId, PathBuf)>,
}

impl Guard {
    fn matches(&self, path: &FoldedPath, lineage: &[FileId]) -> bool {
        // An identity recorded a while ago counts only while the path still has it (its
        // inode number may have been freed and reused since).
        self.pattern.matches_folded(path)
            || self
                .existing
                .as_ref()
                .is_some_and(|(id, named)| lineage.contains(id) && FileId::of(named) == Some(*id))
    }
}

/// One of the worker's own files or trees, resolved.
struct Protected {
    rule: String,
    path: ResolvedPath,
}

/// Everything a check refuses to touch, compiled.
pub struct Guarded {
    /// Never read nor written.
    deny: Vec<Guard>,
    /// Never written.
    deny_write: Vec<Guard>,
    /// Tripwires.
    canary: Vec<Guard>,
    /// The worker's own files.
    protected: Vec<Protected>,
    /// Every entry of the worker's own trees, by identity, to its index in `protected`.
    protected_ids: IdentityMap<usize>,
    /// Directories that hold a denied or protected path that exists: what they hold.
    holders: IdentityMap<String>,
    /// Directories that hold a literal canary that exists: the rule and the canary.
    canary_holders: IdentityMap<(String, PathBuf)>,
}

fn compile(prefix: &str, list: &[impl AsRef<str>], home: &Path) -> Vec<Guard> {
    list.iter()
        .enumerate()
        .filter_map(|(i, source)| {
            // `Policy::validate` already refused bad patterns; a built-in one cannot be.
            let pattern = PathPattern::new(source.as_ref(), home).ok()?;
            let existing = if pattern.is_literal() {
                paths::resolve(source.as_ref(), home, home)
                    .ok()
                    .and_then(|p| FileId::of(&p.real).map(|id| (id, p.real)))
            } else {
                None
            };
            Some(Guard {
                rule: format!("{prefix}[{i}]"),
                pattern,
                existing,
            })
        })
        .collect()
}

impl Guarded {
    /// Compiles the guarded paths of `policy` for `env`; `search` is the program search
    /// path, never written (a planted program there would be trusted by the allow rules).
    pub fn new(policy: &Policy, env: &CheckEnv, search: &[PathBuf]) -> Self {
        let home = env.home.as_path();
        let mut deny = compile("builtin.deny_paths", defaults::DENY_PATHS, home);
        deny.extend(compile("paths.deny", &policy.paths.deny, home));
        let mut deny_write = compile("builtin.deny_write_paths", defaults::DENY_WRITE_PATHS, home);
        deny_write.extend(compile("paths.deny_write", &policy.paths.deny_write, home));
        let search_sources: Vec<String> = search
            .iter()
            .map(|d| glob::Pattern::escape(&d.to_string_lossy()))
            .collect();
        deny_write.extend(compile("commands.path", &search_sources, home));
        let canary = compile("paths.canary", &policy.paths.canary, home);

        let protected: Vec<Protected> = policy
            .protected
            .iter()
            .enumerate()
            .filter_map(|(i, own)| {
                let path = paths::resolve(&own.to_string_lossy(), home, home).ok()?;
                Some(Protected {
                    rule: format!("protected[{i}]"),
                    path,
                })
            })
            .collect();
        let mut protected_ids = IdentityMap::with_budget(MAX_PROTECTED_ENTRIES);
        let mut holders = IdentityMap::default();
        for (i, own) in protected.iter().enumerate() {
            if !protected_ids.insert_tree(&own.path.real, &i) {
                tracing::warn!(
                    path = %own.path.real.display(),
                    limit = MAX_PROTECTED_ENTRIES,
                    "the worker's own files are too many to record by identity; hard links to the rest are not caught"
                );
            }
            let what = format!("the worker's own files ({})", own.rule);
            holders.insert_ancestors(&own.path.real, &what);
        }
        for guard in &deny {
            if let Some((_, real)) = &guard.existing {
                let what = format!("`{}` ({})", guard.pattern.source, guard.rule);
                holders.insert_ancestors(real, &what);
            }
        }
        let mut canary_holders = IdentityMap::default();
        for guard in &canary {
            if let Some((_, real)) = &guard.existing {
                canary_holders.insert_ancestors(real, &(guard.rule.clone(), real.clone()));
            }
        }
        Self {
            deny,
            deny_write,
            canary,
            protected,
            protected_ids,
            holders,
            canary_holders,
        }
    }

    /// The first rule that forbids touching `path`, if any. Canaries come first so that a
    /// canary inside a denied directory still locks the worker.
    pub fn denial(&self, path: &ResolvedPath, write: bool) -> Option<Denial> {
        let lineage = identity::lineage(&path.real);
        let folded = FoldedPath::of(path);
        if let Some(guard) = self.canary.iter().find(|g| g.matches(&folded, &lineage)) {
            return Some(Denial {
                canary: Some(path.real.clone()),
                ..denial(
                    guard.rule.clone(),
                    "touches a canary path; the worker is now locked",
                )
            });
        }
        if let Some(own) = self.protected_by(path, &lineage) {
            return Some(denial(own.rule.clone(), "is one of the worker's own files"));
        }
        if write
            && (identity::has_component(&path.named, GIT_INTERNALS)
                || identity::has_component(&path.real, GIT_INTERNALS))
        {
            return Some(denial(
                "builtin.git_internals",
                "is one of git's own files (`.git`, `gitdir`, `commondir`): writing one \
                 can make git run a program",
            ));
        }
        let write_list = if write {
            self.deny_write.as_slice()
        } else {
            &[]
        };
        self.deny
            .iter()
            .chain(write_list)
            .find(|guard| guard.matches(&folded, &lineage))
            .map(|guard| {
                denial(
                    guard.rule.clone(),
                    format!("matches `{}`", guard.pattern.source),
                )
            })
    }

    /// The protected entry `path` is (or lies in) under any name.
    fn protected_by(&self, path: &ResolvedPath, lineage: &[FileId]) -> Option<&Protected> {
        self.protected
            .iter()
            .find(|own| {
                identity::spelled_within(&path.real, &own.path.real)
                    || identity::spelled_within(&path.named, &own.path.named)
            })
            .or_else(|| {
                let index = *self.protected_ids.find(lineage)?;
                self.protected.get(index)
            })
    }

    /// What denied or protected path the existing directory `dir` holds below it, if any:
    /// listing or diffing it recursively would reach that path.
    pub fn held_below(&self, dir: &Path) -> Option<&str> {
        let id = FileId::of(dir)?;
        self.holders.find(&[id]).map(String::as_str)
    }

    /// The canary the existing directory `dir` holds below it, if any: naming the
    /// directory trips the canary.
    pub fn canary_below(&self, dir: &Path) -> Option<Denial> {
        let id = FileId::of(dir)?;
        let (rule, canary) = self.canary_holders.find(&[id])?;
        Some(Denial {
            canary: Some(canary.clone()),
            ..denial(
                rule.clone(),
                format!(
                    "names a directory that holds a canary ({}); the worker is now locked",
                    canary.display()
                ),
            )
        })
    }
}
