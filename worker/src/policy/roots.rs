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
mod tests {
    //! Tests of the resolved roots and of [`Policy::check_roots`], on a fake home.

    use super::*;

    struct Home {
        _dir: tempfile::TempDir,
        home: PathBuf,
        policy: Policy,
    }

    /// A home with the worker's files in `~/.config/openclaw-worker` (protected) and the
    /// default roots.
    fn home() -> Home {
        let dir = tempfile::tempdir().unwrap();
        let home = std::fs::canonicalize(dir.path()).unwrap();
        let own = home.join(".config/openclaw-worker");
        std::fs::create_dir_all(own.join("state")).unwrap();
        std::fs::write(own.join("state/totp.secret"), "S").unwrap();
        for root in ["Projects", "Downloads/openclaw"] {
            std::fs::create_dir_all(home.join(root)).unwrap();
        }
        let mut policy = Policy::default();
        policy.protect(&own);
        Home {
            _dir: dir,
            home,
            policy,
        }
    }

    fn key_of(result: Result<(), PolicyError>) -> String {
        match result {
            Err(PolicyError::Invalid { key, reason }) => {
                assert!(reason.contains("openclaw-worker"), "{reason}");
                key
            }
            other => panic!("expected an invalid root, got {other:?}"),
        }
    }

    #[test]
    fn the_default_roots_hold_none_of_the_workers_files() {
        let h = home();

        h.policy.check_roots(&h.home).unwrap();
    }

    #[test]
    fn a_read_root_holding_the_workers_files_is_refused_naming_the_key() {
        let mut h = home();
        h.policy.paths.read_roots.push("~".into());

        assert_eq!(key_of(h.policy.check_roots(&h.home)), "paths.read_roots[4]");
    }

    #[test]
    fn a_write_root_inside_the_workers_files_is_refused() {
        let mut h = home();
        h.policy.paths.write_roots = vec!["~/.config/openclaw-worker/state".into()];

        assert_eq!(
            key_of(h.policy.check_roots(&h.home)),
            "paths.write_roots[0]"
        );
    }

    #[test]
    fn a_sandbox_read_entry_equal_to_the_workers_files_is_refused_however_spelled() {
        let mut h = home();
        h.policy.sandbox.read = vec!["~/.CONFIG/openclaw-wor\u{212A}er".into()];

        assert_eq!(key_of(h.policy.check_roots(&h.home)), "sandbox.read[0]");
    }

    #[test]
    fn a_root_reaching_the_workers_files_through_a_link_is_refused() {
        let mut h = home();
        std::os::unix::fs::symlink(h.home.join(".config"), h.home.join("Projects/cfg")).unwrap();
        h.policy.paths.read_roots.push("~/Projects/cfg".into());

        assert_eq!(key_of(h.policy.check_roots(&h.home)), "paths.read_roots[4]");
    }

    #[test]
    fn write_roots_are_found_under_any_name_but_grant_only_as_spelled() {
        let h = home();
        let roots = Roots::new(&h.policy, &h.home);
        let spelled = h.home.join("DOWNLOADS/openclaw/x");

        assert!(roots.touched_write_root(&spelled).is_some());
        assert!(roots.write_root_for(&spelled).is_none());
        assert!(roots.write_root_below(&h.home.join("Downloads")).is_some());
        assert_eq!(
            roots
                .write_root_for(&h.home.join("Downloads/openclaw/x"))
                .map(|r| r.key.as_str()),
            Some("paths.write_roots[0]")
        );
    }
}
