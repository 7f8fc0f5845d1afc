//! Tests of the approval book: the replay, wrong-fingerprint and expiry attacks of issue 4.

use super::*;
use totp::STEP_SECS;

const NOW: u64 = 1_700_000_000;
const TTL: Duration = Duration::from_secs(600);

struct Book {
    _dir: tempfile::TempDir,
    store: std::path::PathBuf,
    secret: TotpSecret,
    approvals: Approvals,
}

fn book() -> Book {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("totp.last_step");
    let secret = TotpSecret::generate().unwrap();
    let approvals = open(&secret, &store);
    Book {
        _dir: dir,
        store,
        secret,
        approvals,
    }
}

fn open(secret: &TotpSecret, store: &std::path::Path) -> Approvals {
    Approvals::new(
        TotpVerifier::new(secret).unwrap(),
        ReplayGuard::open(store).unwrap(),
        TTL,
    )
}

fn code(secret: &TotpSecret, now: u64) -> String {
    TotpVerifier::new(secret).unwrap().code_at(now / STEP_SECS)
}

fn fp(text: &str) -> Fingerprint {
    Fingerprint::parse(text).unwrap()
}

#[test]
fn current_code_approves_the_task_with_that_fingerprint() {
    let mut b = book();
    let task = TaskId::new();
    b.approvals.request(task, fp("AAAAAAAA"), NOW).unwrap();

    let evidence = b
        .approvals
        .approve(&fp("AAAAAAAA"), &code(&b.secret, NOW), NOW)
        .unwrap();

    assert_eq!(evidence.task_id, task);
    assert_eq!(evidence.fingerprint, "AAAAAAAA");
    assert_eq!(evidence.step, NOW / STEP_SECS);
    assert_eq!(b.approvals.pending().count(), 0);
}

#[test]
fn replayed_code_is_rejected_even_after_a_restart() {
    let mut b = book();
    let stolen = code(&b.secret, NOW);
    b.approvals
        .request(TaskId::new(), fp("AAAAAAAA"), NOW)
        .unwrap();
    b.approvals.approve(&fp("AAAAAAAA"), &stolen, NOW).unwrap();

    // The worker restarts; an attacker replays the code it saw for a new task.
    let mut restarted = open(&b.secret, &b.store);
    restarted
        .request(TaskId::new(), fp("BBBBBBBB"), NOW + 5)
        .unwrap();
    let err = restarted
        .approve(&fp("BBBBBBBB"), &stolen, NOW + 5)
        .unwrap_err();

    assert!(matches!(err, ApprovalError::Replayed(_)), "{err}");
    assert_eq!(restarted.pending().count(), 1);
}

#[test]
fn code_of_an_older_step_is_rejected_once_a_newer_one_was_used() {
    let mut b = book();
    b.approvals
        .request(TaskId::new(), fp("AAAAAAAA"), NOW)
        .unwrap();
    b.approvals
        .approve(&fp("AAAAAAAA"), &code(&b.secret, NOW), NOW)
        .unwrap();
    b.approvals
        .request(TaskId::new(), fp("BBBBBBBB"), NOW)
        .unwrap();

    // Still inside the skew window, but its step is older than the used one.
    let older = code(&b.secret, NOW - STEP_SECS);
    let err = b
        .approvals
        .approve(&fp("BBBBBBBB"), &older, NOW)
        .unwrap_err();

    assert!(matches!(err, ApprovalError::Replayed(_)), "{err}");
}

#[test]
fn valid_code_sent_with_another_fingerprint_approves_nothing_else() {
    let mut b = book().approvals_with_two_slots();
    let mine = TaskId::new();
    let theirs = TaskId::new();
    b.approvals.request(mine, fp("MMMMMMMM"), NOW).unwrap();
    b.approvals.request(theirs, fp("TTTTTTTT"), NOW).unwrap();
    let valid = code(&b.secret, NOW);

    // The owner's code arrives with the attacker's fingerprint first; it approves only
    // that fingerprint's task, and cannot approve a second one.
    let redirected = b.approvals.approve(&fp("TTTTTTTT"), &valid, NOW).unwrap();
    let second = b
        .approvals
        .approve(&fp("MMMMMMMM"), &valid, NOW)
        .unwrap_err();

    assert_eq!(redirected.task_id, theirs);
    assert!(matches!(second, ApprovalError::Replayed(_)), "{second}");
    assert_eq!(b.approvals.pending().next().unwrap().task_id, mine);
}

