//! `claude` tasks: the Claude Code CLI spawned directly with an argv list. The prompt is
//! one argument after `--`, never part of a shell string, so `$(…)` in a prompt is text.

use std::path::Path;
use std::time::Duration;

use openclaw_shared::task::{is_valid_session_id, AgentSession, SESSION_ID_RULE};
use openclaw_shared::TaskOutcome;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::ExecContext;
use crate::policy::Plan;
use crate::spool::TaskSpool;

/// A line starting with this in Claude's output names a file for the Discord side to
/// upload (`metadata.screenshotPath`), as in the original.
pub const SCREENSHOT_MARKER: &str = "PLEASE_UPLOAD_TO_DISCORD:";

/// One Claude run.
#[derive(Debug, Clone, Copy)]
pub struct ClaudeRun<'a> {
    /// The prompt, passed to the CLI as one argument.
    pub prompt: &'a str,
    /// The CLI session: started with `--session-id <id>` when new, else `--resume <id>`.
    pub session: Option<&'a AgentSession>,
}

/// Runs the CLI in print mode and reports its output, with `sessionId` and
/// `screenshotPath` in the metadata when they apply; under a supervisor when the task is
/// spooled.
pub async fn run(
    ctx: &ExecContext,
    plan: &Plan,
    run: ClaudeRun<'_>,
    timeout: Duration,
    cancel: &CancellationToken,
    spool: Option<&TaskSpool>,
) -> TaskOutcome {
    let args = match claude_args(ctx, run) {
        Ok(args) => args,
        Err(message) => return TaskOutcome::failure(message),
    };
    let dir = match ctx.working_dir(plan.cwd.as_deref()) {
        Ok(dir) => dir,
        Err(message) => return TaskOutcome::failure(message),
    };
    let what = format!("claude ({})", ctx.claude_bin);
    let program = Path::new(&ctx.claude_bin);
    let job = match ctx.job(plan, program, None, &args, dir, what, timeout) {
        Ok(job) => job,
        Err(message) => return TaskOutcome::failure(format!("{message}; nothing ran")),
    };
    let mut outcome = ctx.run_job(&job, spool, cancel).await.into_outcome(
        &job.what,
        timeout,
        ctx.redactor.as_deref(),
    );
    annotate(&mut outcome, run.session);
    outcome
}

/// Adds what a Claude run's outcome carries besides its output: `sessionId` (and
/// `sessionNew`: whether this run started it) and `screenshotPath` (from the output's
/// marker line).
pub fn annotate(outcome: &mut TaskOutcome, session: Option<&AgentSession>) {
    if let Some(session) = session {
        outcome
            .metadata
            .insert("sessionId".into(), json!(session.id));
        outcome
            .metadata
            .insert("sessionNew".into(), json!(session.new));
    }
    if let Some(path) = screenshot_path(&outcome.stdout).map(str::to_owned) {
        outcome
            .metadata
            .insert("screenshotPath".into(), json!(path));
    }
}

/// The CLI's arguments: print mode, the configured extras and policy flags, the session,
/// then `--` and the prompt as one element.
fn claude_args(ctx: &ExecContext, run: ClaudeRun<'_>) -> Result<Vec<String>, String> {
    let mut args = vec!["-p".to_owned()];
    args.extend(ctx.claude_args.iter().cloned());
    if let Some(session) = run.session {
        // An id is a value, never a flag: `--resume --dangerously-…` must be impossible.
        // The bot checks the same rule; this is the Mac's own word on it.
        if !is_valid_session_id(&session.id) {
            return Err(format!("invalid session id: it {SESSION_ID_RULE}"));
        }
        let flag = if session.new {
            "--session-id"
        } else {
            "--resume"
        };
        args.push(flag.to_owned());
        args.push(session.id.clone());
    }
    // `--` ends option parsing, so a prompt starting with `-` stays a prompt.
    args.push("--".to_owned());
    // The CLI's parser dispatches a first operand that equals a subcommand name (`update`,
    // `install`, `mcp`, …) even after `--`. A prompt made of one bare word gets a trailing
    // newline, which the model ignores and no subcommand name matches.
    let mut prompt = run.prompt.to_owned();
    if !prompt.chars().any(char::is_whitespace) {
        prompt.push('\n');
    }
    args.push(prompt);
    Ok(args)
}

/// The path from the first `PLEASE_UPLOAD_TO_DISCORD: <path>` line, if any.
fn screenshot_path(stdout: &str) -> Option<&str> {
    stdout.lines().find_map(|line| {
        let path = line.trim().strip_prefix(SCREENSHOT_MARKER)?.trim();
        (!path.is_empty()).then_some(path)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ExecContext {
        ExecContext::from_config(&crate::config::Config::default())
    }

    fn run_with<'a>(prompt: &'a str, session: Option<&'a AgentSession>) -> ClaudeRun<'a> {
        ClaudeRun { prompt, session }
    }

    #[test]
    fn prompt_is_the_last_argument_after_double_dash() {
        let session = AgentSession::resume("abc-123");

        let args = claude_args(&ctx(), run_with("-rf / and more", Some(&session))).unwrap();

        assert_eq!(args, ["-p", "--resume", "abc-123", "--", "-rf / and more"]);
    }

    #[test]
    fn a_new_session_is_started_with_its_id() {
        let session = AgentSession::start("6f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11");

        let args = claude_args(&ctx(), run_with("hi there", Some(&session))).unwrap();

        assert_eq!(args, ["-p", "--session-id", &session.id, "--", "hi there"]);
    }

    #[test]
    fn single_word_prompt_cannot_name_a_subcommand() {
        let args = claude_args(&ctx(), run_with("update", None)).unwrap();

        assert_eq!(args.last().unwrap(), "update\n");
    }

    #[test]
    fn session_id_that_looks_like_a_flag_is_refused() {
        let too_long = "a".repeat(openclaw_shared::task::MAX_SESSION_ID_LEN + 1);
        for bad in [
            "--dangerously-skip-permissions",
            "a b",
            "x;y",
            "",
            ".",
            &too_long,
        ] {
            let session = AgentSession::resume(bad);
            let refused = claude_args(&ctx(), run_with("hi there", Some(&session)));

            assert!(refused.is_err(), "{bad}");
        }
    }

    #[test]
    fn screenshot_line_is_found_anywhere_in_the_output() {
        let out = "working…\n  PLEASE_UPLOAD_TO_DISCORD: /tmp/shot.png \ndone\n";

        assert_eq!(screenshot_path(out), Some("/tmp/shot.png"));
        assert_eq!(screenshot_path("no marker here"), None);
        assert_eq!(screenshot_path("PLEASE_UPLOAD_TO_DISCORD:   \n"), None);
    }
}
