//! Shared test helpers: executor context over a temp dir, claimed tasks, process probes,
//! and for end-to-end tests the real bot in-process ([`bot`]) plus the real worker binary
//! in a home of its own ([`worker`]), or a scripted fake server ([`fake_server`]).

mod bot;
mod fake_server;
mod worker;

pub use bot::*;
pub use fake_server::*;
pub use worker::*;

use std::future::Future;
use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration;

use openclaw_shared::worker::ClaimedTask;
use openclaw_shared::{LeaseId, TaskId, TaskOutcome, TaskSpec};
use openclaw_worker::exec::{self, ExecContext};
use openclaw_worker::pipeline::denied;
use openclaw_worker::policy::{check, CheckEnv, Plan, Policy};
use openclaw_worker::Config;
use tokio_util::sync::CancellationToken;

/// Longest any single test may take before it fails instead of hanging CI.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(120);

static LOGS: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        openclaw_worker::telemetry::init("debug");
    }
});

/// Turns on logs when `TEST_LOG` is set.
pub fn init_logs() {
    LazyLock::force(&LOGS);
}

/// Awaits `fut`, failing the test if it takes longer than [`TEST_TIMEOUT`].
pub async fn within_limit<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_TIMEOUT, fut)
        .await
        .expect("test took too long")
}

/// Executor context whose default directory is `dir`, with a short kill grace.
pub fn exec_ctx(dir: &Path) -> ExecContext {
    init_logs();
    let mut ctx = ExecContext::from_config(&Config::default());
    ctx.shell = vec!["/bin/sh".into(), "-c".into()];
    ctx.default_cwd = dir.to_owned();
    ctx.limits.kill_grace = Duration::from_secs(1);
    ctx
}

/// The plan the default policy makes of `spec`, with `~` and relative paths meaning the
/// context's default directory. The executor tests run plans whatever the verdict: they
/// test execution; the verdicts are tested end to end and in the policy's unit tests.
pub fn plan_for(ctx: &ExecContext, spec: &TaskSpec) -> Plan {
    let env = CheckEnv {
        home: ctx.default_cwd.clone(),
        default_cwd: ctx.default_cwd.clone(),
        path: std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect(),
    };
    check(&Policy::default(), spec, &env).plan
}

/// A task as the server would hand it out.
pub fn claimed(spec: TaskSpec, timeout_ms: u64) -> ClaimedTask {
    ClaimedTask {
        id: TaskId::new(),
        lease: LeaseId::new(),
        spec,
        timeout_ms,
        lease_ttl_ms: 60_000,
        offer_ttl_ms: 10_000,
        created_at: 0,
    }
}

/// Runs `spec`, as planned by [`plan_for`], through the real executor seam. A spec the
/// check could not plan at all (e.g. undecodable content) is refused as the pipeline
/// would, without running anything.
pub async fn run(ctx: &ExecContext, spec: TaskSpec, timeout_ms: u64) -> TaskOutcome {
    let task = claimed(spec, timeout_ms);
    let plan = plan_for(ctx, &task.spec);
    if plan == Plan::default() {
        return denied("the policy could not plan this task");
    }
    within_limit(exec::execute(ctx, &task, &plan, CancellationToken::new())).await
}

/// A shell command task.
pub fn command(command: &str) -> TaskSpec {
    TaskSpec::Command {
        command: command.into(),
        cwd: None,
    }
}

/// A `sleep` duration no other process on the machine uses, so `pgrep -f` finds only ours.
pub fn unique_sleep() -> String {
    format!("31.{}{:06}", std::process::id(), fastrand::u32(..1_000_000))
}

/// Whether any live process has `marker` in its command line.
pub fn process_running(marker: &str) -> bool {
    let status = std::process::Command::new("pgrep")
        .args(["-f", marker])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("pgrep must be installed for these tests");
    status.success()
}

/// Writes an executable script. The file is written by a child shell, so no descriptor
/// to it ever exists in this (multi-threaded, forking) test process, which would make
/// exec fail with "Text file busy".
pub fn write_script(path: &Path, body: &str) {
    let status = std::process::Command::new("/bin/sh")
        .args([
            "-c",
            "printf '%s' \"$1\" > \"$2\" && chmod 755 \"$2\"",
            "sh",
        ])
        .arg(body)
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

/// A fresh home initialised by the real `openclaw-worker init` with `policy` (empty: the
/// starter policy init writes; `{home}` in it stands for the home's path), and the real
/// bot on a free loopback port: the stack every end-to-end test starts from (the worker is
/// spawned by the test, which chooses when and with what environment).
pub async fn start_stack(policy: &str) -> (E2eDirs, TestBot) {
    start_stack_in(E2eDirs::new(), policy).await
}

/// [`start_stack`] under [`OPEN_POLICY`], whose roots are the whole home: the worker's own
/// files are kept beside the home ([`E2eDirs::worker_outside_home`]).
pub async fn start_open_stack() -> (E2eDirs, TestBot) {
    start_stack_in(E2eDirs::worker_outside_home(), OPEN_POLICY).await
}

async fn start_stack_in(dirs: E2eDirs, policy: &str) -> (E2eDirs, TestBot) {
    if policy.is_empty() {
        dirs.init_worker_starter();
    } else {
        dirs.init_worker(&policy.replace("{home}", &dirs.home.display().to_string()));
    }
    let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    let bot = TestBot::start(&dirs.data, any).await;
    (dirs, bot)
}

/// A fake `claude` in `dir` that prints the screenshot marker with its last argument (the
/// prompt) as the path, as a prompt-injected Claude would. Returns its path.
pub fn screenshot_claude(dir: &Path) -> std::path::PathBuf {
    let claude = dir.join("claude");
    write_script(
        &claude,
        "#!/bin/sh\nfor last; do :; done\necho \"PLEASE_UPLOAD_TO_DISCORD: $last\"\n",
    );
    claude
}

/// Polls `cond` until it holds (within the test limit). For conditions with no event to
/// wait on, such as a file a child process creates.
pub async fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let polling = async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(TEST_TIMEOUT, polling)
        .await
        .unwrap_or_else(|_| panic!("gave up waiting for {what}"));
}
