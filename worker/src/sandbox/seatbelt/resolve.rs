//! The spec as the kernel will see it. Seatbelt compares the path of the file a program
//! reaches, with every symlink resolved (`/tmp` is `/private/tmp` on macOS, `/var` is
//! `/private/var`, `/etc` is `/private/etc`), so a rule for `/tmp/x` matches nothing. This
//! step rewrites each path to its real location just before the profile is rendered,
//! keeping the spelled path too where it differs (allowed only to be read, so a program
//! can look at the link itself; hidden and read-only in both spellings). Compiled and
//! tested on every platform; only macOS uses it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::super::{Access, SandboxSpec, Tree};
use crate::policy::paths;

/// How many entries of a hidden or read-only directory are looked at for symlinks.
const MAX_SCANNED_ENTRIES: usize = 256;

/// Returns `spec` with its paths resolved on disk now (see the module doc). A path that does not
/// exist is resolved as far as its parent chain exists. Besides, a hidden or read-only
/// directory's own symlinks (`~/.ssh/config` → `~/dotfiles/ssh/config`) get their
/// targets hidden or read-only as well: the kernel would check the target's path, which
/// no rule names. Only the directory's direct entries are looked at.
pub fn resolve(spec: &SandboxSpec) -> SandboxSpec {
    let mut trees = Vec::new();
    for tree in &spec.trees {
        let Some(real) = real_path(&tree.path) else {
            continue;
        };
        if real != paths::fold(&tree.path) {
            trees.push(Tree {
                path: paths::fold(&tree.path),
                access: Access::Read,
            });
        }
        trees.push(Tree {
            path: real,
            access: tree.access,
        });
    }
    dedup_trees(&mut trees);
    SandboxSpec {
        profile: spec.profile,
        trees,
        hidden: protected(&spec.hidden),
        hidden_patterns: patterns(&spec.hidden_patterns),
        read_only: protected(&spec.read_only),
        read_only_patterns: patterns(&spec.read_only_patterns),
        network: spec.network,
        tmpdir: real_path(&spec.tmpdir).unwrap_or_else(|| spec.tmpdir.clone()),
    }
}

/// Where `path` really is: `.` and `..` folded, then the longest existing leading part
/// resolved and the rest appended. `None` for a relative path or one holding a NUL.
pub(super) fn real_path(path: &Path) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt as _;
    if !path.is_absolute() || path.as_os_str().as_bytes().contains(&0) {
        return None;
    }
    let folded = paths::fold(path);
    let mut rest = Vec::new();
    let mut existing = folded.as_path();
    loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            let mut out = real;
            out.extend(rest.iter().rev());
            return Some(out);
        }
        let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) else {
            return Some(folded);
        };
        rest.push(name.to_owned());
        existing = parent;
    }
}

/// Protected paths in both spellings, plus the targets of symlinks directly inside them.
fn protected(list: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in list {
        let Some(real) = real_path(path) else {
            continue;
        };
        out.push(paths::fold(path));
        for entry in std::fs::read_dir(&real)
            .into_iter()
            .flatten()
            .take(MAX_SCANNED_ENTRIES)
        {
            let Ok(entry) = entry else { continue };
            if entry.file_type().is_ok_and(|t| t.is_symlink()) {
                if let Ok(target) = std::fs::canonicalize(entry.path()) {
                    out.push(target);
                }
            }
        }
        out.push(real);
    }
    dedup(out)
}

/// Patterns as written and with their literal leading directories resolved (`/tmp/*.key`
/// also as `/private/tmp/*.key`).
fn patterns(globs: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for glob in globs {
        out.push(glob.clone());
        let (prefix, rest) = paths::split_literal_prefix(glob);
        if prefix.is_empty() || !glob.starts_with('/') {
            continue;
        }
        let Some(real) = real_path(Path::new(prefix)) else {
            continue;
        };
        let Some(real) = real.to_str() else { continue };
        // The resolved directory is a name on disk: its own `[` or `*` stay literal.
        let escaped = glob::Pattern::escape(real.trim_end_matches('/'));
        out.push(format!("{escaped}{rest}"));
    }
    dedup(out)
}

fn dedup<T: Clone + Eq + std::hash::Hash>(items: Vec<T>) -> Vec<T> {
    let mut seen = HashSet::new();
    items
        .into_iter()
        .filter(|item| seen.insert(item.clone()))
        .collect()
}

