//! The path every claimed task takes: the policy's verdict (deny, allow, or the owner's
//! approval verified here), execution of exactly the checked plan, redaction of the
//! output (terminal controls stripped, secrets replaced, then cut to the cap), the
//! screenshot (if any) checked like a read, and an audit entry written before anything
//! leaves the Mac. The outcome carries `metadata.policy`, `metadata.redactions`
//! and `metadata.audit` (the log's head, which the bot keeps as an external anchor).
//!
//! A task that runs anything is first written to the spool ([`crate::spool`]) with its
//! decision, and its process runs under a supervisor; a worker that starts after a crash
//! or an upgrade finishes what it finds there the same way ([`finish_adopted`]).
//!
//! # Layout
//! - [`approve`]: waiting for, and verifying, the owner's approval.
//! - [`screenshot`]: `PLEASE_UPLOAD_TO_DISCORD:` files, checked and uploaded.
//! - [`describe`](mod@describe): what a task will do, in words, for the owner.
//! - [`output`]: redacted output cut back to the cap.
//! - [`live_output`]: a running task's output sent as it comes ([`crate::live`]).

pub mod approve;
pub mod describe;
pub mod live_output;
pub mod output;
pub mod screenshot;

use std::sync::Arc;
use std::time::Duration;

use openclaw_shared::worker::{ApprovalDecision, ClaimedTask};
use openclaw_shared::{OutcomeStatus, TaskOutcome, TaskSpec};
use serde_json::json;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::approval::ApprovalEvidence;
use crate::audit::{ApprovalRecord, AuditRecord};
use crate::client::ApiClient;
use crate::config::Config;
use crate::exec::job::ProcessJob;
use crate::exec::process::CUT_REDACTIONS_KEY;
use crate::exec::supervisor::{self, Supervisor};
use crate::exec::{self, ExecContext};
use crate::guard::Guard;
use crate::policy::{Decision, Plan, Verdict};
use crate::spool::{Spool, SpoolState, Supervisor as Lock, TaskRecord, TaskSpool};
pub use describe::describe;

/// What every task's pipeline shares.
#[derive(Debug)]
pub struct TaskRuntime {
    /// This worker's name (in reports and fingerprints).
    pub name: String,
    /// The server.
    pub client: ApiClient,
    /// The executors' settings, with the policy applied.
    pub exec: ExecContext,
    /// Policy, approvals, audit, redaction, lock.
    pub guard: Guard,
    /// Cancelled when the worker shuts down: tasks still waiting for an approval end at
    /// once instead of holding the shutdown for the grace period.
    pub stop_waiting: CancellationToken,
    /// Where started tasks are kept until their result is acknowledged.
    pub spool: Spool,
    /// Time between pieces of live output; `None`: live output is off.
    pub live_interval: Option<Duration>,
}

impl TaskRuntime {
    /// Opens the guard (refusing unsafe setups) and builds the client and executors.
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let guard = Guard::open(config)?;
        let mut exec = ExecContext::from_config(config);
        exec.apply_policy(guard.policy(), guard.check_env());
        exec.redactor = Some(guard.redactor());
        exec.supervisor = Some(
            Supervisor::current()
                .map_err(|err| anyhow::anyhow!("cannot find the worker's own binary: {err}"))?,
        );
        let spool = Spool::open(&config.state_dir).map_err(|err| {
            anyhow::anyhow!(
                "cannot create the spool in {}: {err}",
                config.state_dir.display()
            )
        })?;
        let sandbox = guard.sandbox().report();
        Ok(Self {
            name: config.name.clone(),
            client: ApiClient::with_ca_file(
                &config.server_url,
                &config.token,
                config.server_ca_file.as_deref(),
            )?
            .with_sandbox(sandbox),
            exec,
            guard,
            stop_waiting: CancellationToken::new(),
            spool,
            live_interval: (config.live_output_interval_ms > 0)
                .then(|| Duration::from_millis(config.live_output_interval_ms)),
        })
    }
}

/// Runs one claimed task through the whole pipeline and returns the outcome to report.
/// `decisions` carries the owner's answers relayed in heartbeats for this task.
pub async fn run_task(
    rt: Arc<TaskRuntime>,
    task: ClaimedTask,
    cancel: CancellationToken,
    mut decisions: UnboundedReceiver<ApprovalDecision>,
) -> TaskOutcome {
    let decision = rt.guard.decide(task.id, &task.spec);
    info!(
        task_id = %task.id,
        verdict = decision.verdict.as_str(),
        rule = %decision.rule,
        reason = %decision.reason,
        "policy verdict"
    );
    let mut evidence = None;
    let outcome = match decision.verdict {
        Verdict::Deny => denied(&decision.reason),
        Verdict::Allow => execute_checked(&rt, &task, &decision, None, cancel).await,
        Verdict::Approve => {
            match approve::await_approval(&rt, &task, &decision, &cancel, &mut decisions).await {
                Ok(approved) => {
                    let outcome =
                        execute_checked(&rt, &task, &decision, Some(&approved), cancel).await;
                    evidence = Some(approved);
                    outcome
                }
                Err(outcome) => outcome,
            }
        }
    };
    finalize(&rt, &task, &decision, evidence.as_ref(), outcome).await
}

