//! The tails of running tasks' live output, in memory only (bounded per task and in total)
//! and dropped soon after the task ends: the final result, stored as before, is what lasts.
//! A piece is placed by its byte offset in the task's live text, so one sent again (its
//! answer lost) adds nothing, and one after a gap (the bot restarted, or the worker skipped
//! text it could not keep up with) starts the tail afresh at its offset. Who may add a
//! piece is the queue's check (`live`).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use openclaw_shared::TaskId;
use tokio::sync::watch;
use tokio::time::Instant;

/// How long an ended task's tail stays, so a follower reads the last piece before the
/// end; then it goes (or sooner, when room is needed).
pub const ENDED_TAIL_GRACE: Duration = Duration::from_secs(30);
/// How long a tail nobody wrote to stays (one made by a follower of a task that ended just
/// then, or of a task that prints nothing): its followers then watch anew.
const IDLE_TAIL_TTL: Duration = Duration::from_secs(60 * 60);

/// How much live output the bot keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveSettings {
    /// Bytes of each task's tail kept (the newest).
    pub tail_bytes: usize,
    /// Bytes kept for all tasks together: room for this many / `tail_bytes` tasks, the
    /// least recently updated making way for a new one.
    pub total_bytes: usize,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            tail_bytes: 64 * 1024,
            total_bytes: 16 * 1024 * 1024,
        }
    }
}

/// What the bot holds of a task's live text from some offset on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSlice {
    /// Where `text` starts in the live text, in bytes.
    pub start: u64,
    /// Where the live text ends.
    pub end: u64,
    /// The text from `start` to `end`.
    pub text: String,
}

/// The tails of the tasks with live output.
#[derive(Debug)]
pub(super) struct LiveOutputs {
    settings: LiveSettings,
    /// A std mutex: held only to copy text in or out, never across an `.await`.
    tails: Mutex<HashMap<TaskId, Tail>>,
}

#[derive(Debug)]
struct Tail {
    /// The newest `tail_bytes` of the live text.
    text: String,
    /// Where `text` starts in the live text.
    start: u64,
    /// Tells followers where the text ends now; closed when the tail is dropped.
    changed: watch::Sender<u64>,
    /// When it was last written (the least recent makes way first).
    touched: Instant,
    /// When its task ended.
    ended: Option<Instant>,
}

impl Tail {
    fn end(&self) -> u64 {
        self.start + self.text.len() as u64
    }
}

impl LiveOutputs {
    pub(super) fn new(settings: LiveSettings) -> Self {
        Self {
            settings,
            tails: Mutex::new(HashMap::new()),
        }
    }

    fn max_tasks(&self) -> usize {
        (self.settings.total_bytes / self.settings.tail_bytes.max(1)).max(1)
    }

