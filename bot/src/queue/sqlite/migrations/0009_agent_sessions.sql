-- Agent sessions (Claude's and the worker-configured agents'): each owner's sessions by
-- their latest task, for `GET /claude/recent` and Discord's `/sessions`. Written with the
-- task that names the session, in the same transaction. Kept past the task's pruning (the
-- conversation lives on in the CLI on the Mac) until the session's latest task itself is
-- past the retention. `IF NOT EXISTS`: tests replay older migrations on a database that has it.
CREATE TABLE IF NOT EXISTS agent_sessions (
    owner       TEXT    NOT NULL,
    agent       TEXT    NOT NULL,
    session_id  TEXT    NOT NULL,
    -- The latest task in the session, and the start of its prompt.
    last_task   TEXT    NOT NULL,
    last_prompt TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (owner, agent, session_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS agent_sessions_recent ON agent_sessions (owner, updated_at);
-- Whose a session is: a task may not continue another owner's.
CREATE INDEX IF NOT EXISTS agent_sessions_by_id ON agent_sessions (agent, session_id);

-- Discord: the session a user's `/claude` (or `/agent`) continues by default in a channel.
-- Survives restarts; replaced by `new:true`, a `session:` option or `/sessions resume:`.
CREATE TABLE IF NOT EXISTS channel_sessions (
    channel_id  TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    agent       TEXT    NOT NULL,
    session_id  TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (channel_id, owner, agent)
) WITHOUT ROWID;
