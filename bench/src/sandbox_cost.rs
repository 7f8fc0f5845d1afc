//! What the kernel sandbox costs per task: `/bin/true` spawned and reaped plain and confined
//! (the allowed and the approved profile, derived from the default policy for the bench's
//! home), and confined under a supervisor (the worker binary as `openclaw-worker supervise`,
//! as every task's process runs in the worker), interleaved so that load on the machine hits
//! all of them alike.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use openclaw_shared::worker::ClaimedTask;
use openclaw_shared::{LeaseId, OutcomeStatus, TaskId, TaskSpec};
use openclaw_worker::exec::job::{ProcessJob, JOB_VERSION};
use openclaw_worker::exec::supervisor::Supervisor;
use openclaw_worker::policy::{Decision, Exec, Plan, Policy, Verdict};
use openclaw_worker::sandbox::spec::Platform;
use openclaw_worker::sandbox::{self, SandboxEnv, SandboxSpec, SandboxStatus, TaskTempDir};
use openclaw_worker::spool::{Spool, TaskRecord};
use tokio_util::sync::CancellationToken;

use crate::measure::Percentiles;

/// Spawn→exit times of the three kinds.
pub struct SandboxCost {
    /// What the kernel offers (the bench says so when it cannot confine).
    pub status: SandboxStatus,
    pub plain: Percentiles,
    pub allowed: Option<Percentiles>,
    pub approved: Option<Percentiles>,
    /// The allowed profile under a supervisor, its spool files included.
    pub supervised: Option<Percentiles>,
}

/// Measures `samples` spawns of each kind, with `home` as the home directory and `worker`
/// the binary supervisors run.
pub async fn measure(home: &Path, worker: &Path, samples: usize) -> anyhow::Result<SandboxCost> {
    let status = SandboxStatus::probe(false);
    let program = Path::new("/bin/true");
    let specs = if status.enforced() {
        Some((
            spec_for(home, program, Verdict::Allow)?,
            spec_for(home, program, Verdict::Approve)?,
        ))
    } else {
        None
    };
    let state = home.join("bench-spool");
    let spool = Spool::open(&state)?;
    let supervisor = Supervisor::at(worker);
    let (mut plain, mut allowed, mut approved) = (Vec::new(), Vec::new(), Vec::new());
    let mut supervised = Vec::new();
    // A worker binary older than supervisors (`--worker-bin`) has none to measure.
    let mut supervising = true;
    for _ in 0..samples {
        plain.push(spawn_once(program, None).await?);
        if let Some((allow, approve)) = &specs {
            allowed.push(spawn_once(program, Some(allow)).await?);
            approved.push(spawn_once(program, Some(approve)).await?);
            if supervising {
                match supervise_once(&supervisor, &spool, program, allow).await {
                    Ok(time) => supervised.push(time),
                    Err(err) => {
                        eprintln!("not measuring spawns under a supervisor: {err:#}");
                        supervising = false;
                    }
                }
            }
        }
    }
    Ok(SandboxCost {
        status,
        plain: Percentiles::of(plain).context("no samples")?,
        allowed: Percentiles::of(allowed),
        approved: Percentiles::of(approved),
        supervised: Percentiles::of(supervised),
    })
}

/// One spawn and reap under a supervisor, as the worker does it for a spooled task: the
/// task's directory and record, the job, the supervisor, the result read back.
async fn supervise_once(
    supervisor: &Supervisor,
    spool: &Spool,
    program: &Path,
    spec: &SandboxSpec,
) -> anyhow::Result<Duration> {
    let id = TaskId::new();
    // The spec names a temp dir per task; this one is per spawn.
    let spec = SandboxSpec {
        tmpdir: spec.tmpdir.with_file_name(format!("openclaw-task-{id}")),
        ..spec.clone()
    };
    let start = Instant::now();
    let task = spool.task(id);
    task.begin(&TaskRecord {
        task: ClaimedTask {
            id,
            lease: LeaseId::new(),
            spec: TaskSpec::Command {
                command: "true".to_owned(),
                cwd: None,
            },
            timeout_ms: 10_000,
            lease_ttl_ms: 60_000,
            offer_ttl_ms: 10_000,
            created_at: 0,
        },
        verdict: Verdict::Allow,
        rule: "bench".to_owned(),
        reason: "bench".to_owned(),
        approval: None,
    })?;
    let _tmpdir = TaskTempDir::create(&spec)?;
    let job = ProcessJob {
        version: JOB_VERSION,
        invocation: sandbox::invocation(Some(&spec), program, Some("true"), &[] as &[&str])?,
        env: Vec::new(),
        cwd: PathBuf::from("/"),
        sandbox: Some(spec.clone()),
        max_output_bytes: 1024 * 1024,
        kill_grace_ms: 1_000,
        timeout_ms: 10_000,
        what: program.display().to_string(),
        live_output_bytes: 0,
    };
    let output = supervisor.run(&task, &job, &CancellationToken::new()).await;
    let outcome = output.into_outcome(&job.what, job.timeout(), None);
    task.remove();
    let elapsed = start.elapsed();
    if outcome.status != OutcomeStatus::Succeeded {
        bail!(
            "{} failed under a supervisor: {outcome:?}",
            program.display()
        );
    }
    Ok(elapsed)
}

/// The spec the default policy gives `program` with `verdict`, in a home at `home`.
fn spec_for(home: &Path, program: &Path, verdict: Verdict) -> anyhow::Result<SandboxSpec> {
    let policy = Policy::default();
    let decision = Decision {
        verdict,
        rule: "bench".to_owned(),
        reason: "bench".to_owned(),
        canary: None,
        allow_rule: None,
        plan: Plan {
            exec: Some(Exec::Direct {
                program: program.to_owned(),
                argv: vec!["true".to_owned()],
            }),
            ..Plan::default()
        },
    };
    let task = TaskSpec::Command {
        command: "true".to_owned(),
        cwd: None,
    };
    let env = SandboxEnv {
        home: home.to_owned(),
        search: policy.search_path(&openclaw_worker::policy::CheckEnv {
            home: home.to_owned(),
            default_cwd: home.to_owned(),
            path: Vec::new(),
        }),
        tmp_base: std::env::temp_dir(),
        claude_dir: None,
        agent_dirs: std::collections::BTreeMap::new(),
        platform: Platform::CURRENT,
    };
    sandbox::derive(&policy, &task, &decision, TaskId::new(), &env)
        .context("the default policy gives no sandbox")
}

/// One spawn and reap, as the executor does it (temp dir included when confined).
async fn spawn_once(program: &Path, spec: Option<&SandboxSpec>) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let _tmpdir = spec.map(TaskTempDir::create).transpose()?;
    let mut cmd = sandbox::command(spec, program, Some("true"), &[] as &[&str])?;
    cmd.env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let status = sandbox::spawn(&mut cmd, spec)?.wait().await?;
    if !status.success() {
        bail!("{} failed in the sandbox: {status}", program.display());
    }
    Ok(start.elapsed())
}
