//! Tests of identity and spelling comparisons, on real temp directories.

use super::*;

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    (dir, root)
}

#[test]
fn folding_maps_case_kelvin_sign_and_normal_forms_to_one_spelling() {
    assert_eq!(fold_spelling("\u{212A}ey"), "key");
    assert_eq!(fold_spelling("KEY"), "key");
    assert_eq!(fold_spelling("Caf\u{e9}"), fold_spelling("cafe\u{301}"));
    assert_eq!(fold_spelling(".g\u{200c}it"), ".git");
    assert_eq!(fold_spelling("\u{feff}.GIT"), ".git");
    assert_ne!(fold_spelling("cafe"), fold_spelling("caf\u{e9}"));
}

#[test]
fn spelled_within_compares_whole_folded_components() {
    let root = Path::new("/Users/me/.config/openclaw-worker");

    assert!(spelled_within(
        Path::new("/Users/ME/.CONFIG/openclaw-wor\u{212A}er/state"),
        root
    ));
    assert!(!spelled_within(
        Path::new("/Users/me/.config/openclaw-worker2"),
        root
    ));
}

#[test]
fn lineage_lists_the_existing_ancestors_and_a_hard_link_shares_an_identity() {
    let (_d, root) = temp();
    std::fs::create_dir(root.join("a")).unwrap();
    std::fs::write(root.join("a/f"), "x").unwrap();
    std::fs::hard_link(root.join("a/f"), root.join("g")).unwrap();

    let lineage = lineage(&root.join("a/missing/deeper"));

    assert_eq!(lineage.first(), FileId::of(&root.join("a")).as_ref());
    assert!(lineage.contains(&FileId::of(&root).unwrap()));
    assert_eq!(FileId::of(&root.join("g")), FileId::of(&root.join("a/f")));
}

#[test]
fn inside_holds_under_any_spelling_or_name() {
    let (_d, root) = temp();
    std::fs::create_dir(root.join("inbox")).unwrap();
    std::fs::write(root.join("inbox/f"), "x").unwrap();
    std::fs::hard_link(root.join("inbox/f"), root.join("g")).unwrap();

    assert!(inside(&root.join("INBOX/x"), &root.join("inbox")));
    assert!(inside(&root.join("inbox/f"), &root.join("g")));
    assert!(!inside(&root.join("other"), &root.join("inbox")));
}

#[test]
fn a_component_named_like_a_git_internal_is_found_however_spelled() {
    let names = &[".git", "gitdir"];

    assert!(has_component(Path::new("/a/.GIT/config"), names));
    assert!(has_component(Path::new("/a/GitDir"), names));
    assert!(!has_component(Path::new("/a/.gitignore"), names));
}

#[test]
fn a_tree_walk_records_every_entry_without_following_links_within_its_budget() {
    let (_d, root) = temp();
    let (_o, outside) = temp();
    std::fs::create_dir_all(root.join("tree/sub")).unwrap();
    std::fs::write(root.join("tree/sub/secret"), "s").unwrap();
    std::fs::write(outside.join("elsewhere"), "e").unwrap();
    std::os::unix::fs::symlink(&outside, root.join("tree/link")).unwrap();

    let mut map = IdentityMap::with_budget(10);
    let complete = map.insert_tree(&root.join("tree"), &"tree");
    let mut small = IdentityMap::with_budget(1);
    let cut = small.insert_tree(&root.join("tree"), &"tree");

    assert!(complete);
    let secret = FileId::of(&root.join("tree/sub/secret")).unwrap();
    assert_eq!(map.find(&[secret]), Some(&"tree"));
    let elsewhere = FileId::of(&outside.join("elsewhere")).unwrap();
    assert_eq!(map.find(&[elsewhere]), None);
    assert!(!cut);
}

#[test]
fn a_recorded_identity_no_longer_counts_once_its_file_is_gone() {
    // The worker replaces its own files on every task; the freed inode number is soon
    // reused by a new file elsewhere, which must not then pass for the old one.
    let dir = tempfile::tempdir().unwrap();
    let head = dir.path().join("audit.head");
    std::fs::write(&head, "1").unwrap();
    let id = FileId::of(&head).unwrap();
    let mut map = IdentityMap::with_budget(10);
    map.insert_tree(dir.path(), &"own");

    assert_eq!(map.find(&[id]), Some(&"own"));
    std::fs::remove_file(&head).unwrap();
    let elsewhere = dir.path().join("notes.txt");
    std::fs::write(&elsewhere, "a new file, perhaps with the old inode number").unwrap();
    assert_eq!(map.find(&[id]), None);
    assert_eq!(map.find(&[FileId::of(&elsewhere).unwrap()]), None);
}
