//! Tests of `check` on Claude tasks: their own tier, never allowed outright without
//! permission prompts, and denied in a denied directory.

use openclaw_shared::TaskSpec;

use super::fixture::{assert_verdict, Fixture};
use crate::policy::Verdict;

fn claude(cwd: Option<&str>) -> TaskSpec {
    TaskSpec::Claude {
        prompt: "$(rm -rf ~) is text here".into(),
        session: None,
        cwd: cwd.map(Into::into),
    }
}

#[test]
fn claude_takes_its_own_tier() {
    let mut f = Fixture::new();

    assert_verdict(&f.check(claude(None)), Verdict::Approve, "claude.tier");
    f.policy.claude.tier = Verdict::Allow;
    assert_verdict(&f.check(claude(None)), Verdict::Allow, "claude.tier");
}

#[test]
fn claude_without_permission_prompts_is_never_allowed_outright() {
    let mut f = Fixture::new();
    f.policy.claude.tier = Verdict::Allow;
    f.policy.claude.dangerously_skip_permissions = true;

    assert_verdict(
        &f.check(claude(None)),
        Verdict::Approve,
        "claude.dangerously_skip_permissions",
    );
}

#[test]
fn claude_in_a_denied_directory_is_denied() {
    let f = Fixture::new();

    assert_verdict(
        &f.check(claude(Some("~/.ssh"))),
        Verdict::Deny,
        "builtin.deny_paths[0]",
    );
}