#[test]
fn code_for_a_fingerprint_nobody_waits_for_is_refused() {
    let mut b = book();
    b.approvals
        .request(TaskId::new(), fp("AAAAAAAA"), NOW)
        .unwrap();

    let err = b
        .approvals
        .approve(&fp("ZZZZZZZZ"), &code(&b.secret, NOW), NOW)
        .unwrap_err();

    assert!(matches!(err, ApprovalError::UnknownFingerprint));
    // The step was not consumed: the owner's real approval still works.
    b.approvals
        .approve(&fp("AAAAAAAA"), &code(&b.secret, NOW), NOW)
        .unwrap();
}

#[test]
fn only_one_approval_waits_at_a_time_by_default() {
    let mut b = book();
    b.approvals
        .request(TaskId::new(), fp("AAAAAAAA"), NOW)
        .unwrap();

    let err = b
        .approvals
        .request(TaskId::new(), fp("BBBBBBBB"), NOW)
        .unwrap_err();

    assert!(matches!(err, ApprovalError::Busy { ref pending } if pending.as_str() == "AAAAAAAA"));
    assert!(matches!(
        b.approvals.request(TaskId::new(), fp("AAAAAAAA"), NOW),
        Err(ApprovalError::Duplicate)
    ));
}

#[test]
fn expired_approval_cannot_be_approved_and_is_reported_for_denial() {
    let mut b = book();
    let task = TaskId::new();
    b.approvals.request(task, fp("AAAAAAAA"), NOW).unwrap();
    let later = NOW + TTL.as_secs();

    let err = b
        .approvals
        .approve(&fp("AAAAAAAA"), &code(&b.secret, later), later)
        .unwrap_err();

    assert!(matches!(err, ApprovalError::Expired { task_id } if task_id == task));
    assert_eq!(b.approvals.pending().count(), 0);
}

#[test]
fn expire_returns_only_the_approvals_past_their_window() {
    let mut b = book().approvals_with_two_slots();
    let old = TaskId::new();
    b.approvals.request(old, fp("AAAAAAAA"), NOW).unwrap();
    b.approvals
        .request(TaskId::new(), fp("BBBBBBBB"), NOW + 300)
        .unwrap();

    let expired = b.approvals.expire(NOW + TTL.as_secs());

    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].task_id, old);
    assert_eq!(b.approvals.pending().count(), 1);
}

#[test]
fn wrong_codes_withdraw_the_approval_after_three_tries() {
    let mut b = book();
    let task = TaskId::new();
    b.approvals.request(task, fp("AAAAAAAA"), NOW).unwrap();
    let right = code(&b.secret, NOW);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };

    let first = b
        .approvals
        .approve(&fp("AAAAAAAA"), wrong, NOW)
        .unwrap_err();
    let _second = b
        .approvals
        .approve(&fp("AAAAAAAA"), wrong, NOW)
        .unwrap_err();
    let third = b
        .approvals
        .approve(&fp("AAAAAAAA"), wrong, NOW)
        .unwrap_err();

    assert!(matches!(
        first,
        ApprovalError::InvalidCode { attempts_left: 2 }
    ));
    assert!(matches!(third, ApprovalError::TooManyAttempts { task_id } if task_id == task));
    assert!(matches!(
        b.approvals.approve(&fp("AAAAAAAA"), &right, NOW),
        Err(ApprovalError::UnknownFingerprint)
    ));
}

#[test]
fn repeated_failures_freeze_approvals_for_a_while() {
    let mut b = book();
    for _ in 0..MAX_CONSECUTIVE_FAILURES {
        let _ = b.approvals.approve(&fp("ZZZZZZZZ"), "123456", NOW);
    }
    let first = TaskId::new();
    b.approvals.request(first, fp("AAAAAAAA"), NOW).unwrap();

    let frozen = b
        .approvals
        .approve(&fp("AAAAAAAA"), &code(&b.secret, NOW), NOW)
        .unwrap_err();
    let thawed_at = NOW + FREEZE.as_secs();
    b.approvals.withdraw(first);
    b.approvals
        .request(TaskId::new(), fp("BBBBBBBB"), thawed_at)
        .unwrap();

    assert!(matches!(frozen, ApprovalError::Frozen { .. }));
    b.approvals
        .approve(&fp("BBBBBBBB"), &code(&b.secret, thawed_at), thawed_at)
        .unwrap();
}

#[test]
fn deny_and_withdraw_remove_the_pending_task() {
    let mut b = book().approvals_with_two_slots();
    let denied = TaskId::new();
    let withdrawn = TaskId::new();
    b.approvals.request(denied, fp("AAAAAAAA"), NOW).unwrap();
    b.approvals.request(withdrawn, fp("BBBBBBBB"), NOW).unwrap();

    assert_eq!(b.approvals.deny(&fp("AAAAAAAA")).unwrap().task_id, denied);
    assert_eq!(b.approvals.withdraw(withdrawn).unwrap().task_id, withdrawn);
    assert_eq!(b.approvals.pending().count(), 0);
}

