//! The carving plan over real temp-dir trees: which paths get which rights.

use std::fs;
use std::path::{Path, PathBuf};

use super::*;
use crate::sandbox::linux::locate::Locator;

/// A fake home: `secret/key`, `.zshrc`, `work/file`, `notes.txt`.
struct Home {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        fs::create_dir(root.join("secret")).unwrap();
        fs::write(root.join("secret/key"), "k").unwrap();
        fs::write(root.join(".zshrc"), "z").unwrap();
        fs::create_dir(root.join("work")).unwrap();
        fs::write(root.join("work/file"), "w").unwrap();
        fs::write(root.join("notes.txt"), "n").unwrap();
        Self { _dir: dir, root }
    }

    fn path(&self, rest: &str) -> PathBuf {
        if rest.is_empty() {
            self.root.clone()
        } else {
            self.root.join(rest)
        }
    }
}

fn tree(path: PathBuf, access: Access) -> Tree {
    Tree { path, access }
}

/// The plan as sorted (path, rights) pairs.
fn planned(trees: &[Tree], hidden: &[PathBuf], read_only: &[PathBuf]) -> Vec<(PathBuf, Rights)> {
    let mut locator = Locator::default();
    let mut excluded = Vec::new();
    for (paths, exclusion) in [
        (hidden, Exclusion::Hidden),
        (read_only, Exclusion::ReadOnly),
    ] {
        for path in paths {
            excluded.push(Excluded {
                exclusion,
                located: locator.locate(path).unwrap(),
            });
        }
    }
    let mut pairs: Vec<_> = plan(trees, &excluded, resolve::open_tree)
        .unwrap()
        .into_iter()
        .map(|grant| (grant.path, grant.rights))
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs
}

fn at(home: &Home, rest: &str, rights: Rights) -> (PathBuf, Rights) {
    (home.path(rest), rights)
}

#[test]
fn tree_without_exclusions_below_is_granted_whole() {
    let home = Home::new();

    let plan = planned(
        &[tree(home.path("work"), Access::ReadWrite)],
        &[home.path("secret")],
        &[home.path(".zshrc")],
    );

    assert_eq!(
        plan,
        vec![at(&home, "work", Rights::Tree(Access::ReadWrite))]
    );
}

#[test]
fn absent_tree_is_skipped() {
    let home = Home::new();

    let plan = planned(&[tree(home.path("nowhere"), Access::Read)], &[], &[]);

    assert!(plan.is_empty());
}

#[test]
fn tree_inside_a_hidden_path_is_dropped() {
    let home = Home::new();

    let plan = planned(
        &[
            tree(home.path("secret"), Access::Read),
            tree(home.path("secret/key"), Access::Read),
        ],
        &[home.path("secret")],
        &[],
    );

    assert!(plan.is_empty());
}

#[test]
fn tree_inside_a_read_only_path_loses_its_write_rights() {
    let home = Home::new();

    let plan = planned(
        &[tree(home.path("work"), Access::Full)],
        &[],
        &[home.path("")],
    );

    assert_eq!(
        plan,
        vec![at(&home, "work", Rights::Tree(Access::ReadExec))]
    );
}

#[test]
fn hidden_dir_is_carved_out_of_its_tree() {
    let home = Home::new();

    let plan = planned(
        &[tree(home.path(""), Access::Full)],
        &[home.path("secret")],
        &[],
    );

    assert_eq!(
        plan,
        vec![
            at(&home, "", Rights::List),
            at(&home, ".zshrc", Rights::Tree(Access::Full)),
            at(&home, "notes.txt", Rights::Tree(Access::Full)),
            at(&home, "work", Rights::Tree(Access::Full)),
        ]
    );
}

#[test]
fn read_only_file_keeps_reading_and_its_dir_loses_writing() {
    let home = Home::new();

    let plan = planned(
        &[tree(home.path(""), Access::Full)],
        &[],
        &[home.path(".zshrc")],
    );

    assert_eq!(
        plan,
        vec![
            at(&home, "", Rights::Tree(Access::ReadExec)),
            at(&home, ".zshrc", Rights::Tree(Access::ReadExec)),
            at(&home, "notes.txt", Rights::Tree(Access::Full)),
            at(&home, "secret", Rights::Tree(Access::Full)),
            at(&home, "work", Rights::Tree(Access::Full)),
        ]
    );
}

#[test]
fn deep_hidden_path_is_reached_through_listing_only_dirs() {
    let home = Home::new();
    fs::create_dir(home.path("work/deeper")).unwrap();

    let plan = planned(
        &[tree(home.path(""), Access::ReadWrite)],
        &[home.path("work/deeper")],
        &[],
    );

    assert_eq!(
        plan,
        vec![
            at(&home, "", Rights::List),
            at(&home, ".zshrc", Rights::Tree(Access::ReadWrite)),
            at(&home, "notes.txt", Rights::Tree(Access::ReadWrite)),
            at(&home, "secret", Rights::Tree(Access::ReadWrite)),
            at(&home, "work", Rights::List),
            at(&home, "work/file", Rights::Tree(Access::ReadWrite)),
        ]
    );
}

