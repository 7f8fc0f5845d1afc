//! Starting and stopping the bot and worker binaries, and reading their memory use.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use tokio::process::{Child, Command};

/// Tokens the bench gives the bot; long random-looking strings so the bot accepts them.
pub const CLIENT_TOKEN: &str = "oc_client_bench_7d9f0c2e4b6a8d1f3e5c7b9a0d2f4e6c";
pub const WORKER_TOKEN: &str = "oc_worker_bench_1a3c5e7f9b0d2f4a6c8e0b1d3f5a7c9e";
pub const ADMIN_TOKEN: &str = "oc_admin_bench_5b7d9f1a3c5e7f9b0d2f4a6c8e0b1d3f";

/// Where the two binaries are.
pub struct Binaries {
    pub bot: PathBuf,
    pub worker: PathBuf,
}

impl Binaries {
    /// Finds the binaries next to this one, building them first (same profile) unless told not to.
    pub fn locate(build: bool) -> anyhow::Result<Binaries> {
        let me = std::env::current_exe().context("locating the bench binary")?;
        let dir = me.parent().context("bench binary has no directory")?;
        if build {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut command = std::process::Command::new(cargo);
            command.args(["build", "-p", "openclaw-bot", "-p", "openclaw-worker"]);
            if dir.ends_with("release") {
                command.arg("--release");
            }
            let status = command.status().context("running cargo build")?;
            if !status.success() {
                bail!("cargo build of the bot and worker failed");
            }
        }
        let binaries = Binaries {
            bot: dir.join("openclaw-bot"),
            worker: dir.join("openclaw-worker"),
        };
        for path in [&binaries.bot, &binaries.worker] {
            if !path.exists() {
                bail!("{} not found; build it or drop --no-build", path.display());
            }
        }
        Ok(binaries)
    }
}

/// A free loopback port (bound, read, released).
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// Starts the bot on `port` with its data in `data_dir`, and waits until `/health` answers.
pub async fn start_bot(bin: &Path, data_dir: &Path, port: u16) -> anyhow::Result<Child> {
    start_bot_with(bin, data_dir, port, &[]).await
}

/// [`start_bot`] with `env` set on top (e.g. `OPENCLAW_STORAGE__SYNCHRONOUS`).
pub async fn start_bot_with(
    bin: &Path,
    data_dir: &Path,
    port: u16,
    env: &[(&str, &str)],
) -> anyhow::Result<Child> {
    let log = std::fs::File::create(data_dir.join("bot.log"))?;
    let child = Command::new(bin)
        .env_clear()
        .envs(env.iter().copied())
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("OPENCLAW_HTTP__BIND", format!("127.0.0.1:{port}"))
        .env("OPENCLAW_STORAGE__DATA_DIR", data_dir)
        .env("OPENCLAW_AUTH__CLIENT_TOKEN", CLIENT_TOKEN)
        .env("OPENCLAW_AUTH__WORKER_TOKEN", WORKER_TOKEN)
        .env("OPENCLAW_AUTH__ADMIN_TOKEN", ADMIN_TOKEN)
        .current_dir(data_dir)
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/health");
    for _ in 0..200 {
        if let Ok(response) = client.get(&url).send().await {
            if response.status().is_success() {
                return Ok(child);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!(
        "bot did not answer /health within 10 s; see {}",
        data_dir.join("bot.log").display()
    )
}

/// The policy the bench's workers run under: exactly the programs the bench submits run
/// without approval (the default policy would hold `true` for the owner's approval).
const BENCH_POLICY: &str = r#"
[commands]
allow = [{ program = "true" }]
"#;

/// Prepares a home for worker `name` the way an owner would (`openclaw-worker init`), with
/// [`BENCH_POLICY`] in place of the starter policy. Returns the home.
pub fn init_worker_home(bin: &Path, work_dir: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let home = work_dir.join(format!("home-{name}"));
    std::fs::create_dir_all(&home)?;
    let output = std::process::Command::new(bin)
        .args(["init", "--name", name])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", &home)
        .current_dir(&home)
        .output()
        .context("running openclaw-worker init")?;
    if !output.status.success() {
        bail!(
            "openclaw-worker init failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    std::fs::write(
        home.join(".config/openclaw-worker/policy.toml"),
        BENCH_POLICY,
    )
    .context("writing the bench policy")?;
    Ok(home)
}

/// Starts a worker named `name` that talks to `url`, from a home made by
/// [`init_worker_home`].
pub fn start_worker(
    bin: &Path,
    home: &Path,
    url: &str,
    name: &str,
    slots: usize,
) -> anyhow::Result<Child> {
    start_worker_with(bin, home, url, name, slots, &[])
}

/// [`start_worker`] with `env` added to its environment (a preloaded library, say).
pub fn start_worker_with(
    bin: &Path,
    home: &Path,
    url: &str,
    name: &str,
    slots: usize,
    env: &[(&str, String)],
) -> anyhow::Result<Child> {
    let log = std::fs::File::create(home.join("worker.log"))?;
    Command::new(bin)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("RUST_LOG", "warn")
        .env("WORKER_URL", url)
        .env("WORKER_TOKEN", WORKER_TOKEN)
        .env("WORKER_NAME", name)
        .env("MAX_CONCURRENT", slots.to_string())
        .envs(env.iter().map(|(key, value)| (*key, value.as_str())))
        .current_dir(home)
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))
}

/// Resident set size of a process, in KiB (Linux `/proc`).
pub fn rss_kib(child: &Child) -> anyhow::Result<u64> {
    let pid = child.id().context("process already exited")?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .context("reading /proc (the memory figures need Linux)")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS line in /proc/PID/status")
}

/// CPU time a process has used so far, user and system (Linux `/proc`, in the kernel's
/// 100 Hz clock ticks).
pub fn cpu_time(child: &Child) -> anyhow::Result<Duration> {
    let pid = child.id().context("process already exited")?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .context("reading /proc (the CPU figures need Linux)")?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |index: usize| -> anyhow::Result<u64> {
        fields
            .get(index)
            .and_then(|field| field.parse().ok())
            .context("no CPU times in /proc/PID/stat")
    };
    // utime and stime are fields 14 and 15; 12 and 13 here, counted after the name.
    Ok(Duration::from_millis((ticks(11)? + ticks(12)?) * 10))
}
