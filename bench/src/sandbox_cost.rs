//! What the kernel sandbox costs per task: `/bin/true` spawned and reaped plain and confined
//! (the allowed and the approved profile, derived from the default policy for the bench's
//! home), interleaved so that load on the machine hits all three alike.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use openclaw_shared::{TaskId, TaskSpec};
use openclaw_worker::policy::{Decision, Exec, Plan, Policy, Verdict};
use openclaw_worker::sandbox::spec::Platform;
use openclaw_worker::sandbox::{self, SandboxEnv, SandboxSpec, SandboxStatus, TaskTempDir};

use crate::measure::Percentiles;

/// Spawn→exit times of the three kinds.
pub struct SandboxCost {
    /// What the kernel offers (the bench says so when it cannot confine).
    pub status: SandboxStatus,
    pub plain: Percentiles,
    pub allowed: Option<Percentiles>,
    pub approved: Option<Percentiles>,
}

/// Measures `samples` spawns of each kind, with `home` as the home directory.
pub async fn measure(home: &Path, samples: usize) -> anyhow::Result<SandboxCost> {
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
    let (mut plain, mut allowed, mut approved) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..samples {
        plain.push(spawn_once(program, None).await?);
        if let Some((allow, approve)) = &specs {
            allowed.push(spawn_once(program, Some(allow)).await?);
            approved.push(spawn_once(program, Some(approve)).await?);
        }
    }
    Ok(SandboxCost {
        status,
        plain: Percentiles::of(plain).context("no samples")?,
        allowed: Percentiles::of(allowed),
        approved: Percentiles::of(approved),
    })
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
