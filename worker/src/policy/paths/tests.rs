//! Path resolution and pattern tests, on real temp directories with real symlinks.

use super::*;
use std::os::unix::fs::symlink;

/// A fake home with `.ssh/id_rsa` and a `work` root, all canonical (macOS temp dirs sit
/// behind the `/var` → `/private/var` link).
struct Home {
    _dir: tempfile::TempDir,
    home: PathBuf,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        std::fs::write(home.join(".ssh/id_rsa"), "key").unwrap();
        std::fs::create_dir_all(home.join("work")).unwrap();
        Self { _dir: dir, home }
    }

    fn resolve(&self, raw: &str) -> ResolvedPath {
        resolve(raw, &self.home, &self.home.join("work")).unwrap()
    }

    fn pattern(&self, source: &str) -> PathPattern {
        PathPattern::new(source, &self.home).unwrap()
    }
}

#[test]
fn tilde_and_relative_paths_become_absolute() {
    let h = Home::new();

    assert_eq!(h.resolve("~/.ssh").real, h.home.join(".ssh"));
    assert_eq!(h.resolve("notes.txt").real, h.home.join("work/notes.txt"));
}

#[test]
fn dot_dot_slash_slash_and_trailing_dot_fold_away() {
    let h = Home::new();
    let key = h.home.join(".ssh/id_rsa");

    assert_eq!(h.resolve("~/.ssh/../.ssh/id_rsa").real, key);
    assert_eq!(
        h.resolve(&format!("/{}/.ssh/./id_rsa", h.home.display()))
            .real,
        key
    );
    assert_eq!(h.resolve("../.ssh/.").real, h.home.join(".ssh"));
    assert_eq!(
        h.resolve("../../../../../../../..").real,
        PathBuf::from("/")
    );
}

#[test]
fn symlink_inside_a_root_resolves_to_its_target() {
    let h = Home::new();
    symlink(h.home.join(".ssh"), h.home.join("work/innocent")).unwrap();

    let resolved = h.resolve("innocent/id_rsa");

    assert_eq!(resolved.real, h.home.join(".ssh/id_rsa"));
    assert_eq!(resolved.named, h.home.join("work/innocent/id_rsa"));
}

#[test]
fn dot_dot_after_a_symlink_climbs_from_the_target() {
    let h = Home::new();
    std::fs::create_dir_all(h.home.join("deep/inner")).unwrap();
    symlink(h.home.join("deep/inner"), h.home.join("work/link")).unwrap();

    assert_eq!(h.resolve("link/..").real, h.home.join("deep"));
}

#[test]
fn relative_symlink_targets_resolve_from_the_link_directory() {
    let h = Home::new();
    symlink("../.ssh", h.home.join("work/rel")).unwrap();

    assert_eq!(h.resolve("rel/id_rsa").real, h.home.join(".ssh/id_rsa"));
}

#[test]
fn missing_tail_is_appended_after_the_existing_part_resolves() {
    let h = Home::new();
    symlink(h.home.join(".ssh"), h.home.join("work/out")).unwrap();

    assert_eq!(
        h.resolve("out/new/dir/../file").real,
        h.home.join(".ssh/new/file")
    );
}

#[test]
fn symlink_loop_is_an_error() {
    let h = Home::new();
    symlink(h.home.join("work/b"), h.home.join("work/a")).unwrap();
    symlink(h.home.join("work/a"), h.home.join("work/b")).unwrap();

    let err = resolve("a/x", &h.home, &h.home.join("work")).unwrap_err();

    assert!(matches!(err, PathError::SymlinkLoop));
}

#[test]
fn empty_nul_and_other_users_paths_are_refused() {
    let h = Home::new();
    let cwd = h.home.join("work");

    assert!(matches!(resolve("", &h.home, &cwd), Err(PathError::Empty)));
    assert!(matches!(
        resolve("a\0b", &h.home, &cwd),
        Err(PathError::Nul)
    ));
    assert!(matches!(
        resolve("~root/.ssh", &h.home, &cwd),
        Err(PathError::OtherUsersHome)
    ));
}

