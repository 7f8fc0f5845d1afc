//! The plan cache over real temp dirs: reuse while unchanged, afresh after a change.

use std::fs;
use std::os::unix::fs::symlink;

use super::*;

fn real_tempdir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let real = fs::canonicalize(dir.path()).unwrap();
    (dir, real)
}

#[test]
fn kept_tree_is_handed_back_while_nothing_changed() {
    let (_dir, root) = real_tempdir();
    fs::create_dir(root.join("tree")).unwrap();
    let mut cache = PlanCache::default();

    let first = cache.open_tree(&root.join("tree")).unwrap();
    cache.refresh();
    let again = cache.open_tree(&root.join("tree")).unwrap();

    assert!(Arc::ptr_eq(&first, &again));
}

#[test]
fn tree_behind_a_retargeted_link_is_opened_afresh() {
    let (_dir, root) = real_tempdir();
    fs::create_dir(root.join("a")).unwrap();
    fs::create_dir(root.join("b")).unwrap();
    symlink(root.join("a"), root.join("link")).unwrap();
    let mut cache = PlanCache::default();
    let before = cache.open_tree(&root.join("link")).unwrap();

    fs::remove_file(root.join("link")).unwrap();
    symlink(root.join("b"), root.join("link")).unwrap();
    cache.refresh();
    let after = cache.open_tree(&root.join("link")).unwrap();

    assert_eq!(before.location, root.join("a"));
    assert_eq!(after.location, root.join("b"));
    assert_ne!(before.opened.identity, after.opened.identity);
}

#[test]
fn excluded_path_behind_a_retargeted_link_is_located_afresh() {
    let (_dir, root) = real_tempdir();
    fs::create_dir_all(root.join("old/config")).unwrap();
    fs::create_dir_all(root.join("new/config")).unwrap();
    symlink(root.join("old/config"), root.join(".config")).unwrap();
    let mut cache = PlanCache::default();
    let before = cache.locate(&root.join(".config/gh")).unwrap();

    // Within one clock tick of the first lookup, as a script moving dotfiles would be.
    fs::remove_file(root.join(".config")).unwrap();
    symlink(root.join("new/config"), root.join(".config")).unwrap();
    cache.refresh();
    let after = cache.locate(&root.join(".config/gh")).unwrap();

    assert_eq!(before.location, root.join("old/config/gh"));
    assert_eq!(after.location, root.join("new/config/gh"));
}

#[test]
fn missing_path_created_later_is_located_afresh() {
    let (_dir, root) = real_tempdir();
    let mut cache = PlanCache::default();
    let before = cache.locate(&root.join("secret/key")).unwrap();

    fs::create_dir(root.join("secret")).unwrap();
    fs::write(root.join("secret/key"), "k").unwrap();
    cache.refresh();
    let after = cache.locate(&root.join("secret/key")).unwrap();

    assert_eq!(before.identity, None);
    assert!(after.identity.is_some());
}

#[test]
fn absent_tree_is_reported_absent() {
    let (_dir, root) = real_tempdir();
    let mut cache = PlanCache::default();

    let err = cache.open_tree(&root.join("nowhere")).unwrap_err();

    assert!(resolve::is_absent(&err));
}