    /// The task's tail, made (room made first) when it has none.
    fn tail<'a>(&self, tails: &'a mut HashMap<TaskId, Tail>, id: TaskId) -> &'a mut Tail {
        let now = Instant::now();
        tails.retain(|_, tail| match tail.ended {
            Some(ended) => now - ended < ENDED_TAIL_GRACE,
            None => now - tail.touched < IDLE_TAIL_TTL,
        });
        if !tails.contains_key(&id) {
            while tails.len() >= self.max_tasks() {
                let oldest = tails
                    .iter()
                    .min_by_key(|(_, tail)| (tail.ended.is_none(), tail.touched))
                    .map(|(id, _)| *id);
                match oldest {
                    Some(oldest) => tails.remove(&oldest),
                    None => break,
                };
            }
        }
        tails.entry(id).or_insert_with(|| Tail {
            text: String::new(),
            start: 0,
            changed: watch::Sender::new(0),
            touched: now,
            ended: None,
        })
    }

    /// Places `text` at `offset` in the task's live text; returns where the text ends now.
    pub(super) fn append(&self, id: TaskId, offset: u64, text: &str) -> u64 {
        let mut tails = self.tails.lock().unwrap_or_else(PoisonError::into_inner);
        let tail = self.tail(&mut tails, id);
        let end = tail.end();
        let new = if offset > end {
            // A gap: what came between is not here to show.
            tail.text.clear();
            tail.start = offset;
            text
        } else {
            let seen = usize::try_from(end - offset).unwrap_or(usize::MAX);
            let mut from = seen.min(text.len());
            while !text.is_char_boundary(from) {
                from += 1;
            }
            &text[from..]
        };
        if new.is_empty() {
            return tail.end();
        }
        tail.text.push_str(new);
        if tail.text.len() > self.settings.tail_bytes {
            let mut cut = tail.text.len() - self.settings.tail_bytes;
            while !tail.text.is_char_boundary(cut) {
                cut += 1;
            }
            tail.text.drain(..cut);
            tail.start += cut as u64;
        }
        tail.touched = Instant::now();
        let end = tail.end();
        tail.changed.send_replace(end);
        end
    }

    pub(super) fn slice(&self, id: TaskId, from: u64) -> Option<LiveSlice> {
        let tails = self.tails.lock().unwrap_or_else(PoisonError::into_inner);
        let tail = tails.get(&id)?;
        let from = from.clamp(tail.start, tail.end());
        let mut at = usize::try_from(from - tail.start).unwrap_or(0);
        while !tail.text.is_char_boundary(at) {
            at += 1;
        }
        Some(LiveSlice {
            start: tail.start + at as u64,
            end: tail.end(),
            text: tail.text[at..].to_owned(),
        })
    }

    pub(super) fn watch(&self, id: TaskId) -> watch::Receiver<u64> {
        let mut tails = self.tails.lock().unwrap_or_else(PoisonError::into_inner);
        self.tail(&mut tails, id).changed.subscribe()
    }

    /// Marks the task's tail ended (followers are told); it goes after a grace.
    pub(super) fn end(&self, id: TaskId) {
        let mut tails = self.tails.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(tail) = tails.get_mut(&id) {
            tail.ended = Some(Instant::now());
            tail.changed.send_modify(|_| {});
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.tails
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs(tail_bytes: usize, total_bytes: usize) -> LiveOutputs {
        LiveOutputs::new(LiveSettings {
            tail_bytes,
            total_bytes,
        })
    }

    #[test]
    fn a_piece_sent_again_adds_nothing_and_an_overlapping_one_adds_only_what_is_new() {
        let live = outputs(1024, 4096);
        let id = TaskId::new();

        assert_eq!(live.append(id, 0, "one\n"), 4);
        assert_eq!(live.append(id, 0, "one\n"), 4);
        assert_eq!(live.append(id, 0, "one\ntwo\n"), 8);

        assert_eq!(live.slice(id, 0).unwrap().text, "one\ntwo\n");
        assert_eq!(live.slice(id, 4).unwrap().text, "two\n");
    }

    #[test]
    fn the_tail_is_bounded_and_a_gap_starts_it_afresh() {
        let live = outputs(8, 4096);
        let id = TaskId::new();

        live.append(id, 0, "0123456789abcdef");
        let kept = live.slice(id, 0).unwrap();
        assert_eq!(
            (kept.start, kept.end, kept.text.as_str()),
            (8, 16, "89abcdef")
        );

        live.append(id, 100, "new");
        let kept = live.slice(id, 0).unwrap();
        assert_eq!(
            (kept.start, kept.end, kept.text.as_str()),
            (100, 103, "new")
        );
    }

    #[test]
    fn the_total_bound_makes_the_least_recent_task_give_way() {
        let live = outputs(8, 16);
        let (a, b, c) = (TaskId::new(), TaskId::new(), TaskId::new());

        live.append(a, 0, "a");
        live.append(b, 0, "b");
        live.append(c, 0, "c");

        assert_eq!(live.len(), 2);
        assert!(live.slice(a, 0).is_none());
    }

    #[tokio::test]
    async fn followers_hear_of_growth_and_of_the_end() {
        let live = outputs(1024, 4096);
        let id = TaskId::new();
        let mut watching = live.watch(id);

        live.append(id, 0, "x");
        watching.changed().await.unwrap();
        assert_eq!(*watching.borrow_and_update(), 1);
        live.end(id);

        watching.changed().await.unwrap();
    }
}