#[test]
fn directory_pattern_covers_everything_below_it() {
    let h = Home::new();
    let ssh = h.pattern("~/.ssh");

    assert!(ssh.matches(&h.resolve("~/.ssh")));
    assert!(ssh.matches(&h.resolve("~/.ssh/id_rsa")));
    assert!(ssh.matches(&h.resolve("~/.ssh/../.ssh/id_rsa")));
    assert!(!ssh.matches(&h.resolve("~/.sshd")));
    assert!(!ssh.matches(&h.resolve("~/work")));
}

#[test]
fn deny_pattern_matches_through_a_planted_symlink() {
    let h = Home::new();
    symlink(h.home.join(".ssh"), h.home.join("work/innocent")).unwrap();

    assert!(h.pattern("~/.ssh").matches(&h.resolve("innocent/id_rsa")));
}

#[test]
fn pattern_matching_ignores_case() {
    let h = Home::new();

    assert!(h.pattern("~/.ssh").matches(&h.resolve("~/.SSH/id_rsa")));
}

#[test]
fn relative_patterns_match_at_any_depth() {
    let h = Home::new();
    let env = h.pattern("**/.env");
    let env_star = h.pattern("**/.env.*");

    assert!(env.matches(&h.resolve("~/work/app/.env")));
    assert!(env.matches(&h.resolve("/.env")));
    assert!(env_star.matches(&h.resolve("~/work/.env.local")));
    assert!(!env.matches(&h.resolve("~/work/.envrc")));
    assert!(!env_star.matches(&h.resolve("~/work/env.txt")));
}

#[test]
fn single_star_stays_within_one_component() {
    let h = Home::new();
    let profile = h.pattern("~/Library/*/Chrome");

    assert!(profile.matches(&h.resolve("~/Library/Application Support/Chrome/Default")));
    assert!(!profile.matches(&h.resolve("~/Library/a/b/Chrome")));
}

#[test]
fn pattern_literal_prefix_is_resolved_like_a_path() {
    let h = Home::new();
    std::fs::create_dir_all(h.home.join("real-secrets")).unwrap();
    symlink(h.home.join("real-secrets"), h.home.join("secrets")).unwrap();
    let pattern = h.pattern("~/secrets/*.pem");

    // Named through the real directory, never through the link the pattern names.
    assert!(pattern.matches(&h.resolve("~/real-secrets/a.pem")));
}

#[test]
fn within_compares_whole_components() {
    assert!(is_within(Path::new("/a/b/c"), Path::new("/a/b")));
    assert!(is_within(Path::new("/a/b"), Path::new("/a/b")));
    assert!(!is_within(Path::new("/a/bc"), Path::new("/a/b")));
}

#[test]
fn a_symlink_after_a_missing_component_and_dot_dot_is_still_followed() {
    let h = Home::new();
    symlink(h.home.join(".ssh"), h.home.join("work/link")).unwrap();

    let resolved = h.resolve("missing/../link/id_rsa");

    assert_eq!(resolved.real, h.home.join(".ssh/id_rsa"));
    assert!(h.pattern("~/.ssh").matches(&resolved));
}

#[test]
fn patterns_match_other_unicode_spellings_of_a_name() {
    let h = Home::new();
    let kelvin = h.pattern("~/Kelvin/**");
    let accented = h.pattern("~/cafe\u{301}");

    assert!(kelvin.matches(&h.resolve("~/\u{212A}elvin/x")));
    assert!(kelvin.matches(&h.resolve("~/KELVIN/x")));
    assert!(accented.matches(&h.resolve("~/CAF\u{c9}/menu")));
    assert!(!accented.matches(&h.resolve("~/cafe/menu")));
}

#[test]
fn a_pattern_splits_before_its_first_wildcard_component() {
    assert_eq!(
        split_literal_prefix("/Users/me/proj/*.pem"),
        ("/Users/me/proj", "/*.pem")
    );
    assert_eq!(split_literal_prefix("/a/b"), ("/a/b", ""));
    assert_eq!(split_literal_prefix("/**/.env"), ("", "/**/.env"));
    assert_eq!(split_literal_prefix("*.key"), ("", "*.key"));
    assert_eq!(expand_pattern("**/.env", Path::new("/h")), "/**/.env");
    assert_eq!(expand_pattern(".env", Path::new("/h")), "/**/.env");
    assert_eq!(expand_pattern("~/.ssh", Path::new("/h/")), "/h/.ssh");
}
