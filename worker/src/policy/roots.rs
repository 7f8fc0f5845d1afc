//! The read and write roots, resolved once per check, and [`Policy::check_roots`]: no root
//! may hold, be, or lie inside one of the worker's own files.
//!
//! Two questions, answered differently on purpose. "Is this path inside a root?" grants
//! something, so it is answered by the resolved spelling: a path spelled unlike its root
//! (`~/PROJECTS` on a case-insensitive volume) is simply not granted. "Is this path inside
//! a *write* root?" refuses something (git there, say), so it is answered under any name:
//! folded spelling or file identity.

use std::path::{Path, PathBuf};

use super::identity::{self, FileId};
use super::paths;
use super::{Policy, PolicyError};

/// One configured root, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    /// Where it is configured, e.g. `paths.write_roots[0]`.
    pub key: String,
    /// The directory, symlinks resolved.
    pub real: PathBuf,
}

/// The policy's read and write roots, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roots {
    /// `paths.read_roots`.
    pub read: Vec<Root>,
    /// `paths.write_roots`.
    pub write: Vec<Root>,
}

fn resolve_all(key: &str, list: &[String], home: &Path) -> Vec<Root> {
    list.iter()
        .enumerate()
        .filter_map(|(i, raw)| {
            let real = paths::resolve(raw, home, home).ok()?.real;
            Some(Root {
                key: format!("{key}[{i}]"),
                real,
            })
        })
        .collect()
}

impl Roots {
    /// Resolves the roots of `policy` for a user whose home is `home`.
    pub fn new(policy: &Policy, home: &Path) -> Self {
        Self {
            read: resolve_all("paths.read_roots", &policy.paths.read_roots, home),
            write: resolve_all("paths.write_roots", &policy.paths.write_roots, home),
        }
    }

    /// The first read root that contains the resolved path `real`.
    pub fn read_root_for(&self, real: &Path) -> Option<&Root> {
        self.read.iter().find(|r| paths::is_within(real, &r.real))
    }

    /// The first write root that contains the resolved path `real`.
    pub fn write_root_for(&self, real: &Path) -> Option<&Root> {
        self.write.iter().find(|r| paths::is_within(real, &r.real))
    }

    /// The first read or write root that contains the resolved path `real`.
    pub fn any_root_for(&self, real: &Path) -> Option<&Root> {
        self.read_root_for(real)
            .or_else(|| self.write_root_for(real))
    }

    /// The first write root `real` lies in under any name (spelling or identity).
    pub fn touched_write_root(&self, real: &Path) -> Option<&Root> {
        self.write.iter().find(|r| identity::inside(real, &r.real))
    }

    /// The first write root that lies in the directory `dir` under any name.
    pub fn write_root_below(&self, dir: &Path) -> Option<&Root> {
        self.write.iter().find(|r| identity::inside(&r.real, dir))
    }
}

/// How a root and one of the worker's own paths overlap, if they do.
fn overlap(root: &Path, own: &Path) -> Option<&'static str> {
    let root_id = FileId::of(root);
    let own_id = FileId::of(own);
    if identity::spelled_within(own, root)
        || root_id.is_some_and(|id| identity::lineage(own).contains(&id))
    {
        Some("contains")
    } else if identity::spelled_within(root, own)
        || own_id.is_some_and(|id| identity::lineage(root).contains(&id))
    {
        Some("lies inside")
    } else {
        None
    }
}

impl Policy {
    /// Refuses roots that would hand the worker's own files to a task without approval: a
    /// read root, write root or `sandbox.read` entry that contains, is, or lies inside one
    /// of [`Policy::protected`]. Call it after the worker has protected its files (they
    /// are not in the policy file), before serving any task; the worker must not start on
    /// an error, which names the key and the file. Only files that exist count: the
    /// default directory of a worker configured elsewhere stays protected (by the checks
    /// and the sandbox) without making a root that would hold it an error.
    pub fn check_roots(&self, home: &Path) -> Result<(), PolicyError> {
        let own: Vec<PathBuf> = self
            .protected
            .iter()
            .filter_map(|p| paths::resolve(&p.to_string_lossy(), home, home).ok())
            .map(|p| p.real)
            .filter(|p| std::fs::symlink_metadata(p).is_ok())
            .collect();
        let lists = [
            ("paths.read_roots", &self.paths.read_roots),
            ("paths.write_roots", &self.paths.write_roots),
            ("sandbox.read", &self.sandbox.read),
        ];
        for (key, list) in lists {
            for (i, raw) in list.iter().enumerate() {
                let key = format!("{key}[{i}]");
                let root = paths::resolve(raw, home, home).map_err(|err| PolicyError::Invalid {
                    key: key.clone(),
                    reason: err.to_string(),
                })?;
                for own in &own {
                    if let Some(how) = overlap(&root.real, own) {
                        return Err(PolicyError::Invalid {
                            key,
                            reason: format!(
                                "{} {how} the worker's own {}: a task could read or change \
                                 it without approval; choose a root apart from it",
                                root.real.display(),
                                own.display()
                            ),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "roots_tests.rs"]
mod tests;