#[test]
fn hidden_path_inside_a_read_only_dir_is_carved_from_the_read_only_part() {
    let home = Home::new();

    let plan = planned(
        &[tree(home.path(""), Access::Full)],
        &[home.path("work/file")],
        &[home.path("work")],
    );

    assert!(plan.contains(&at(&home, "work", Rights::List)));
    assert!(!plan.iter().any(|(path, _)| path == &home.path("work/file")));
    assert!(plan.contains(&at(&home, "notes.txt", Rights::Tree(Access::Full))));
}

#[test]
fn symlinks_among_carved_entries_are_never_granted() {
    let home = Home::new();
    std::os::unix::fs::symlink(home.path("secret"), home.path("link-to-secret")).unwrap();
    std::os::unix::fs::symlink("/etc", home.path("link-to-etc")).unwrap();

    let plan = planned(
        &[tree(home.path(""), Access::Read)],
        &[home.path("secret")],
        &[],
    );

    assert!(!plan
        .iter()
        .any(|(path, _)| path.starts_with(home.path("link-to-secret"))));
    assert!(!plan
        .iter()
        .any(|(path, _)| path.starts_with(home.path("link-to-etc"))));
}

#[test]
fn hard_link_of_a_hidden_file_is_skipped_by_identity() {
    let home = Home::new();
    fs::write(home.path("token"), "t").unwrap();
    fs::hard_link(home.path("token"), home.path("innocent-name")).unwrap();

    let plan = planned(
        &[tree(home.path(""), Access::Read)],
        &[home.path("token")],
        &[],
    );

    assert!(!plan
        .iter()
        .any(|(path, _)| path == &home.path("innocent-name")));
    assert!(!plan.iter().any(|(path, _)| path == &home.path("token")));
    assert!(plan.contains(&at(&home, "notes.txt", Rights::Tree(Access::Read))));
}

#[test]
fn dir_holding_a_hard_link_of_a_hidden_file_is_listing_only() {
    let home = Home::new();
    fs::write(home.path("work/read-only.txt"), "r").unwrap();
    fs::hard_link(home.path("secret/key"), home.path("work/alias")).unwrap();

    let plan = planned(
        &[tree(home.path(""), Access::Full)],
        &[home.path("secret/key")],
        &[home.path("work/read-only.txt")],
    );

    // `work` is on the way to a read-only file only, which would leave it readable, but
    // it also holds a hidden file under another name.
    assert!(plan.contains(&at(&home, "work", Rights::List)));
    assert!(!plan
        .iter()
        .any(|(path, _)| path == &home.path("work/alias")));
    assert!(plan.contains(&at(&home, "work/file", Rights::Tree(Access::Full))));
}

#[test]
fn hidden_dir_spelled_through_a_symlink_is_found_at_its_real_place() {
    let home = Home::new();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(home.path(""), elsewhere.path().join("home-link")).unwrap();

    let plan = planned(
        &[tree(home.path(""), Access::Read)],
        &[elsewhere.path().join("home-link/secret")],
        &[],
    );

    assert!(plan.contains(&at(&home, "", Rights::List)));
    assert!(!plan.iter().any(|(path, _)| path == &home.path("secret")));
}

#[test]
fn missing_excluded_path_leaves_its_nearest_dir_unwritable() {
    let home = Home::new();

    let plan = planned(
        &[tree(home.path(""), Access::Full)],
        &[],
        &[home.path("work/.config/fish"), home.path(".zshenv")],
    );

    // Neither `work/.config` nor `.zshenv` can be created: their nearest existing
    // directories are only readable.
    assert!(plan.contains(&at(&home, "", Rights::Tree(Access::ReadExec))));
    assert!(plan.contains(&at(&home, "work", Rights::Tree(Access::ReadExec))));
    assert!(plan.contains(&at(&home, "work/file", Rights::Tree(Access::Full))));
    assert!(plan.contains(&at(&home, "secret", Rights::Tree(Access::Full))));
}

#[test]
fn dangling_symlink_is_located_where_its_target_would_be_created() {
    let home = Home::new();
    std::os::unix::fs::symlink(home.path("work/zshenv-target"), home.path(".zshenv")).unwrap();

    let plan = planned(
        &[tree(home.path("work"), Access::ReadWrite)],
        &[],
        &[home.path(".zshenv")],
    );

    assert_eq!(
        plan,
        vec![
            at(&home, "work", Rights::Tree(Access::Read)),
            at(&home, "work/file", Rights::Tree(Access::ReadWrite)),
        ]
    );
}

#[test]
fn relative_tree_is_refused() {
    let plan = plan(
        &[tree(Path::new("relative").to_path_buf(), Access::Read)],
        &[],
        resolve::open_tree,
    );

    assert_eq!(plan.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn paths_compare_by_whole_components() {
    assert_eq!(
        rest_below(Path::new("/a/b"), Path::new("/a")),
        Some(Path::new("b"))
    );
    assert_eq!(
        rest_below(Path::new("/a"), Path::new("/a")),
        Some(Path::new(""))
    );
    assert_eq!(rest_below(Path::new("/ab"), Path::new("/a")), None);
    assert_eq!(rest_below(Path::new("/a"), Path::new("/a/b")), None);
    assert_eq!(
        rest_below(Path::new("/a"), Path::new("/")),
        Some(Path::new("a"))
    );
}
