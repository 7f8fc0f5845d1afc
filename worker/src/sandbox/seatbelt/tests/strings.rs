//! Paths that try to break out of their SBPL string: quotes, newlines and NUL bytes.

use super::*;

#[test]
fn a_path_cannot_break_out_of_its_string() {
    let evil = r#"/Users/me/x") (allow file-read* (subpath "/")) ; ("#;
    let newline = "/Users/me/line\nbreak\\";
    let mut spec = allowed_spec();
    spec.trees.push(Tree {
        path: PathBuf::from(evil),
        access: Access::ReadWrite,
    });
    spec.hidden.push(PathBuf::from(newline));
    let profile = render(&spec);
    let forms = parse(&profile).unwrap();
    let rules = rules(&forms);

    assert!(strings(&forms).iter().any(|s| s == evil));
    assert!(strings(&forms).iter().any(|s| s == newline));
    assert!(!allows(&rules, "file-read-data", "/Users/other/secret"));
    assert!(allows(&rules, "file-write-data", &format!("{evil}/file")));
}

#[test]
fn a_tree_path_with_a_nul_is_left_out_rather_than_cut_short() {
    use std::os::unix::ffi::OsStrExt as _;
    let mut spec = allowed_spec();
    spec.trees.push(Tree {
        path: PathBuf::from(std::ffi::OsStr::from_bytes(b"/Users\0/me/sub")),
        access: Access::Full,
    });
    let rules = rules_of(&spec);

    assert!(!allows(&rules, "file-write-data", "/Users/other/file"));
    assert!(!render(&spec).contains('\0'));
}
