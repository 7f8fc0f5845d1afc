//! Live output around a task's execution: the sender started beside the process and
//! awaited (its last piece) before the result is made; what it sent counts in the audit
//! entry.

use std::sync::Arc;

use openclaw_shared::worker::ClaimedTask;
use openclaw_shared::TaskSpec;
use tokio_util::sync::CancellationToken;

use super::TaskRuntime;
use crate::live::{send_live_output, LiveTask};
use crate::spool::TaskSpool;

/// The metadata key for the bytes of live output the server took while the task ran.
pub const LIVE_BYTES_KEY: &str = "liveOutputBytes";

/// Starts sending the task's live output, when it is on and the task runs a process under
/// a supervisor (whose live files it reads) until `ended` fires.
pub fn start(
    rt: &Arc<TaskRuntime>,
    task: &ClaimedTask,
    spooled: Option<&TaskSpool>,
    ended: &CancellationToken,
) -> Option<tokio::task::JoinHandle<u64>> {
    let runs_a_process = matches!(
        task.spec,
        TaskSpec::Command { .. } | TaskSpec::Claude { .. }
    );
    let interval = rt.live_interval?;
    let spool = spooled?.clone();
    if !runs_a_process || rt.exec.supervisor.is_none() {
        return None;
    }
    let live = LiveTask {
        client: rt.client.clone(),
        worker: rt.name.clone(),
        id: task.id,
        lease: task.lease,
        redactor: rt.guard.redactor(),
        interval,
    };
    let ended = ended.clone();
    Some(tokio::spawn(async move {
        send_live_output(live, &spool, ended).await
    }))
}
