//! Waiting for the owner's approval. One approval is pending at a time: a task that needs
//! one waits its turn (still `running` on the server, its lease kept by heartbeats), then
//! is fingerprinted, announced to the server (and to the owner's own webhook), and waits
//! for a relayed answer, which is verified HERE: TOTP code, unused time step, and the
//! fingerprint of this very task. An answer for a task that is not waiting approves
//! nothing. Deny, expiry, cancel or shutdown end the wait; then the codes valid at that
//! moment are burnt, so the next task in line cannot be approved with a code typed for
//! this one.

use std::sync::Arc;
use std::time::Duration;

use openclaw_shared::worker::{ApprovalDecision, ApprovalState, ClaimedTask};
use openclaw_shared::{LeaseId, OutcomeStatus, TaskId, TaskOutcome};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{denied, describe, TaskRuntime};
use crate::approval::fingerprint::ApprovalSubject;
use crate::approval::{fingerprint, now_secs, ApprovalError, ApprovalEvidence, Fingerprint};
use crate::client::{Backoff, FailureKind};
use crate::notify::ApprovalNotice;
use crate::policy::Decision;
use crate::telemetry::error_chain;

/// Longest summary sent to the server (it refuses more than 4096 bytes); a description
/// never exceeds it, this only makes sure.
const MAX_SUMMARY_BYTES: usize = super::describe::MAX_DESCRIPTION_BYTES;
/// How long a progress report (approved, rejected) is retried in the background.
const BACKGROUND_REPORT_ATTEMPTS: u32 = 8;
/// Why a task still waiting for approval ended at shutdown.
const SHUTDOWN: &str = "the worker shut down before the task was approved";

/// What became of one relayed answer.
enum Verdict {
    /// Approved: run the task.
    Approved(ApprovalEvidence),
    /// Refused, and the task is denied.
    Final(String),
    /// Refused; the task keeps waiting (the reason goes to the owner).
    Again(String),
}

fn cancelled(why: &str) -> TaskOutcome {
    TaskOutcome {
        error: Some(why.to_owned()),
        ..TaskOutcome::new(OutcomeStatus::Cancelled)
    }
}

