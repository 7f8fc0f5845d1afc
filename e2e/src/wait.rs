//! The per-test time limit, and polling for conditions no event announces.

use std::future::Future;
use std::time::Duration;

/// Longest any single test may take before it fails instead of hanging CI.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Awaits `fut`, failing the test if it takes longer than [`TEST_TIMEOUT`].
pub async fn within_limit<T>(fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_TIMEOUT, fut)
        .await
        .expect("test took too long")
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
