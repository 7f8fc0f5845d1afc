//! Path resolution before any check: `~`, relative paths, `.`/`..`, repeated slashes and
//! symlinks, so that `~/.ssh/../.ssh/id_rsa`, `//Users/me/.ssh/./id_rsa` and a link planted
//! inside a root all reach the check as the file they really name.
//!
//! Patterns (deny lists, canaries) are globs matched against the path *and each of its
//! parents*, so `~/.ssh` covers everything below it. Pattern and path are both folded
//! ([`identity::fold_spelling`]: Unicode case and normalization): macOS file systems
//! ignore both, and `~/.SSH/id_rsa` opens the same key.

use std::io;
use std::path::{Component, Path, PathBuf};

use glob::{MatchOptions, Pattern};

use super::identity::{self, fold_spelling};

/// Most symlinks followed while resolving one path, as in Linux's `MAXSYMLINKS`.
const MAX_SYMLINK_DEPTH: usize = 40;

/// Why a path cannot be resolved. Every variant leads to a deny.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// The path is empty.
    #[error("empty path")]
    Empty,
    /// The path contains a NUL byte, which no system call accepts.
    #[error("path contains a NUL byte")]
    Nul,
    /// `~user` forms are not supported: only the worker's own home.
    #[error("`~user` paths are not supported")]
    OtherUsersHome,
    /// Too many symbolic links (a loop, most likely).
    #[error("too many levels of symbolic links")]
    SymlinkLoop,
    /// A part of the path exists but cannot be inspected (e.g. permission denied).
    #[error("cannot inspect {path}: {source}")]
    Inspect {
        /// The path that could not be inspected.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// A path as the check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPath {
    /// Absolute, every existing part with symlinks resolved; the missing tail appended as
    /// written (with `.`/`..` applied). This is the file an operation would touch.
    pub real: PathBuf,
    /// Absolute, `~` expanded and `.`/`..`/`//` folded, symlinks NOT resolved: what the
    /// requester named. Deny patterns are checked against both forms.
    pub named: PathBuf,
}

/// Expands `~`/`~/…` to `home` and makes `raw` absolute against `cwd`, without touching
/// the file system.
pub fn absolute(raw: &str, home: &Path, cwd: &Path) -> Result<PathBuf, PathError> {
    if raw.is_empty() {
        return Err(PathError::Empty);
    }
    if raw.contains('\0') {
        return Err(PathError::Nul);
    }
    let path = if raw == "~" {
        home.to_path_buf()
    } else if let Some(rest) = raw.strip_prefix("~/") {
        home.join(rest)
    } else if raw.starts_with('~') {
        return Err(PathError::OtherUsersHome);
    } else {
        cwd.join(raw)
    };
    Ok(path)
}

/// Folds `.`, `..` and repeated slashes of an absolute path without looking at the disk.
pub fn fold(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::Normal(name) => out.push(name),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// Resolves `raw` (relative to `cwd`, `~` meaning `home`) into both the real and the named
/// absolute path. Walks the path one component at a time, resolving each symlink it meets,
/// so a `..` after a link goes up from the link's target, as the kernel does.
pub fn resolve(raw: &str, home: &Path, cwd: &Path) -> Result<ResolvedPath, PathError> {
    let absolute = absolute(raw, home, cwd)?;
    let named = fold(&absolute);
    let real = resolve_real(&absolute)?;
    Ok(ResolvedPath { real, named })
}

/// Resolves an absolute path, following symlinks in every existing component.
fn resolve_real(absolute: &Path) -> Result<PathBuf, PathError> {
    let mut pending: Vec<std::ffi::OsString> = absolute
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_owned()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    let mut real = PathBuf::from("/");
    let mut links = 0;
    // Every component is inspected, even below a missing one: `missing/../link` climbs
    // back to where `link` may well be a symlink.
    while let Some(name) = pending.pop() {
        if name == ".." {
            real.pop();
            continue;
        }
        let candidate = real.join(&name);
        match std::fs::symlink_metadata(&candidate) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > MAX_SYMLINK_DEPTH {
                    return Err(PathError::SymlinkLoop);
                }
                let target =
                    std::fs::read_link(&candidate).map_err(|source| PathError::Inspect {
                        path: candidate.clone(),
                        source,
                    })?;
                if target.is_absolute() {
                    real = PathBuf::from("/");
                }
                for component in target.components().rev() {
                    match component {
                        Component::Normal(part) => pending.push(part.to_owned()),
                        Component::ParentDir => pending.push("..".into()),
                        _ => {}
                    }
                }
            }
            Ok(_) => real = candidate,
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                real = candidate;
            }
            Err(source) => {
                return Err(PathError::Inspect {
                    path: candidate,
                    source,
                })
            }
        }
    }
    Ok(real)
}

/// Whether `path` is `root` or below it, component by component (`/a/bc` is not below `/a/b`).
pub fn is_within(path: &Path, root: &Path) -> bool {
    path.starts_with(root)
}