/// Reports a task the worker will not run for a reason of its own (no free slot):
/// audited like any other, reported failed, nothing runs.
pub async fn refuse(rt: &Arc<TaskRuntime>, task: &ClaimedTask, reason: &str) -> TaskOutcome {
    let decision = Decision {
        verdict: Verdict::Deny,
        rule: "worker.slots".to_owned(),
        reason: reason.to_owned(),
        canary: None,
        allow_rule: None,
        plan: Plan::default(),
    };
    finalize(rt, task, &decision, None, TaskOutcome::failure(reason)).await
}

/// A `denied` outcome: nothing ran.
pub fn denied(reason: &str) -> TaskOutcome {
    TaskOutcome {
        error: Some(reason.to_owned()),
        ..TaskOutcome::new(OutcomeStatus::Denied)
    }
}

/// Runs the decision's plan, unless the worker locked itself meanwhile: first written to
/// the spool with the decision (so a worker that starts after a crash can finish it), then
/// executed, its process under a supervisor. In a task of its own, so a panic in an
/// executor becomes a failed outcome (that is still audited).
async fn execute_checked(
    rt: &Arc<TaskRuntime>,
    task: &ClaimedTask,
    decision: &Decision,
    approval: Option<&ApprovalEvidence>,
    cancel: CancellationToken,
) -> TaskOutcome {
    if rt.guard.is_locked() {
        return denied(&format!(
            "the worker is locked ({}); run `openclaw-worker unlock` on the Mac to resume",
            rt.guard.lock_reason()
        ));
    }
    let record = TaskRecord {
        task: task.clone(),
        verdict: decision.verdict,
        rule: decision.rule.clone(),
        reason: decision.reason.clone(),
        approval: approval.cloned(),
    };
    let spooled = rt.spool.task(task.id);
    let spooled = match spooled.begin(&record) {
        Ok(()) => Some(spooled),
        Err(err) => {
            warn!(task_id = %task.id, error = %err, "cannot write the task to the spool; running it in the worker (a crash now would lose its result)");
            None
        }
    };
    let ended = CancellationToken::new();
    let live = live_output::start(rt, task, spooled.as_ref(), &ended);
    let (runtime, claimed, plan) = (Arc::clone(rt), task.clone(), decision.plan.clone());
    let run = tokio::spawn(async move {
        exec::execute_spooled(&runtime.exec, &claimed, &plan, cancel, spooled.as_ref()).await
    });
    let mut outcome = run.await.unwrap_or_else(|err| {
        error!(task_id = %task.id, error = %err, "executor crashed");
        TaskOutcome::failure("the worker failed while running this task")
    });
    // The last piece goes before the result, so a follower sees the end of the live text
    // before the end of the task (bounded by the sender's own timeout).
    ended.cancel();
    if let Some(live) = live {
        let sent = live.await.unwrap_or(0);
        if sent > 0 {
            // What already left the Mac, for the audit entry (`bytes_uploaded`).
            outcome
                .metadata
                .insert(live_output::LIVE_BYTES_KEY.into(), json!(sent));
        }
    }
    outcome
}

/// Finishes a task a previous worker started and this one found in the spool, as that
/// worker would have: waits for its process while its supervisor lives (stopping it on
/// `cancel`), makes the outcome from what the supervisor recorded, then redacts, audits
/// and returns it like any other. A process whose end nobody recorded is reported failed,
/// saying what is known.
pub async fn finish_adopted(
    rt: &Arc<TaskRuntime>,
    spool: &TaskSpool,
    record: &TaskRecord,
    state: SpoolState,
    cancel: &CancellationToken,
) -> TaskOutcome {
    let id = record.task.id;
    let mut state = state;
    if matches!(state, SpoolState::Interrupted) && spool.job_file().exists() {
        // Handed to a supervisor just before the worker stopped: give it the moment it
        // takes to lock the task (microseconds; a restart takes far longer anyway).
        tokio::time::sleep(supervisor::HANDOVER_GRACE).await;
        state = spool.state();
    }
    if matches!(state, SpoolState::Running) {
        info!(task_id = %id, "task started before the restart is still running; waiting for it");
        supervisor::wait_adopted(spool, cancel).await;
    }
    let job: Option<ProcessJob> = std::fs::read(spool.job_file())
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let runs_a_process = matches!(
        record.task.spec,
        TaskSpec::Command { .. } | TaskSpec::Claude { .. } | TaskSpec::Agent { .. }
    );
    let outcome = match (&job, supervisor::adopted_output(spool)) {
        (Some(job), Ok((output, ran))) => {
            info!(task_id = %id, "result of a task started before the restart");
            exec::adopted_outcome(&record.task, job, output, ran, rt.exec.redactor.as_deref())
        }
        _ => {
            let why = match spool.supervisor() {
                Lock::NeverStarted if runs_a_process => {
                    "the worker stopped before the task's process started; nothing ran"
                }
                Lock::NeverStarted => {
                    "the worker stopped while running this task; whether it changed anything \
                     is unknown"
                }
                Lock::Gone | Lock::Alive => {
                    "the worker stopped while this task ran, and so did its supervisor: \
                     whether the process finished, and what it did, is unknown"
                }
            };
            warn!(task_id = %id, reason = why, "task started before the restart has no result");
            TaskOutcome::failure(why)
        }
    };
    if let Some(tmpdir) = job.and_then(|job| job.sandbox).map(|spec| spec.tmpdir) {
        let _ = std::fs::remove_dir_all(tmpdir);
    }
    let decision = Decision {
        verdict: record.verdict,
        rule: record.rule.clone(),
        reason: record.reason.clone(),
        canary: None,
        allow_rule: None,
        plan: Plan::default(),
    };
    finalize(
        rt,
        &record.task,
        &decision,
        record.approval.as_ref(),
        outcome,
    )
    .await
}