/// Waits for the owner's approval of `task` as planned in `decision`. `Ok` means approved
/// (run it); `Err` is the outcome to report instead (denied, cancelled).
pub async fn await_approval(
    rt: &Arc<TaskRuntime>,
    task: &ClaimedTask,
    decision: &Decision,
    cancel: &CancellationToken,
    decisions: &mut UnboundedReceiver<ApprovalDecision>,
) -> Result<ApprovalEvidence, TaskOutcome> {
    if !rt.guard.approvals_enabled() {
        return Err(denied(&format!(
            "{}; this task needs the owner's approval, but approvals are not set up on the \
             worker (run `openclaw-worker init`)",
            decision.reason
        )));
    }
    let subject = subject(rt, task, decision);
    // Before the turn: a task the owner cannot read whole is denied now, not left waiting.
    let summary = match describe(&subject) {
        Ok(summary) => summary,
        Err(unshowable) => {
            info!(task_id = %task.id, reason = %unshowable, "task cannot be shown whole for approval");
            return Err(denied(&format!("{}; {unshowable}", decision.reason)));
        }
    };
    // Our turn: until then this task is not waiting for approval, and an answer relayed
    // for it approves nothing (a deny is honoured: refusing is always safe).
    let _turn = loop {
        tokio::select! {
            permit = rt.guard.turn().acquire() => match permit {
                Ok(permit) => break permit,
                Err(_) => return Err(cancelled(SHUTDOWN)),
            },
            answer = decisions.recv() => match answer {
                Some(ApprovalDecision::Deny) => return Err(denied("the owner denied it")),
                Some(ApprovalDecision::Approve { fingerprint, code }) => {
                    unrequested(rt, task.id, &fingerprint, &code);
                }
                // The sender lives as long as the task runs; its loss means the task ended.
                None => return Err(cancelled("cancelled on request")),
            },
            () = cancel.cancelled() => return Err(cancelled("cancelled on request")),
            () = rt.stop_waiting.cancelled() => return Err(cancelled(SHUTDOWN)),
        }
    };
    if rt.guard.is_locked() {
        return Err(denied(&format!(
            "the worker is locked ({}); run `openclaw-worker unlock` on the Mac to resume",
            rt.guard.lock_reason()
        )));
    }
    let fp = fingerprint(&subject);
    let requested = rt.guard.with_approvals(|book| {
        book.request(task.id, fp.clone(), now_secs())
            .map(|p| p.expires_at_secs)
    });
    let expires_at_secs = match requested {
        Some(Ok(at)) => at,
        Some(Err(err)) => return Err(denied(&format!("cannot request approval: {err}"))),
        None => return Err(denied("approvals are not set up on the worker")),
    };
    info!(task_id = %task.id, fingerprint = %fp, expires_at_secs, "waiting for the owner's approval");

    let state = ApprovalState::Requested {
        fingerprint: fp.to_string(),
        summary: cut(&summary, MAX_SUMMARY_BYTES),
        expires_at: expires_at_secs.saturating_mul(1000),
    };
    let ttl = Duration::from_secs(expires_at_secs.saturating_sub(now_secs()));
    let expiry = tokio::time::sleep(ttl);
    tokio::pin!(expiry);
    let reported = tokio::select! {
        reported = report(rt, (task.id, task.lease), state, u32::MAX) => {
            reported.map_err(|why| denied(&format!("cannot request approval: {why}")))
        }
        () = &mut expiry => Err(denied("the approval request expired before the server heard of it")),
        () = cancel.cancelled() => Err(cancelled("cancelled on request")),
        () = rt.stop_waiting.cancelled() => Err(cancelled(SHUTDOWN)),
    };
    if let Err(outcome) = reported {
        settle_unapproved(rt, task.id);
        return Err(outcome);
    }
    notify_owner(rt, task.id, &fp, summary, expires_at_secs);

    loop {
        tokio::select! {
            answer = decisions.recv() => match answer {
                Some(ApprovalDecision::Deny) => {
                    info!(task_id = %task.id, "the owner denied the task");
                    settle_unapproved(rt, task.id);
                    return Err(denied("the owner denied it"));
                }
                Some(ApprovalDecision::Approve { fingerprint, code }) => {
                    match verify(rt, task.id, &fingerprint, &code) {
                        Verdict::Approved(evidence) => {
                            info!(task_id = %task.id, step = evidence.step, "approval verified");
                            report_in_background(rt, task, ApprovalState::Approved);
                            return Ok(evidence);
                        }
                        Verdict::Final(reason) => {
                            warn!(task_id = %task.id, %reason, "approval refused; task denied");
                            settle_unapproved(rt, task.id);
                            return Err(denied(&reason));
                        }
                        Verdict::Again(reason) => {
                            warn!(task_id = %task.id, %reason, "relayed approval refused; still waiting");
                            report_in_background(rt, task, ApprovalState::Rejected { reason });
                        }
                    }
                }
                // The sender lives as long as the task is running; treat its loss as a cancel.
                None => {
                    settle_unapproved(rt, task.id);
                    return Err(cancelled("cancelled on request"));
                }
            },
            () = &mut expiry => {
                info!(task_id = %task.id, "approval request expired");
                settle_unapproved(rt, task.id);
                return Err(denied(&format!(
                    "the approval request expired after {} s without an answer",
                    rt.guard.policy().approvals.ttl_secs
                )));
            }
            () = cancel.cancelled() => {
                settle_unapproved(rt, task.id);
                return Err(cancelled("cancelled on request"));
            }
            () = rt.stop_waiting.cancelled() => {
                settle_unapproved(rt, task.id);
                return Err(cancelled(SHUTDOWN));
            }
        }
    }
}

/// Everything the approval covers: the task, its plan, its timeout, and what the worker
/// adds around it.
fn subject<'a>(
    rt: &'a TaskRuntime,
    task: &'a ClaimedTask,
    decision: &'a Decision,
) -> ApprovalSubject<'a> {
    ApprovalSubject {
        task_id: task.id,
        worker: &rt.name,
        spec: &task.spec,
        plan: &decision.plan,
        timeout_ms: task.timeout_ms,
        shell: &rt.exec.shell,
        claude_bin: &rt.exec.claude_bin,
        claude_args: &rt.exec.claude_args,
        agent: task.spec.agent().and_then(|name| rt.exec.agents.get(name)),
    }
}

