//! How the worker cut a long stream to its head and tail, read from the result's metadata
//! (`stdoutOmitted` / `stderrOmitted`), for a note that says truthfully what was kept.

use openclaw_shared::TaskOutcome;

/// How the worker cut a long stream (`metadata.stdoutOmitted` / `stderrOmitted`), in the
/// stream's own bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kept {
    /// Bytes of its start kept.
    pub head: u64,
    /// Bytes left out between head and tail.
    pub omitted: u64,
    /// Bytes of its end kept.
    pub tail: u64,
}

impl Kept {
    /// How long the stream was.
    pub fn total(&self) -> u64 {
        self.head
            .saturating_add(self.omitted)
            .saturating_add(self.tail)
    }
}

/// How the worker cut `stream` (`stdout` or `stderr`), if it did.
pub fn omission(outcome: &TaskOutcome, stream: &str) -> Option<Kept> {
    let value = outcome.metadata.get(&format!("{stream}Omitted"))?;
    let field = |name: &str| value.get(name).and_then(serde_json::Value::as_u64);
    Some(Kept {
        head: field("headBytes")?,
        omitted: field("omittedBytes")?,
        tail: field("tailBytes")?,
    })
}
