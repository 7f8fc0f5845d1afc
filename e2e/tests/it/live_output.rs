//! Live output and long output, end to end: a task printing a line a second shows growing
//! output on `GET /tasks/:id/output?follow=1` before it ends; a follower that reconnects
//! with `Last-Event-ID` gets the rest without repeats; secrets split across pieces are
//! redacted in every piece and in the tail; and `seq 1 200000` keeps its real end with the
//! omitted bytes counted exactly.

use openclaw_shared::client::{OutputEnd, OutputPiece, TaskOutputView};
use openclaw_shared::TaskId;
use serde_json::json;

use crate::helpers::{
    start_open_stack, within_limit, write_script, TestBot, WorkerProcess, CLIENT_TOKEN,
};

/// One Server-Sent Event: its name, id and data.
#[derive(Debug)]
struct Event {
    name: String,
    id: Option<u64>,
    data: String,
}

/// A followed task's event stream.
struct Follow {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl Follow {
    /// Follows task `id`, from `last_id` when given (as a reconnecting client does).
    async fn start(bot: &TestBot, id: TaskId, last_id: Option<u64>) -> Follow {
        let mut request = reqwest::Client::new()
            .get(format!("{}/tasks/{id}/output?follow=1", bot.url()))
            .bearer_auth(CLIENT_TOKEN);
        if let Some(last) = last_id {
            request = request.header("Last-Event-ID", last.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Follow {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next event (comments skipped); `None` when the stream closed.
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(at) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..at + 2).collect();
                let block = String::from_utf8(block).unwrap();
                let mut event = Event {
                    name: String::new(),
                    id: None,
                    data: String::new(),
                };
                for line in block.lines() {
                    if let Some(name) = line.strip_prefix("event: ") {
                        event.name = name.to_owned();
                    } else if let Some(id) = line.strip_prefix("id: ") {
                        event.id = Some(id.parse().unwrap());
                    } else if let Some(data) = line.strip_prefix("data: ") {
                        event.data.push_str(data);
                    }
                }
                if event.name.is_empty() {
                    continue;
                }
                return Some(event);
            }
            let chunk = self.response.chunk().await.unwrap()?;
            self.buffer.extend_from_slice(&chunk);
        }
    }