/// Verifies a relayed answer against the book.
fn verify(rt: &TaskRuntime, task_id: TaskId, fingerprint: &str, code: &str) -> Verdict {
    let Ok(fp) = Fingerprint::parse(fingerprint) else {
        return Verdict::Again("that is not a fingerprint".to_owned());
    };
    let checked = rt
        .guard
        .with_approvals(|book| book.approve_task(task_id, &fp, code, now_secs()));
    match checked {
        Some(Ok(evidence)) => Verdict::Approved(evidence),
        Some(Err(
            err @ (ApprovalError::Expired { .. } | ApprovalError::TooManyAttempts { .. }),
        )) => Verdict::Final(err.to_string()),
        Some(Err(err)) => Verdict::Again(err.to_string()),
        None => Verdict::Final("approvals are not set up on the worker".to_owned()),
    }
}

/// An answer relayed for a task that is not waiting for approval: it goes through the book
/// (where it fails, and counts towards the freeze) and approves nothing.
fn unrequested(rt: &TaskRuntime, task_id: TaskId, fingerprint: &str, code: &str) {
    if let Ok(fp) = Fingerprint::parse(fingerprint) {
        let _ = rt
            .guard
            .with_approvals(|book| book.approve_task(task_id, &fp, code, now_secs()));
    }
    warn!(task_id = %task_id, "an approval was relayed for a task that is not waiting for one; nothing approved");
}

/// Ends this task's pending approval without approving it, and burns the codes valid now.
fn settle_unapproved(rt: &TaskRuntime, task_id: TaskId) {
    let burnt = rt.guard.with_approvals(|book| {
        book.withdraw(task_id);
        book.burn_current_codes(now_secs())
    });
    if let Some(Err(err)) = burnt {
        warn!(error = %err, "cannot burn the current codes after an unapproved request");
    }
}

/// Posts the request to the owner's webhook, in the background (the wait goes on).
fn notify_owner(
    rt: &Arc<TaskRuntime>,
    task_id: TaskId,
    fp: &Fingerprint,
    summary: String,
    expires_at_secs: u64,
) {
    if rt.guard.notifier().is_none() {
        return;
    }
    let runtime = Arc::clone(rt);
    let fingerprint = fp.to_string();
    tokio::spawn(async move {
        let Some(notifier) = runtime.guard.notifier() else {
            return;
        };
        let notice = ApprovalNotice {
            task_id,
            fingerprint: &fingerprint,
            summary: &summary,
            expires_at_secs,
        };
        match notifier.approval_requested(&notice).await {
            Ok(()) => info!(task_id = %task_id, "approval request posted to the owner's webhook"),
            Err(err) => {
                warn!(task_id = %task_id, error = %err, "cannot post to the owner's webhook")
            }
        }
    });
}

/// Reports approval progress, retrying transient failures (up to `attempts`); a refusal
/// by the server is final.
async fn report(
    rt: &TaskRuntime,
    (task_id, lease): (TaskId, LeaseId),
    state: ApprovalState,
    attempts: u32,
) -> Result<(), String> {
    let mut backoff = Backoff::default();
    let mut attempt = 0u32;
    loop {
        let sent = rt
            .client
            .report_approval(&rt.name, task_id, lease, state.clone())
            .await;
        let err = match sent {
            Ok(()) => return Ok(()),
            Err(err) => err,
        };
        attempt = attempt.saturating_add(1);
        if err.kind() == FailureKind::Rejected || attempt >= attempts {
            return Err(error_chain(&err));
        }
        let delay = backoff
            .next_delay()
            .max(err.retry_after().unwrap_or_default());
        warn!(task_id = %task_id, error = %error_chain(&err), retry_in_ms = delay.as_millis(), "approval report failed; retrying");
        tokio::time::sleep(delay).await;
    }
}

/// Reports progress without holding up the task (the result, sent later, settles it anyway).
fn report_in_background(rt: &Arc<TaskRuntime>, task: &ClaimedTask, state: ApprovalState) {
    let runtime = Arc::clone(rt);
    let held = (task.id, task.lease);
    tokio::spawn(async move {
        if let Err(why) = report(&runtime, held, state, BACKGROUND_REPORT_ATTEMPTS).await {
            // E.g. the task already finished: its result settles it on the server.
            info!(task_id = %held.0, error = %why, "approval progress not recorded by the server");
        }
    });
}

/// `text` cut to at most `max` bytes on a character boundary.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn summaries_are_cut_on_a_character_boundary() {
        let text = "é".repeat(3000);

        let short = cut(&text, 4000);

        assert!(short.len() <= 4000);
        assert!(short.ends_with('…'));
        assert_eq!(cut("short", 4000), "short");
    }
}
