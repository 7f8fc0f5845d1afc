//! The two criticals of issue 7, verbatim, against the starter policy `openclaw-worker init`
//! writes, with only the client token — and then the same programs misbehaving where the
//! parse layer cannot see it (a repository's own config), stopped by the kernel.

use serde_json::json;

use crate::helpers::{within_limit, Lab, AWS_CREDENTIALS, SSH_CONFIG};

/// What the planted git config runs: appends to `~/.zshrc` (a deny-write path) and leaves a
/// marker, through the shell git starts for `core.fsmonitor`.
const FSMONITOR_CONFIG: &str = "[core]\n\trepositoryformatversion = 0\n\tbare = false\n\
     \tfsmonitor = echo pwned >> ~/.zshrc && touch ~/pwned\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gitdir_file_and_a_planted_config_run_nothing() {
    within_limit(async {
        let lab = Lab::starter().await;
        let zshrc = std::fs::read(lab.dirs.home.join(".zshrc")).unwrap();
        let inbox = "~/Downloads/openclaw";

        let dot_git = lab
            .expect_denied(
                "/files/write",
                json!({"path": format!("{inbox}/r/.git"), "content": "gitdir: ../g\n"}),
            )
            .await;
        for (path, content) in [
            ("g/HEAD", "ref: refs/heads/main\n"),
            ("g/config", FSMONITOR_CONFIG),
            ("g/objects/info/packs", ""),
            ("g/refs/heads/.keep", ""),
        ] {
            let id = lab
                .bot
                .submit(
                    "/files/write",
                    json!({"path": format!("{inbox}/{path}"), "content": content}),
                )
                .await;
            lab.bot.finished(id).await;
        }
        // The attacker's next step: run git where its config would be read. Not allowed
        // in a write root; the owner, asked, says no.
        let status = lab
            .expect_approval_then_deny(
                "/tasks",
                json!({"command": "git status", "cwd": format!("{inbox}/g")}),
            )
            .await;

        assert!(
            dot_git.error.clone().flatten().unwrap().contains(".git"),
            "{dot_git:?}"
        );
        assert!(!lab.dirs.home.join("Downloads/openclaw/r/.git").exists());
        assert!(status.fingerprint.is_some());
        assert_eq!(std::fs::read(lab.dirs.home.join(".zshrc")).unwrap(), zshrc);
        assert!(!lab.dirs.home.join("pwned").exists());
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn git_diff_outside_a_repository_reads_nothing_without_approval() {
    within_limit(async {
        let lab = Lab::starter().await;
        std::fs::create_dir_all(lab.dirs.home.join("Downloads/openclaw/e")).unwrap();
        let secret = std::fs::read_to_string(lab.dirs.state_dir().join("totp.secret")).unwrap();
        let before = lab.snapshot();

        let config = lab
            .bot
            .submit(
                "/tasks",
                json!({"command": "git diff Downloads/openclaw/e .config", "cwd": "~"}),
            )
            .await;
        let config = lab.denying_approval(config).await;
        let home = lab
            .bot
            .submit(
                "/tasks",
                json!({"command": "git diff e ~", "cwd": "~/Downloads/openclaw"}),
            )
            .await;
        let home = lab.denying_approval(home).await;

        for view in [&config, &home] {
            assert_eq!(view.status, "denied", "{view:?}");
            let out = view.stdout.clone().unwrap_or_default();
            assert!(!out.contains(secret.trim()), "{view:?}");
            assert!(!out.contains("leak-marker"), "{view:?}");
        }
        before.assert_unchanged(&lab.snapshot());
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_git_diff_still_cannot_read_the_workers_secret_or_keys() {
    within_limit(async {
        let lab = Lab::starter().await;
        std::fs::create_dir_all(lab.dirs.home.join("Downloads/openclaw/e")).unwrap();
        let secret = std::fs::read_to_string(lab.dirs.state_dir().join("totp.secret")).unwrap();

        let id = lab
            .bot
            .submit(
                "/tasks",
                json!({
                    // Naming `~/.ssh` itself is denied outright; the whole home is not.
                    "command": "git diff --no-index e ~/.config; git diff --no-index e ~; \
                                cat readme.txt",
                    "cwd": "~/Downloads/openclaw"
                }),
            )
            .await;
        let waiting = lab.await_approval(id).await;
        let code = lab.dirs.totp_code();
        lab.bot
            .approve(id, &waiting.fingerprint.unwrap(), &code)
            .await;
        let end = lab.bot.finished(id).await;

        let out = format!(
            "{}{}",
            end.stdout.clone().unwrap_or_default(),
            end.stderr.clone().unwrap_or_default()
        );
        let metadata = end.metadata.clone().unwrap();
        assert_eq!(metadata["sandbox"]["profile"], "approved", "{end:?}");
        // It ran, and read what the approved profile allows; the kernel refused the rest.
        assert!(out.contains("the phone's inbox"), "{out}");
        assert!(out.contains("Permission denied"), "{out}");
        assert!(
            !out.contains(secret.trim()),
            "the TOTP secret leaked: {out}"
        );
        assert!(!out.contains(SSH_CONFIG.trim()), "~/.ssh leaked: {out}");
        assert!(
            !out.contains(AWS_CREDENTIALS.trim()),
            "~/.aws leaked: {out}"
        );
        assert_eq!(
            metadata["redactions"], 0,
            "the redactor, not the kernel, hid it"
        );
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repositorys_own_filter_runs_confined_by_the_kernel() {
    within_limit(async {
        let lab = Lab::starter().await;
        // The owner's clone of a hostile repository, in a read root: its config runs a
        // clean filter on every changed file, which `git status` applies. Hardening cannot
        // name every filter; the kernel is what stops it.
        let repo = lab.dirs.home.join("Projects/evil");
        std::fs::create_dir_all(&repo).unwrap();
        let git = |args: &[&str]| {
            let status = std::process::Command::new("git")
                .args(args)
                .current_dir(&repo)
                .env("HOME", &lab.dirs.home)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .status()
                .unwrap();
            assert!(status.success(), "git {args:?}");
        };
        git(&["init", "-q"]);
        std::fs::write(repo.join("data.txt"), "one\n").unwrap();
        git(&[
            "-c",
            "user.name=o",
            "-c",
            "user.email=o@x",
            "add",
            "data.txt",
        ]);
        std::fs::write(repo.join(".gitattributes"), "* filter=evil\n").unwrap();
        let filter = "cat ~/.ssh/config > ~/Projects/evil/leak; cat ~/.ssh/config; \
                      echo pwned >> ~/.zshrc; cat";
        git(&["config", "filter.evil.clean", filter]);
        std::fs::write(repo.join("data.txt"), "two\n").unwrap();
        let zshrc = std::fs::read(lab.dirs.home.join(".zshrc")).unwrap();

        let id = lab
            .bot
            .submit(
                "/tasks",
                json!({"command": "git status --porcelain", "cwd": "~/Projects/evil"}),
            )
            .await;
        let end = lab.bot.finished(id).await;

        let metadata = end.metadata.clone().unwrap();
        let out = format!("{:?}{:?}", end.stdout, end.stderr);
        assert_eq!(metadata["policy"]["verdict"], "allow", "{end:?}");
        assert_eq!(metadata["sandbox"]["profile"], "allowed", "{end:?}");
        assert!(!out.contains("leak-marker"), "{out}");
        assert!(!repo.join("leak").exists());
        assert_eq!(std::fs::read(lab.dirs.home.join(".zshrc")).unwrap(), zshrc);
        lab.stop().await;
    })
    .await;
}