#[test]
fn evidence_serializes_without_any_code() {
    let mut b = book();
    b.approvals
        .request(TaskId::new(), fp("AAAAAAAA"), NOW)
        .unwrap();
    let used = code(&b.secret, NOW);

    let evidence = b.approvals.approve(&fp("AAAAAAAA"), &used, NOW).unwrap();
    let json = serde_json::to_string(&evidence).unwrap();

    assert!(!json.contains(&used), "{json}");
    assert!(json.contains("\"step\""), "{json}");
}

impl Book {
    fn approvals_with_two_slots(mut self) -> Self {
        let approvals = open(&self.secret, &self.store).with_max_pending(2);
        self.approvals = approvals;
        self
    }
}

#[test]
fn relayed_decision_for_one_task_cannot_approve_another() {
    let mut b = book().approvals_with_two_slots();
    let mine = TaskId::new();
    b.approvals.request(mine, fp("MMMMMMMM"), NOW).unwrap();
    b.approvals
        .request(TaskId::new(), fp("TTTTTTTT"), NOW)
        .unwrap();
    let valid = code(&b.secret, NOW);

    // Relayed for my task, but carrying the other task's fingerprint.
    let err = b
        .approvals
        .approve_task(mine, &fp("TTTTTTTT"), &valid, NOW)
        .unwrap_err();
    let ok = b
        .approvals
        .approve_task(mine, &fp("MMMMMMMM"), &valid, NOW)
        .unwrap();

    assert!(matches!(err, ApprovalError::UnknownFingerprint));
    assert_eq!(ok.task_id, mine);
}

#[test]
fn burnt_codes_approve_nothing_and_a_later_code_does() {
    let mut b = book();
    let typed = code(&b.secret, NOW);
    b.approvals
        .request(TaskId::new(), fp("AAAAAAAA"), NOW)
        .unwrap();
    // The first request is denied by the relay; the owner's code must not serve the next.
    b.approvals.deny(&fp("AAAAAAAA"));
    b.approvals.burn_current_codes(NOW).unwrap();
    let next = TaskId::new();
    b.approvals.request(next, fp("BBBBBBBB"), NOW + 1).unwrap();

    let err = b
        .approvals
        .approve(&fp("BBBBBBBB"), &typed, NOW + 1)
        .unwrap_err();
    let later = NOW + 2 * STEP_SECS;
    let evidence = b
        .approvals
        .approve(&fp("BBBBBBBB"), &code(&b.secret, later), later)
        .unwrap();

    assert!(matches!(err, ApprovalError::Replayed(_)), "{err}");
    assert_eq!(evidence.task_id, next);
}

#[test]
fn a_restart_with_an_approval_pending_burns_the_codes_valid_then() {
    let mut b = book();
    b.approvals
        .request(TaskId::new(), fp("AAAAAAAA"), NOW)
        .unwrap();
    // The worker dies with the request pending: nothing settles it.
    drop(b.approvals);

    let mut restarted = open(&b.secret, &b.store);
    let burnt = restarted.recover(NOW + 5).unwrap();
    restarted
        .request(TaskId::new(), fp("BBBBBBBB"), NOW + 5)
        .unwrap();
    let kept_back = restarted.approve(&fp("BBBBBBBB"), &code(&b.secret, NOW), NOW + 5);

    assert!(burnt);
    assert!(
        matches!(kept_back, Err(ApprovalError::Replayed(_))),
        "{kept_back:?}"
    );
}

#[test]
fn a_restart_after_every_approval_was_settled_burns_nothing() {
    let mut b = book();
    b.approvals
        .request(TaskId::new(), fp("AAAAAAAA"), NOW)
        .unwrap();
    b.approvals
        .approve(&fp("AAAAAAAA"), &code(&b.secret, NOW), NOW)
        .unwrap();
    drop(b.approvals);

    let mut restarted = open(&b.secret, &b.store);
    let burnt = restarted.recover(NOW + STEP_SECS).unwrap();
    restarted
        .request(TaskId::new(), fp("BBBBBBBB"), NOW + STEP_SECS)
        .unwrap();
    let next = restarted.approve(
        &fp("BBBBBBBB"),
        &code(&b.secret, NOW + STEP_SECS),
        NOW + STEP_SECS,
    );

    assert!(!burnt);
    assert!(next.is_ok(), "{next:?}");
}
