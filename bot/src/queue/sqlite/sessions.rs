//! [`SessionStore`] on SQLite: agent sessions by owner, and channel bindings. A session's
//! row is written by `insert` (`record_session`), in the task's own transaction.

use openclaw_shared::{EpochMillis, TaskId, TaskSpec};
use rusqlite::{params, Connection, OptionalExtension};

use super::rows::{from_i64, parse_id, to_i64};
use super::SqliteStore;
use crate::queue::sessions::{prompt_excerpt, ChannelBinding, SessionBrief};
use crate::queue::store::{SessionStore, StoreError};
use crate::queue::task::Scope;

/// Records the session `spec` names, if any, as `owner`'s with task `id` its latest, at
/// `now`. Part of the task's insert: a session is listed exactly when a task in it exists.
pub(super) fn record_session(
    tx: &Connection,
    id: TaskId,
    spec: &TaskSpec,
    owner: Option<&str>,
    now: EpochMillis,
) -> Result<(), StoreError> {
    let (Some(session), Some(agent)) = (spec.session(), spec.agent()) else {
        return Ok(());
    };
    let prompt = match spec {
        TaskSpec::Claude { prompt, .. } | TaskSpec::Agent { prompt, .. } => prompt.as_str(),
        _ => "",
    };
    tx.prepare_cached(
        "INSERT INTO agent_sessions (owner, agent, session_id, last_task, last_prompt, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (owner, agent, session_id) DO UPDATE SET \
         last_task = excluded.last_task, last_prompt = excluded.last_prompt, \
         updated_at = excluded.updated_at",
    )?
    .execute(params![
        owner.unwrap_or(""),
        agent,
        session.id,
        id.to_string(),
        prompt_excerpt(prompt),
        to_i64(now),
    ])?;
    Ok(())
}

/// Whether the session `spec` names is another owner's: one their tasks ran in.
pub(super) fn session_of_another(
    tx: &Connection,
    spec: &TaskSpec,
    owner: Option<&str>,
) -> Result<bool, StoreError> {
    let (Some(session), Some(agent)) = (spec.session(), spec.agent()) else {
        return Ok(false);
    };
    Ok(tx
        .prepare_cached(
            "SELECT 1 FROM agent_sessions WHERE agent = ?1 AND session_id = ?2 \
             AND owner <> ?3 LIMIT 1",
        )?
        .query_row(params![agent, session.id, owner.unwrap_or("")], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Whether `spec`, which continues a session, must start it instead: the session is
/// `owner`'s, and its latest task was the one to start it but never ran (denied, expired, or
/// cancelled before it started). The CLI then has no such session, and `--resume` would
/// fail; the conversation starts again under the same id.
pub(super) fn starts_again(
    tx: &Connection,
    spec: &TaskSpec,
    owner: Option<&str>,
) -> Result<bool, StoreError> {
    let (Some(session), Some(agent)) = (spec.session(), spec.agent()) else {
        return Ok(false);
    };
    if session.new {
        return Ok(false);
    }
    let never_ran: Option<bool> = tx
        .prepare_cached(
            "SELECT json_extract(t.spec, '$.session.new') = 1 AND (t.status IN ('denied', \
             'expired') OR (t.status = 'cancelled' AND t.started_at IS NULL)) \
             FROM agent_sessions s JOIN tasks t ON t.id = s.last_task \
             WHERE s.owner = ?1 AND s.agent = ?2 AND s.session_id = ?3",
        )?
        .query_row(params![owner.unwrap_or(""), agent, session.id], |row| {
            row.get::<_, Option<bool>>(0)
        })
        .optional()?
        .flatten();
    Ok(never_ran == Some(true))
}

impl SessionStore for SqliteStore {
    fn recent_sessions(
        &self,
        scope: &Scope,
        agent: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SessionBrief>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT s.owner, s.agent, s.session_id, s.last_task, s.last_prompt, s.updated_at, \
             COALESCE(t.worker, t.target_worker) \
             FROM agent_sessions s LEFT JOIN tasks t ON t.id = s.last_task \
             WHERE (?1 IS NULL OR s.owner = ?1) AND (?2 IS NULL OR s.agent = ?2) \
             ORDER BY s.updated_at DESC LIMIT ?3",
        )?;
        let rows = stmt.query_map(
            params![
                scope.owner(),
                agent,
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, i64>(5)?,
                    row.get::<_, Option<String>>(6)?,
                ))
            },
        )?;
        let mut sessions = Vec::new();
        for row in rows {
            let (owner, agent, session_id, last_task, last_prompt, updated_at, worker) = row?;
            sessions.push(SessionBrief {
                session_id,
                agent,
                owner,
                last_task: parse_id(&last_task)?,
                last_prompt,
                updated_at: from_i64(updated_at),
                worker,
            });
        }
        Ok(sessions)
    }

    fn bind_channel(&self, binding: &ChannelBinding, now: EpochMillis) -> Result<(), StoreError> {
        self.conn()
            .prepare_cached(
                "INSERT INTO channel_sessions (channel_id, owner, agent, session_id, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (channel_id, owner, agent) DO UPDATE SET \
                 session_id = excluded.session_id, updated_at = excluded.updated_at",
            )?
            .execute(params![
                binding.channel_id,
                binding.owner,
                binding.agent,
                binding.session_id,
                to_i64(now),
            ])?;
        Ok(())
    }

    fn channel_session(
        &self,
        channel_id: &str,
        owner: &str,
        agent: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT session_id FROM channel_sessions \
                 WHERE channel_id = ?1 AND owner = ?2 AND agent = ?3",
            )?
            .query_row(params![channel_id, owner, agent], |row| row.get(0))
            .optional()?)
    }
}
