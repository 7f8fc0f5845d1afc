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