/// A compiled path pattern: a glob (`*`, `?`, `[…]`, `**`) with `~` for the home directory.
/// A pattern that is not absolute (`**/.env`, `.env`) matches at any depth.
#[derive(Debug, Clone)]
pub struct PathPattern {
    /// As written, for messages.
    pub source: String,
    /// Matched against named paths: `~` expanded, nothing resolved.
    named: Pattern,
    /// Matched against real paths: the literal leading directories resolved like a path.
    real: Pattern,
}

/// How patterns match: case-insensitive (both sides are folded first, see the module
/// doc), `*` stops at `/`, and a leading dot is an ordinary character (`*` alone is never
/// used to mean "no dotfiles").
const MATCH: MatchOptions = MatchOptions {
    case_sensitive: false,
    require_literal_separator: true,
    require_literal_leading_dot: false,
};

impl PathPattern {
    /// Compiles `source` for a user whose home is `home`. The literal part before the first
    /// wildcard is resolved on disk now, so `/tmp/x` also matches `/private/tmp/x` on macOS.
    pub fn new(source: &str, home: &Path) -> Result<Self, glob::PatternError> {
        let expanded = expand_pattern(source, home);
        let named = Pattern::new(&fold_spelling(&expanded))?;
        let real = Pattern::new(&fold_spelling(&resolve_literal_prefix(&expanded)))?;
        Ok(Self {
            source: source.to_owned(),
            named,
            real,
        })
    }

    /// Whether the pattern matches `path` (either form) or any parent of it, spellings
    /// folded.
    pub fn matches(&self, path: &ResolvedPath) -> bool {
        self.matches_folded(&FoldedPath::of(path))
    }

    /// Matches as [`PathPattern::matches`] does, for a path folded once for many patterns.
    pub fn matches_folded(&self, path: &FoldedPath) -> bool {
        path.named
            .ancestors()
            .any(|p| self.named.matches_path_with(p, MATCH))
            || path
                .real
                .ancestors()
                .any(|p| self.real.matches_path_with(p, MATCH))
    }

    /// Whether the pattern names one path (no wildcard), matched below a fixed place:
    /// such a path can also be compared by identity.
    pub fn is_literal(&self) -> bool {
        let anchored =
            self.source == "~" || self.source.starts_with("~/") || self.source.starts_with('/');
        anchored && !is_glob(&self.source)
    }
}

/// A policy path pattern made absolute: `~` and `~/…` name the home directory, an
/// absolute pattern stays as it is, and anything else matches at any depth (`.env` and
/// `**/.env` both become `/**/.env`). Nothing is resolved on disk.
pub fn expand_pattern(source: &str, home: &Path) -> String {
    if source == "~" {
        home.to_string_lossy().into_owned()
    } else if let Some(rest) = source.strip_prefix("~/") {
        format!("{}/{rest}", home.to_string_lossy().trim_end_matches('/'))
    } else if source.starts_with('/') {
        source.to_owned()
    } else if source.starts_with("**/") {
        format!("/{source}")
    } else {
        format!("/**/{source}")
    }
}

/// Whether a policy path pattern has a wildcard (else it names one path).
pub fn is_glob(source: &str) -> bool {
    source.contains(['*', '?', '[', ']'])
}

/// Both forms of a resolved path with every component's spelling folded
/// ([`identity::folded`]), as patterns match them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoldedPath {
    named: PathBuf,
    real: PathBuf,
}

impl FoldedPath {
    /// Folds both forms of `path`.
    pub fn of(path: &ResolvedPath) -> Self {
        Self {
            named: identity::folded(&path.named),
            real: identity::folded(&path.real),
        }
    }
}

/// Splits a pattern before its first component with a wildcard: `/Users/me/proj` and
/// `/*.pem` for `/Users/me/proj/*.pem`; the whole pattern and `""` when it has none.
pub fn split_literal_prefix(pattern: &str) -> (&str, &str) {
    let mut offset: usize = 0;
    for component in pattern.split('/') {
        if is_glob(component) {
            let cut = offset.saturating_sub(1);
            return pattern.split_at(cut);
        }
        offset += component.len() + 1;
    }
    (pattern, "")
}

/// Resolves the wildcard-free leading directories of an absolute glob on disk and re-joins
/// the rest, escaping the resolved part so its own `[`/`*` stay literal.
fn resolve_literal_prefix(pattern: &str) -> String {
    let (prefix, rest) = split_literal_prefix(pattern);
    let Ok(real) = resolve_real(Path::new(if prefix.is_empty() { "/" } else { prefix })) else {
        return pattern.to_owned();
    };
    let mut out = Pattern::escape(&real.to_string_lossy());
    if !rest.is_empty() {
        for part in rest.strip_prefix('/').unwrap_or(rest).split('/') {
            if !out.ends_with('/') {
                out.push('/');
            }
            out.push_str(part);
        }
    }
    out
}

#[cfg(test)]
mod tests;