    /// Every output piece until the end event: the pieces, the last id, and the end.
    async fn until_end(&mut self) -> (Vec<(Option<u64>, OutputPiece)>, OutputEnd) {
        let mut pieces = Vec::new();
        loop {
            let event = self
                .next()
                .await
                .expect("the stream ends with an end event");
            match event.name.as_str() {
                "output" => pieces.push((event.id, serde_json::from_str(&event.data).unwrap())),
                "end" => return (pieces, serde_json::from_str(&event.data).unwrap()),
                other => panic!("unexpected event {other}"),
            }
        }
    }
}

/// The pieces' text joined, checking each starts where the one before ended.
fn joined(pieces: &[(Option<u64>, OutputPiece)], from: u64) -> String {
    let mut end = from;
    let mut text = String::new();
    for (id, piece) in pieces {
        assert_eq!(piece.offset, end, "a piece repeats or skips text");
        end = piece.offset + piece.text.len() as u64;
        assert_eq!(*id, Some(end));
        text.push_str(&piece.text);
    }
    text
}

/// A script printing `tick 1` … `tick <n>`, one a second.
fn ticker(home: &std::path::Path) -> String {
    let script = home.join("ticker.sh");
    write_script(
        &script,
        "#!/bin/sh\ni=1\nwhile [ $i -le \"$1\" ]; do echo \"tick $i\"; i=$((i+1)); sleep 1; done\n",
    );
    script.display().to_string()
}

fn ticks(n: u32) -> String {
    (1..=n).map(|i| format!("tick {i}\n")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticking_task_shows_growing_output_on_the_follow_endpoint_before_it_ends() {
    within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let command = format!("{} 12", ticker(&dirs.home));
        let id = bot
            .submit("/tasks", json!({"command": command, "timeout": 60000}))
            .await;
        let _worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);

        let mut follow = Follow::start(&bot, id, None).await;
        let (pieces, end) = follow.until_end().await;

        let mut seen = String::new();
        let snapshots: Vec<String> = pieces
            .iter()
            .map(|(_, piece)| {
                seen.push_str(&piece.text);
                seen.clone()
            })
            .collect();
        assert!(snapshots.len() >= 3, "only {} snapshots", snapshots.len());
        assert!(snapshots
            .windows(2)
            .all(|w| w[1].len() > w[0].len() && w[1].starts_with(&w[0])));
        assert_eq!(joined(&pieces, 0), ticks(12));
        assert_eq!(
            (end.task_id, end.status.as_str(), end.exit_code),
            (id, "succeeded", Some(0))
        );
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_that_reconnects_with_last_event_id_gets_the_rest_without_repeats() {
    within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let command = format!("{} 8", ticker(&dirs.home));
        let id = bot
            .submit("/tasks", json!({"command": command, "timeout": 60000}))
            .await;
        let _worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);

        let mut first = Follow::start(&bot, id, None).await;
        let mut before = Vec::new();
        while before.len() < 2 {
            let event = first.next().await.unwrap();
            assert_eq!(event.name, "output");
            before.push((
                event.id,
                serde_json::from_str::<OutputPiece>(&event.data).unwrap(),
            ));
        }
        drop(first);
        let last_id = before.last().unwrap().0.unwrap();
        let mut again = Follow::start(&bot, id, Some(last_id)).await;
        let (after, end) = again.until_end().await;

        let text = joined(&before, 0) + &joined(&after, last_id);
        assert_eq!(text, ticks(8));
        assert_eq!(end.status, "succeeded");
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_split_across_pieces_are_redacted_in_every_piece_and_in_the_tail() {
    within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let script = dirs.home.join("leaky.sh");
        // A token whose end comes a piece later, and a key named on one line and given on
        // the next: neither piece alone shows a secret the patterns know.
        write_script(
            &script,
            "#!/bin/sh\nprintf 'token ghp_'\nsleep 1.5\nprintf '%s\\n' \"$1\"\n\
             echo 'aws_secret_access_key ='\nsleep 1.5\necho \"$2\"\nsleep 2.5\necho done\n",
        );
        let (token_rest, aws_secret) = ("Q".repeat(36), "W".repeat(40));
        let command = format!("{} {token_rest} {aws_secret}", script.display());
        let id = bot
            .submit("/tasks", json!({"command": command, "timeout": 60000}))
            .await;
        let _worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);

        let mut follow = Follow::start(&bot, id, None).await;
        let mut pieces = Vec::new();
        let mut tail = None;
        loop {
            let event = follow.next().await.unwrap();
            if event.name == "end" {
                break;
            }
            let piece: OutputPiece = serde_json::from_str(&event.data).unwrap();
            if piece.text.contains("aws_secret_key") && tail.is_none() {
                // Both secrets are out; the task still runs: read the tail as it is.
                let answer = reqwest::Client::new()
                    .get(format!("{}/tasks/{id}/output", bot.url()))
                    .bearer_auth(CLIENT_TOKEN)
                    .send()
                    .await
                    .unwrap();
                tail = Some(answer.json::<TaskOutputView>().await.unwrap());
            }
            pieces.push((event.id, piece));
        }
        let result = bot.finished(id).await;

        let leaked = |text: &str| text.contains("QQQQ") || text.contains("WWWW");
        assert!(pieces.len() >= 2, "{pieces:?}");
        for (_, piece) in &pieces {
            assert!(!leaked(&piece.text), "a piece leaked: {:?}", piece.text);
        }
        let all = joined(&pieces, 0);
        assert!(all.contains("token [REDACTED:github_token]\n"), "{all}");
        assert!(all.contains("[REDACTED:aws_secret_key]"), "{all}");
        let tail = tail.expect("the tail was read while the task ran");
        assert!(!tail.finished && !leaked(&tail.text), "{tail:?}");
        assert!(tail.text.contains("[REDACTED:github_token]"), "{tail:?}");
        assert!(!leaked(result.stdout.as_deref().unwrap()));
        bot.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_output_keeps_its_real_end_and_counts_what_it_left_out_exactly() {
    within_limit(async {
        let (dirs, bot) = start_open_stack().await;
        let _worker = WorkerProcess::spawn(&bot.url(), &dirs.home, &[]);
        let expected: String = (1..=200_000).map(|n| format!("{n}\n")).collect();

        let id = bot
            .submit(
                "/tasks",
                json!({"command": "seq 1 200000", "timeout": 60000}),
            )
            .await;
        let view = bot.finished(id).await;

        let stdout = view.stdout.unwrap();
        assert!(
            stdout.ends_with("\n199999\n200000\n"),
            "{}",
            &stdout[stdout.len() - 50..]
        );
        let kept = &view.metadata.unwrap()["stdoutOmitted"];
        let (head, omitted, tail) = (
            kept["headBytes"].as_u64().unwrap() as usize,
            kept["omittedBytes"].as_u64().unwrap(),
            kept["tailBytes"].as_u64().unwrap() as usize,
        );
        assert_eq!(view.stdout_omitted_bytes, Some(omitted));
        assert_eq!(head + omitted as usize + tail, expected.len());
        let marker = format!("… {omitted} bytes omitted …\n");
        assert_eq!(
            stdout,
            format!(
                "{}{marker}{}",
                &expected[..head],
                &expected[expected.len() - tail..]
            )
        );
        assert!(view.stdout_truncated.unwrap());
        bot.stop().await;
    })
    .await;
}
