//! The rendered profiles against their golden files (`golden/*.sb`), and what every
//! profile starts with.

use std::path::Path;

use super::{allowed_spec, approved_spec, claude_spec, parse, render, rules};

fn golden(name: &str, profile: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/sandbox/seatbelt/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, profile).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("{}: {err} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert!(
        expected == profile,
        "{} differs from the rendered profile; if intended, rerun with UPDATE_GOLDEN=1 and review the diff",
        path.display()
    );
}

#[test]
fn allowed_profile_without_network_matches_its_golden_file() {
    golden("allowed.sb", &render(&allowed_spec()));
}

#[test]
fn approved_profile_with_network_matches_its_golden_file() {
    golden("approved.sb", &render(&approved_spec()));
}

#[test]
fn claude_profile_matches_its_golden_file() {
    golden("claude.sb", &render(&claude_spec()));
}

#[test]
fn every_profile_starts_by_denying_everything() {
    for spec in [allowed_spec(), approved_spec(), claude_spec()] {
        let profile = render(&spec);
        let forms = parse(&profile).unwrap();
        let rules = rules(&forms);

        assert!(profile.starts_with("(version 1)\n"));
        assert_eq!(rules[0].operations, ["default"]);
        assert!(!rules[0].allow);
    }
}
