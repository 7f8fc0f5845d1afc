//! Locating paths over real temp dirs: links, missing parts, identities.

use std::fs;
use std::os::unix::fs::symlink;

use super::*;

fn real_tempdir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let real = fs::canonicalize(dir.path()).unwrap();
    (dir, real)
}

#[test]
fn missing_path_is_located_below_its_nearest_existing_dir() {
    let (_dir, root) = real_tempdir();
    let link = root.join("link");
    symlink(root.join("real"), &link).unwrap();
    fs::create_dir(root.join("real")).unwrap();

    let located = Locator::default().locate(&link.join("a/b")).unwrap();

    assert_eq!(located.location, root.join("real/a/b"));
    assert_eq!(located.identity, None);
}

#[test]
fn relative_link_is_followed_from_its_own_directory() {
    let (_dir, root) = real_tempdir();
    fs::create_dir_all(root.join("x/y")).unwrap();
    fs::write(root.join("x/target"), "t").unwrap();
    symlink("../target", root.join("x/y/link")).unwrap();

    let located = Locator::default().locate(&root.join("x/y/link")).unwrap();

    assert_eq!(located.location, root.join("x/target"));
    assert!(located.identity.is_some());
}

#[test]
fn same_file_under_two_spellings_has_one_identity() {
    let (_dir, root) = real_tempdir();
    fs::write(root.join("file"), "f").unwrap();
    symlink(&root, root.join("again")).unwrap();
    let mut locator = Locator::default();

    let direct = locator.locate(&root.join("file")).unwrap();
    let through_link = locator.locate(&root.join("again/again/file")).unwrap();

    assert_eq!(direct, through_link);
}

#[test]
fn link_loop_is_an_error() {
    let (_dir, root) = real_tempdir();
    symlink(root.join("b"), root.join("a")).unwrap();
    symlink(root.join("a"), root.join("b")).unwrap();

    let err = Locator::default().locate(&root.join("a/x")).unwrap_err();

    assert!(err.to_string().contains("too many symbolic links"), "{err}");
}

#[test]
fn relative_path_is_refused() {
    let err = Locator::default()
        .locate(Path::new("relative"))
        .unwrap_err();

    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}
