//! Paths compared by what they are, not by how they are spelled. macOS file systems ignore
//! case and Unicode normalization (`~/.SSH`, a KELVIN SIGN for `K`, NFD for NFC), and one
//! directory can have two names (`/System/Volumes/Data/Users/me` is `/Users/me`). What
//! exists is compared by file identity (`st_dev`, `st_ino`); what does not, and every glob
//! pattern, by a folded spelling.

use std::collections::HashMap;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use unicode_normalization::UnicodeNormalization;

/// A file's identity: its device and inode numbers, the same under every name it has
/// (hard links, bind mounts, firmlinks, other spellings on a case-insensitive volume).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    /// The identity of what `path` names, symlinks followed, if it exists.
    pub fn of(path: &Path) -> Option<Self> {
        std::fs::metadata(path)
            .ok()
            .map(|meta| Self::from_meta(&meta))
    }

    /// The identity recorded in `meta`.
    pub fn from_meta(meta: &Metadata) -> Self {
        Self {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}

/// The identities of `path` and of each of its existing ancestors, nearest first. A part
/// that does not exist (yet) is skipped: it has no identity to compare.
pub fn lineage(path: &Path) -> Vec<FileId> {
    path.ancestors().filter_map(FileId::of).collect()
}

/// Code points HFS+ ignores in names, so that `.g\u{200c}it` opens `.git` there.
fn is_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{200C}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{206A}'..='\u{206F}' | '\u{FEFF}'
    )
}

/// The spelling two names share when a case-insensitive, normalization-insensitive file
/// system would take them for one: ignorable code points dropped, decomposed (NFD), lower
/// case (Unicode, so U+212A KELVIN SIGN becomes `k`), recomposed (NFC).
pub fn fold_spelling(text: &str) -> String {
    // Nearly every path is ASCII, where all of that is just lower case (no ASCII code
    // point is ignorable, decomposes or lower-cases to anything but ASCII).
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    let decomposed: String = text.chars().filter(|c| !is_ignorable(*c)).nfd().collect();
    decomposed.to_lowercase().nfc().collect()
}

/// Returns `path` with the spelling of every component folded. A name that is not UTF-8 is read
/// lossily, which can only make more names compare equal.
pub fn folded(path: &Path) -> PathBuf {
    path.components()
        .map(|component| match component {
            Component::Normal(name) => PathBuf::from(fold_spelling(&name.to_string_lossy())),
            other => PathBuf::from(other.as_os_str()),
        })
        .collect()
}

/// Whether `path` is `root` or below it once both spellings are folded.
pub fn spelled_within(path: &Path, root: &Path) -> bool {
    folded(path).starts_with(folded(root))
}

/// Whether `path` is `dir` or lies below it under any name: by folded spelling, or because
/// `dir` exists and its identity is that of `path` or of one of its existing ancestors.
/// For the checks where "inside" is the dangerous answer (a write root, a guarded tree).
pub fn inside(path: &Path, dir: &Path) -> bool {
    spelled_within(path, dir) || FileId::of(dir).is_some_and(|id| lineage(path).contains(&id))
}

/// Whether the folded spelling of any component of `path` is one of `names` (folded).
pub fn has_component(path: &Path, names: &[&str]) -> bool {
    path.components().any(|component| match component {
        Component::Normal(name) => {
            let name = fold_spelling(&name.to_string_lossy());
            names.iter().any(|n| fold_spelling(n) == name)
        }
        _ => false,
    })
}

/// Identities gathered by walking directory trees without following links, each mapped
/// to a label (which tree it came from) and where it was seen. A map may be kept for a
/// while: a hit is confirmed against the disk, since an inode number freed by a replaced
/// file (the worker rewrites its own files on every task) is soon reused by a new one.
#[derive(Debug, Clone)]
pub struct IdentityMap<T> {
    ids: HashMap<FileId, Seen<T>>,
    /// Entries still allowed before the walk stops (the trees are meant to be small).
    budget: usize,
}

/// Where an identity was recorded, and how to look at that place again.
#[derive(Debug, Clone)]
struct Seen<T> {
    label: T,
    path: PathBuf,
    /// Whether the identity was read through a final symlink (`stat`, not `lstat`).
    followed: bool,
}

impl<T> Seen<T> {
    /// Whether `path` still has the identity `id`.
    fn still(&self, id: FileId) -> bool {
        let meta = if self.followed {
            std::fs::metadata(&self.path)
        } else {
            std::fs::symlink_metadata(&self.path)
        };
        meta.is_ok_and(|meta| FileId::from_meta(&meta) == id)
    }
}

impl<T> Default for IdentityMap<T> {
    /// An empty map for single identities (no tree walks).
    fn default() -> Self {
        Self {
            ids: HashMap::new(),
            budget: 0,
        }
    }
}

impl<T: Clone> IdentityMap<T> {
    /// An empty map that records at most `budget` entries from tree walks.
    pub fn with_budget(budget: usize) -> Self {
        Self {
            ids: HashMap::new(),
            budget,
        }
    }

    /// Records `id`, which `path` has (symlinks followed), as `label`, keeping the first
    /// label an identity got.
    pub fn insert(&mut self, id: FileId, path: &Path, label: T) {
        self.record(id, path, true, label);
    }

    /// Records every existing ancestor of `path` (not `path` itself) as `label`: the
    /// directories a recursive listing would reach `path` from.
    pub fn insert_ancestors(&mut self, path: &Path, label: &T) {
        for dir in path.ancestors().skip(1) {
            if let Some(id) = FileId::of(dir) {
                self.insert(id, dir, label.clone());
            }
        }
    }

    fn record(&mut self, id: FileId, path: &Path, followed: bool, label: T) {
        self.ids.entry(id).or_insert_with(|| Seen {
            label,
            path: path.to_owned(),
            followed,
        });
    }

    /// Records the identity of `root` (followed) and of every entry below it (not
    /// followed: a link inside is its own entry, and its target is not walked). Returns
    /// `false` when the budget ran out before the walk ended.
    pub fn insert_tree(&mut self, root: &Path, label: &T) -> bool {
        let Ok(meta) = std::fs::metadata(root) else {
            return true;
        };
        self.record(FileId::from_meta(&meta), root, true, label.clone());
        let mut pending = if meta.is_dir() {
            vec![root.to_path_buf()]
        } else {
            Vec::new()
        };
        while let Some(dir) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                if self.budget == 0 {
                    return false;
                }
                self.budget -= 1;
                let Ok(meta) = entry.metadata() else {
                    continue;
                };
                self.record(
                    FileId::from_meta(&meta),
                    &entry.path(),
                    false,
                    label.clone(),
                );
                if meta.is_dir() {
                    pending.push(entry.path());
                }
            }
        }
        true
    }

    /// The label of the first of `ids` that was recorded and is still where it was seen.
    pub fn find(&self, ids: &[FileId]) -> Option<&T> {
        ids.iter().find_map(|id| {
            let seen = self.ids.get(id)?;
            seen.still(*id).then_some(&seen.label)
        })
    }
}

#[cfg(test)]
mod tests {
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
}
