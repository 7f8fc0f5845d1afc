//! The harness for tests that run the real `openclaw-worker` binary: the binary found
//! beside the test binary, a home set up by its own `init`, the process with its logs,
//! and the small helpers every such test needs (timeouts, polling, scripts, process probes).
//!
//! This library needs neither the bot nor the worker's library, so the worker's own
//! process-level tests (against a fake server) use it without depending on the bot. The
//! tests that run the real bot and the real worker together are this crate's integration
//! tests (`tests/it`); the real bot's harness (`TestBot`) lives there, as only they need it.
//!
//! # Layout
//! - [`binary`]: where the worker binary under test is, and a check that it is current.
//! - [`home`]: [`E2eDirs`], the temp dirs and the worker's home, and its local commands.
//! - [`process`]: [`WorkerProcess`], the worker running against a server.
//! - [`probe`]: finding a task's processes in the process table.
//! - [`script`]: [`write_script`], executable scripts a test's tasks run.
//! - [`wait`]: the per-test time limit and polling for conditions with no event.

// A harness fails the test that called it, so unwrapping is how it reports a broken step.
#![allow(
    clippy::unwrap_used,
    reason = "test support: a failed step panics, failing the test that asked for it"
)]

pub mod binary;
pub mod home;
pub mod probe;
pub mod process;
pub mod script;
pub mod wait;

pub use binary::{bot_bin, worker_bin};
pub use home::{now_secs, CliRun, E2eDirs, OPEN_POLICY};
pub use probe::{process_running, unique_sleep};
pub use process::WorkerProcess;
pub use script::write_script;
pub use wait::{wait_for, within_limit, TEST_TIMEOUT};

/// The client token the tests' bot accepts (32+ characters, distinct per role).
pub const CLIENT_TOKEN: &str = "oc_client_e2e_0123456789abcdefghijklmnop";
/// The worker token the tests' bot accepts and [`WorkerProcess`] presents.
pub const WORKER_TOKEN: &str = "oc_worker_e2e_0123456789abcdefghijklmnop";
/// The admin token the tests' bot accepts.
pub const ADMIN_TOKEN: &str = "oc_admin_e2e_0123456789abcdefghijklmnopq";