fn dedup_trees(trees: &mut Vec<Tree>) {
    let mut seen = HashSet::new();
    trees.retain(|t| seen.insert((t.path.clone(), t.access)));
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::sandbox::Profile;

    fn spec(trees: Vec<Tree>, hidden: Vec<PathBuf>, tmpdir: PathBuf) -> SandboxSpec {
        SandboxSpec {
            profile: Profile::Allowed,
            trees,
            hidden,
            hidden_patterns: Vec::new(),
            read_only: Vec::new(),
            read_only_patterns: Vec::new(),
            network: false,
            tmpdir,
        }
    }

    fn tree(path: &Path, access: Access) -> Tree {
        Tree {
            path: path.to_path_buf(),
            access,
        }
    }

    /// A temp dir by its real path (on macOS the temp dir itself is behind `/var`).
    fn real_tempdir() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        (dir, real)
    }

    #[test]
    fn a_tree_behind_a_symlink_is_allowed_at_its_target_and_its_link_only_read() {
        let (_dir, root) = real_tempdir();
        std::fs::create_dir(root.join("target")).unwrap();
        symlink(root.join("target"), root.join("link")).unwrap();
        let input = spec(
            vec![tree(&root.join("link"), Access::ReadWrite)],
            Vec::new(),
            root.join("tmp"),
        );

        let resolved = resolve(&input);

        assert_eq!(
            resolved.trees,
            vec![
                tree(&root.join("link"), Access::Read),
                tree(&root.join("target"), Access::ReadWrite),
            ]
        );
    }

    #[test]
    fn a_path_that_does_not_exist_yet_resolves_through_its_existing_parents() {
        let (_dir, root) = real_tempdir();
        std::fs::create_dir(root.join("target")).unwrap();
        symlink(root.join("target"), root.join("link")).unwrap();
        let input = spec(Vec::new(), Vec::new(), root.join("link/task-1/./sub/.."));

        let resolved = resolve(&input);

        assert_eq!(resolved.tmpdir, root.join("target/task-1"));
    }

    #[test]
    fn a_hidden_directory_is_hidden_in_both_spellings_with_the_targets_of_its_links() {
        let (_dir, root) = real_tempdir();
        std::fs::create_dir_all(root.join("dotfiles/ssh")).unwrap();
        std::fs::write(root.join("dotfiles/id_rsa"), "key").unwrap();
        symlink(root.join("dotfiles/ssh"), root.join(".ssh")).unwrap();
        symlink(
            root.join("dotfiles/id_rsa"),
            root.join("dotfiles/ssh/id_rsa"),
        )
        .unwrap();
        let input = spec(Vec::new(), vec![root.join(".ssh")], root.join("tmp"));

        let resolved = resolve(&input);

        assert!(resolved.hidden.contains(&root.join(".ssh")));
        assert!(resolved.hidden.contains(&root.join("dotfiles/ssh")));
        assert!(resolved.hidden.contains(&root.join("dotfiles/id_rsa")));
    }

    #[test]
    fn a_path_with_a_nul_is_dropped_rather_than_cut_short() {
        use std::os::unix::ffi::OsStrExt as _;
        let with_nul = PathBuf::from(std::ffi::OsStr::from_bytes(b"/usr\0/local"));
        let input = spec(
            vec![tree(&with_nul, Access::Full)],
            vec![with_nul.clone()],
            PathBuf::from("/tmp/x"),
        );

        let resolved = resolve(&input);

        assert!(resolved.trees.is_empty());
        assert!(resolved.hidden.is_empty());
    }

    #[test]
    fn a_pattern_behind_a_symlinked_directory_is_kept_in_both_spellings() {
        let (_dir, root) = real_tempdir();
        std::fs::create_dir(root.join("real[1]")).unwrap();
        symlink(root.join("real[1]"), root.join("link")).unwrap();
        let mut input = spec(Vec::new(), Vec::new(), root.join("tmp"));
        let written = format!("{}/link/*.key", root.display());
        input.hidden_patterns = vec![written.clone(), "/**/.env".to_owned()];

        let resolved = resolve(&input);

        let escaped = glob::Pattern::escape(&root.join("real[1]").to_string_lossy());
        assert_eq!(
            resolved.hidden_patterns,
            vec![written, format!("{escaped}/*.key"), "/**/.env".to_owned()]
        );
    }
}
