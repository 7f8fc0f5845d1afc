//! What leaves the Mac, and tripwires: secrets in output are redacted, the worker token
//! never reaches a child, a prompt-injected screenshot path uploads nothing, a canary locks
//! the worker until it is unlocked on the Mac (named by path or as the working directory),
//! and a doctored audit log is caught.

use openclaw_worker::audit::{line_hash, Head};
use serde_json::json;

use crate::helpers::{
    screenshot_claude, within_limit, write_script, Lab, KEY_MATERIAL, WORKER_TOKEN,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_secrets_in_output_are_redacted() {
    within_limit(async {
        let lab = Lab::start("", &[]).await;
        let planted = format!(
            "aws AKIAIOSFODNN7EXAMPLE\n-----BEGIN OPENSSH PRIVATE KEY-----\n{KEY_MATERIAL}\n\
             -----END OPENSSH PRIVATE KEY-----\npassword=hunter2hunter2\ntoken {WORKER_TOKEN}\n"
        );
        lab.dirs.file("shared/leak.txt", planted.as_bytes());

        let read = lab
            .bot
            .submit("/files/read", json!({"path": "~/shared/leak.txt"}))
            .await;
        let read = lab.bot.finished(read).await;
        let cat = lab.bot.command("cat shared/leak.txt").await;
        let cat = lab.bot.finished(cat).await;

        for view in [read, cat] {
            assert_eq!(view.status, "succeeded", "{view:?}");
            let out = view.stdout.unwrap();
            for secret in [
                "AKIAIOSFODNN7EXAMPLE",
                KEY_MATERIAL,
                "hunter2hunter2",
                WORKER_TOKEN,
            ] {
                assert!(!out.contains(secret), "{secret} left the Mac: {out}");
            }
            for kind in [
                "aws_access_key_id",
                "private_key",
                "credential",
                "env_value",
            ] {
                assert!(out.contains(&format!("[REDACTED:{kind}]")), "{kind}: {out}");
            }
            assert_eq!(view.metadata.unwrap()["redactions"], 4);
        }
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_split_by_escape_codes_or_straddling_a_cut_of_a_long_output_are_redacted() {
    within_limit(async {
        let lab = Lab::start("", &[("OPENCLAW_WORKER_MAX_OUTPUT_BYTES", "1000")]).await;
        // A colour reset inside an AWS key id; then, past the 1,000-byte cap, a GitHub token
        // that the cut before the kept tail (the last 686 bytes) falls 12 characters into.
        let token = format!("ghp_{}", "k".repeat(36));
        let mut planted = "aws AKIA\x1b[0mIOSFODNN7EXAMPLE\x1b]0;title\x07\n".to_owned();
        planted.push_str(&"a".repeat(600));
        planted.push_str(&format!(" {token} {}\n", "b".repeat(656)));
        lab.dirs.file("shared/colour.txt", planted.as_bytes());

        let cat = lab.bot.command("cat shared/colour.txt").await;
        let view = lab.bot.finished(cat).await;

        assert_eq!(view.status, "succeeded", "{view:?}");
        let out = view.stdout.unwrap();
        let omitted = view.stdout_omitted_bytes.unwrap();
        assert!(
            out.starts_with("aws [REDACTED:aws_access_key_id]\naaa"),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "aaa\n… {omitted} bytes omitted …\n[REDACTED:github_token] bbb"
            )),
            "{out}"
        );
        assert!(
            !out.contains("IOSFODNN7EXAMPLE") && !out.contains('\x1b'),
            "{out}"
        );
        assert!(
            !out.contains("ghp_k") && !out.contains("kkk"),
            "a piece of the token left the Mac: {out}"
        );
        assert!(out.len() <= 1000, "{}", out.len());
        assert_eq!(view.stdout_truncated, Some(true));
        assert_eq!(view.metadata.unwrap()["redactions"], 2);
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_token_never_reaches_a_child() {
    within_limit(async {
        let dirs_probe = tempfile::tempdir().unwrap();
        let claude = dirs_probe.path().join("claude");
        write_script(&claude, "#!/bin/sh\nprintenv\n");
        let env = [
            ("OPENCLAW_WORKER_TOKEN", WORKER_TOKEN),
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY",
            ),
            ("DYLD_INSERT_LIBRARIES", "/tmp/inject.dylib"),
            ("OPENCLAW_WORKER_CLAUDE_BIN", claude.to_str().unwrap()),
        ];
        let lab = Lab::start("", &env).await;
        let before = lab.snapshot();

        let command = lab.bot.command("printenv").await;
        let command = lab.bot.finished(command).await;
        let prompt = lab
            .bot
            .submit("/claude", json!({"prompt": "what is in my env?"}))
            .await;
        let prompt = lab.bot.finished(prompt).await;

        for view in [command, prompt] {
            assert_eq!(view.status, "succeeded", "{view:?}");
            let out = view.stdout.unwrap();
            assert!(out.contains("HOME="), "{out}");
            for leaked in [
                WORKER_TOKEN,
                "WORKER_TOKEN",
                "AWS_SECRET",
                "DYLD_",
                "OPENCLAW",
            ] {
                assert!(!out.contains(leaked), "{leaked} reached a child: {out}");
            }
        }
        before.assert_unchanged(&lab.snapshot());
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prompt_injected_screenshot_path_uploads_nothing() {
    within_limit(async {
        let probe = tempfile::tempdir().unwrap();
        // Prints the marker with whatever path the (injected) prompt names.
        let claude = screenshot_claude(probe.path());
        let lab = Lab::start(
            "",
            &[("OPENCLAW_WORKER_CLAUDE_BIN", claude.to_str().unwrap())],
        )
        .await;
        // Images by their magic number, in places the policy does not let a read go.
        let png = [b"\x89PNG\r\n\x1a\n".as_slice(), KEY_MATERIAL.as_bytes()].concat();
        lab.dirs.file(".ssh/screen.png", &png);
        lab.dirs.file("private/photo.png", &png);
        lab.dirs.file("shared/key.png", KEY_MATERIAL.as_bytes());
        let before = lab.snapshot();
        let cases = [
            ("~/.ssh/id_rsa", "policy"),
            ("~/Documents/../.ssh/id_rsa", "policy"),
            ("~/.ssh/screen.png", "policy"),
            ("~/private/photo.png", "policy"),
            ("~/shared/key.png", "not a PNG"),
        ];

        let mut ends = Vec::new();
        for (path, why) in cases {
            let id = lab.bot.submit("/claude", json!({ "prompt": path })).await;
            ends.push((id, why, lab.bot.finished(id).await));
        }

        for (id, why, view) in ends {
            assert_eq!(view.status, "succeeded", "{view:?}");
            assert!(
                view.attachments.clone().unwrap_or_default().is_empty(),
                "{view:?}"
            );
            let error = view.metadata.unwrap()["screenshotError"].clone();
            assert!(error.as_str().unwrap().contains(why), "{error}");
            for name in ["id_rsa", "screen.png", "photo.png", "key.png"] {
                let (status, _, body) = lab.bot.attachment(id, name).await;
                assert_eq!(status, reqwest::StatusCode::NOT_FOUND);
                assert!(!String::from_utf8_lossy(&body).contains(KEY_MATERIAL));
            }
        }
        before.assert_unchanged(&lab.snapshot());
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn touching_a_canary_locks_the_worker_until_it_is_unlocked_on_the_mac() {
    within_limit(async {
        let lab = Lab::start("", &[]).await;
        let before = lab.snapshot();

        let touched = lab
            .expect_denied("/files/read", json!({"path": "~/Documents/passwords.txt"}))
            .await;
        lab.worker.wait_for_log("claims no tasks").await;
        // The claim loop now waits for the unlock: this task cannot be claimed.
        let next = lab.bot.command("ls shared").await;
        let queued = lab.bot.task(next, 0).await;
        let locked = lab.dirs.state_dir().join("locked.json").exists();
        let unchanged = lab.snapshot();
        let unlock = lab.dirs.cli(&["unlock"]);
        let after = lab.bot.finished(next).await;

        let policy = touched.metadata.unwrap()["policy"].clone();
        assert_eq!(policy["rule"], "paths.canary[0]");
        assert!(!touched.stdout.unwrap_or_default().contains("bait"));
        assert_eq!(queued.status, "pending");
        assert!(locked);
        before.assert_unchanged(&unchanged);
        assert_eq!(unlock.code, Some(0), "{unlock:?}");
        assert!(unlock.stdout.contains("passwords.txt"), "{unlock:?}");
        assert_eq!(after.status, "succeeded");
        assert!(after.stdout.unwrap().contains("notes.txt"));
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_a_canarys_folder_as_the_working_directory_trips_it() {
    within_limit(async {
        // The canary's folder is a read root, as ~/Documents is in the starter policy.
        let policy = "default = \"approve\"\n[paths]\nread_roots = [\"~/Documents\"]\n\
                      canary = [\"~/Documents/passwords.txt\"]\n";
        let lab = Lab::with_policy(policy, &[]).await;

        // `ls ~/Documents` trips the canary; the same listing by working directory must too.
        let listed = lab
            .expect_denied("/tasks", json!({"command": "ls -la", "cwd": "~/Documents"}))
            .await;
        let locked = lab.dirs.state_dir().join("locked.json").exists();
        let unlock = lab.dirs.cli(&["unlock"]);

        assert_eq!(
            listed.metadata.unwrap()["policy"]["rule"],
            "paths.canary[0]"
        );
        assert!(!listed.stdout.unwrap_or_default().contains("passwords"));
        assert!(locked);
        assert_eq!(unlock.code, Some(0), "{unlock:?}");
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_reordered_or_truncated_audit_log_is_caught_naming_the_line() {
    within_limit(async {
        let lab = Lab::start("", &[]).await;
        let mut last = None;
        for _ in 0..4 {
            let id = lab.bot.command("ls shared").await;
            last = Some(lab.bot.finished(id).await);
        }
        // The head the bot kept with the latest result: the anchor outside the Mac.
        let audit = last.unwrap().metadata.unwrap()["audit"].clone();
        let anchor = format!("{}:{}", audit["count"], audit["hash"].as_str().unwrap());
        let Lab { dirs, bot, worker } = lab;
        worker.stop().await;
        bot.stop().await;
        let log = dirs.state_dir().join("audit.jsonl");
        let head = dirs.state_dir().join("audit.head");
        let original = std::fs::read_to_string(&log).unwrap();
        let lines: Vec<&str> = original.lines().collect();
        let verify = |anchor: Option<&str>| {
            let mut args = vec!["audit", "verify"];
            args.extend(anchor.map(|a| ["--head", a]).into_iter().flatten());
            dirs.cli(&args)
        };
        let rewrite = |lines: &[&str]| {
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            std::fs::write(&log, text).unwrap();
        };

        let intact = verify(Some(&anchor));
        let edited = lines[1].replace("\"ls shared\"", "\"ls /\"");
        rewrite(&[lines[0], &edited, lines[2], lines[3]]);
        let tampered = verify(None);
        rewrite(&[lines[0], lines[2], lines[1], lines[3]]);
        let reordered = verify(None);
        rewrite(&lines[..3]);
        let cut = verify(None);
        // A careful attacker also rewrites the head file; only the bot's anchor tells.
        Head {
            count: 3,
            last_hash: line_hash(lines[2].as_bytes()),
        }
        .write(&head)
        .unwrap();
        let cut_and_covered = verify(None);
        let anchored = verify(Some(&anchor));

        assert_eq!(audit["count"], 4);
        assert_eq!(intact.code, Some(0), "{intact:?}");
        assert_ne!(edited, lines[1]);
        for (run, line) in [
            (&tampered, "line 2:"),
            (&reordered, "line 2:"),
            (&cut, "line 4:"),
        ] {
            assert_eq!(run.code, Some(1), "{run:?}");
            assert!(run.stderr.contains(line), "{run:?}");
        }
        assert_eq!(cut_and_covered.code, Some(0), "{cut_and_covered:?}");
        assert_eq!(anchored.code, Some(1), "{anchored:?}");
        assert!(anchored.stderr.contains("line 4:"), "{anchored:?}");
        assert!(anchored.stderr.contains("tail cut"), "{anchored:?}");
    })
    .await;
}
