//! A door's leave to create a task now: the creation rate of the token that asked, handed by
//! the adapter that keeps the rate (the HTTP API's limiter, which checks the token) to a door
//! that creates tasks later in the same request (an MCP tool call). The core stays free of
//! both: it only carries the check.

use std::fmt;
use std::sync::Arc;

/// Checks the asking token's creation rate (`rate_limit.creates_per_sec`) once per task.
#[derive(Clone)]
pub struct CreateAdmission {
    check: Arc<dyn Fn() -> Result<(), RetryAfter> + Send + Sync>,
}

/// Refused for now: whole seconds until a create can succeed (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

impl CreateAdmission {
    /// An admission that runs `check` for each task.
    pub fn new(check: impl Fn() -> Result<(), RetryAfter> + Send + Sync + 'static) -> Self {
        CreateAdmission {
            check: Arc::new(check),
        }
    }

    /// Takes one create from the token's budget, or says when to retry.
    pub fn admit(&self) -> Result<(), RetryAfter> {
        (self.check)()
    }
}

impl fmt::Debug for CreateAdmission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateAdmission").finish_non_exhaustive()
    }
}
