//! Helpers for the tests that run both processes: the library's worker-binary harness
//! (re-exported), the real bot in-process ([`bot`]), the stacks most tests start from,
//! the attack lab ([`lab`]) and Discord through the protocol fake ([`discord`]).

mod bot;
mod browser;
mod discord;
mod lab;
mod mcp;

pub use bot::*;
pub use browser::*;
pub use discord::*;
pub use lab::*;
pub use mcp::*;
pub use openclaw_e2e::*;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// `TEST_LOG=1` shows the bot's logs (the worker's are echoed by [`WorkerProcess`]).
static LOGS: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        openclaw_bot::telemetry::init("debug");
    }
});

/// Turns on the bot's logs when `TEST_LOG` is set.
pub fn init_logs() {
    LazyLock::force(&LOGS);
}

/// A loopback address with a free port, for a bot that need not come back on the same one.
pub fn any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
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
    let bot = TestBot::start(&dirs.data, any_port()).await;
    (dirs, bot)
}

/// A fake `claude` in `dir` that prints the screenshot marker with its last argument (the
/// prompt) as the path, as a prompt-injected Claude would. Returns its path.
pub fn screenshot_claude(dir: &Path) -> PathBuf {
    let claude = dir.join("claude");
    write_script(
        &claude,
        "#!/bin/sh\nfor last; do :; done\necho \"PLEASE_UPLOAD_TO_DISCORD: $last\"\n",
    );
    claude
}