/// Adds the policy facts, redacts, checks the screenshot, writes the audit entry, then
/// uploads the screenshot. If the audit entry cannot be written, the output is withheld:
/// nothing leaves the Mac that the log does not hold.
async fn finalize(
    rt: &Arc<TaskRuntime>,
    task: &ClaimedTask,
    decision: &Decision,
    approval: Option<&ApprovalEvidence>,
    mut outcome: TaskOutcome,
) -> TaskOutcome {
    let policy = json!({
        "verdict": decision.verdict.as_str(),
        "rule": decision.rule,
        "reason": decision.reason,
    });
    outcome.metadata.insert("policy".into(), policy.clone());
    if let Some(evidence) = approval {
        outcome.metadata.insert(
            "approval".into(),
            json!({"fingerprint": evidence.fingerprint, "step": evidence.step}),
        );
    }
    // Redact first, then cut: the capture kept a margin past the cap so a secret that
    // straddles it is redacted whole.
    let file_content = matches!(task.spec, TaskSpec::FileRead { .. });
    let redactions = rt.guard.redact(&mut outcome, file_content);
    output::cap_output(&task.spec, &mut outcome, rt.exec.limits.max_output_bytes);
    // Secrets replaced at a long output's cuts are already markers the pass above skips.
    let at_cuts = outcome
        .metadata
        .remove(CUT_REDACTIONS_KEY)
        .and_then(|n| n.as_u64())
        .unwrap_or(0);
    let redacted = redactions.total() + at_cuts;
    if redacted > 0 {
        info!(task_id = %task.id, redactions = redacted, "secrets redacted from the output");
    }
    outcome
        .metadata
        .insert("redactions".into(), json!(redacted));
    if file_content && redacted > 0 {
        // Never alter a file silently: the content is not the file's bytes any more (a
        // binary's length and offsets change too), and the result says so.
        outcome.metadata.insert("altered".into(), json!(true));
    }

    let screenshot = screenshot::prepare(rt, task, &outcome).await;
    let screenshot = match screenshot {
        Some(Ok(shot)) => Some(shot),
        Some(Err(reason)) => {
            warn!(task_id = %task.id, %reason, "screenshot not uploaded");
            outcome
                .metadata
                .insert("screenshotError".into(), json!(reason));
            None
        }
        None => None,
    };

    let mut record = AuditRecord::new(
        task.id,
        &task.spec,
        decision.verdict,
        &decision.rule,
        &decision.reason,
    );
    record.approval = approval.map(ApprovalRecord::from);
    record.status = outcome.status;
    record.exit_code = outcome.exit_code;
    record.redactions = redacted;
    let live_bytes = outcome
        .metadata
        .get(live_output::LIVE_BYTES_KEY)
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    record.bytes_uploaded = (outcome.stdout.len() + outcome.stderr.len()) as u64
        + screenshot.as_ref().map_or(0, |s| s.bytes.len() as u64)
        + live_bytes;
    let runtime = Arc::clone(rt);
    let appended = tokio::task::spawn_blocking(move || runtime.guard.record(&record)).await;
    match appended {
        Ok(Ok(head)) => {
            outcome.metadata.insert(
                "audit".into(),
                json!({"count": head.count, "hash": head.last_hash}),
            );
        }
        Ok(Err(err)) => return withheld(task, &err.to_string(), policy),
        Err(err) => return withheld(task, &err.to_string(), policy),
    }

    if let Some(shot) = screenshot {
        if let Err(reason) = screenshot::upload(rt, task, shot).await {
            warn!(task_id = %task.id, %reason, "screenshot upload failed");
            outcome
                .metadata
                .insert("screenshotError".into(), json!(reason));
        }
    }
    outcome
}

/// The outcome when the audit log cannot be written: a failure without output.
fn withheld(task: &ClaimedTask, why: &str, policy: serde_json::Value) -> TaskOutcome {
    error!(task_id = %task.id, error = %why, "cannot write the audit log; withholding the output");
    let mut outcome =
        TaskOutcome::failure("the worker could not write its audit log; the output is withheld");
    outcome.metadata.insert("policy".into(), policy);
    outcome
}
