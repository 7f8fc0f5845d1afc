//! Programs that misbehave once they run — what no parsing of the request can see — and the
//! kernel sandbox that stops them: an allowed program that reaches for the worker's secret,
//! its config, `~/.ssh`, shell startup files, launch agents, the network, the worker
//! itself, and its own supervisor and spool (where it could forge its result); the same program approved by the owner, in the wider profile; and a worker with
//! the sandbox off, which then runs nothing without approval.

use std::net::TcpListener;

use openclaw_shared::client::TaskView;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{within_limit, write_script, Lab};

/// A program that, once started, tries everything an attacker would: each line prints a
/// marker only if the kernel let it through. `$1` is a listening port, `$2` the worker's
/// process id.
const PROBE: &str = r#"#!/bin/sh
h="$HOME"
cat "$h/.config/openclaw-worker/state/totp.secret" && echo LEAK-TOTP
cat "$h/.config/openclaw-worker/config.toml" && echo LEAK-CONFIG
cat "$h/.ssh/config" && echo LEAK-SSH
echo evil >> "$h/.zshrc" && echo WROTE-ZSHRC
mkdir -p "$h/Library/LaunchAgents" && echo WROTE-AGENT
echo fine > "$h/shared/inbox/ok.txt" && echo WROTE-INBOX
/usr/bin/python3 - "$1" <<'PY'
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2).close()
    print("CONNECTED")
except OSError as e:
    print("tcp refused:", e)
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", 9))
    print("UDP-SENT")
except OSError as e:
    print("udp refused:", e)
PY
kill -0 "$2" && echo SIGNALLED-WORKER
for d in "$h"/.config/openclaw-worker/state/spool/*; do
  cat "$d/job.json" && echo LEAK-SPOOL
  echo forged > "$d/result" && echo FORGED-RESULT
done
# The supervisor: the nearest ancestor that is the worker's binary (Linux).
p=$PPID
while [ "${p:-1}" -gt 1 ] && [ "$(cat /proc/$p/comm 2>/dev/null)" != openclaw-worker ]; do
  p=$(cut -d' ' -f4 /proc/$p/stat 2>/dev/null)
done
echo "supervisor pid ${p:-none}"
[ "${p:-1}" -gt 1 ] && kill -0 "$p" && echo SIGNALLED-SUPERVISOR
exit 0
"#;

/// The probe allowed by its path (`{home}` is the lab's home), one read root, one write
/// root.
pub(super) const PROBE_POLICY: &str = r#"
default = "approve"

[commands]
allow = [{ program = "{home}/shared/probe.sh", options = ["*"] }]

[paths]
read_roots = ["~/shared"]
write_roots = ["~/shared/inbox"]
"#;

/// A lab whose home holds the probe, and a listener the probe may try to reach.
async fn probe_lab() -> (Lab, TcpListener) {
    let lab = Lab::with_policy(PROBE_POLICY, &[]).await;
    write_script(&lab.dirs.home.join("shared/probe.sh"), PROBE);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    (lab, listener)
}

fn output(view: &TaskView) -> String {
    format!(
        "{}\n{}",
        view.stdout.clone().unwrap_or_default(),
        view.stderr.clone().unwrap_or_default()
    )
}

fn sandbox_of(view: &TaskView) -> Value {
    view.metadata.clone().unwrap()["sandbox"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_program_is_stopped_by_the_kernel_at_every_turn() {
    within_limit(async {
        let (lab, listener) = probe_lab().await;
        let port = listener.local_addr().unwrap().port();
        let zshrc = std::fs::read(lab.dirs.home.join(".zshrc")).unwrap();

        let id = lab
            .bot
            .command(&format!(
                "{} {port} {}",
                lab.home_path("shared/probe.sh"),
                lab.worker.pid()
            ))
            .await;
        let end = lab.bot.finished(id).await;

        let out = output(&end);
        assert_eq!(end.status, "succeeded", "{end:?}");
        assert_eq!(
            sandbox_of(&end),
            json!({"profile": "allowed", "network": false})
        );
        // The probe is not its own judge: this is the supervisor's record of its run.
        assert_eq!(end.exit_code, Some(Some(0)), "{end:?}");
        if cfg!(target_os = "linux") {
            assert!(
                !out.contains("supervisor pid none") && out.contains("supervisor pid "),
                "the probe must find its supervisor for the signal test to mean anything:\n{out}"
            );
        }
        for leak in [
            "LEAK-",
            "WROTE-ZSHRC",
            "WROTE-AGENT",
            "CONNECTED",
            "UDP-SENT",
            "SIGNALLED",
            "FORGED",
        ] {
            assert!(!out.contains(leak), "{leak} got through:\n{out}");
        }
        assert!(out.contains("Permission denied"), "{out}");
        assert!(
            out.contains("tcp refused") && out.contains("udp refused"),
            "{out}"
        );
        assert!(
            out.contains("WROTE-INBOX"),
            "the write root must stay writable:\n{out}"
        );
        assert_eq!(std::fs::read(lab.dirs.home.join(".zshrc")).unwrap(), zshrc);
        assert!(!lab.dirs.home.join("Library").exists());
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_program_gets_the_wider_profile_but_never_the_workers_files() {
    within_limit(async {
        let (lab, listener) = probe_lab().await;
        let port = listener.local_addr().unwrap().port();
        let zshrc = std::fs::read(lab.dirs.home.join(".zshrc")).unwrap();

        // Shell syntax: never allowed, so the owner approves it.
        let command = format!(
            "{} {port} {}; true",
            lab.home_path("shared/probe.sh"),
            lab.worker.pid()
        );
        let id = lab.bot.command(&command).await;
        let waiting = lab.await_approval(id).await;
        let summary = waiting.message.clone().unwrap_or_default();
        let code = lab.dirs.totp_code();
        lab.bot
            .approve(id, &waiting.fingerprint.unwrap(), &code)
            .await;
        let end = lab.bot.finished(id).await;

        let out = output(&end);
        assert!(summary.contains("sandbox `approved`"), "{summary}");
        assert_eq!(
            sandbox_of(&end),
            json!({"profile": "approved", "network": true})
        );
        assert!(
            out.contains("CONNECTED"),
            "approved tasks have the network:\n{out}"
        );
        for leak in ["LEAK-", "WROTE-ZSHRC", "SIGNALLED", "FORGED"] {
            assert!(!out.contains(leak), "{leak} got through:\n{out}");
        }
        assert_eq!(std::fs::read(lab.dirs.home.join(".zshrc")).unwrap(), zshrc);
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_sandbox_nothing_runs_unasked_and_the_operator_sees_why() {
    within_limit(async {
        let lab = Lab::start("[sandbox]\nmode = \"off\"\n", &[]).await;
        lab.worker.wait_for_log("NO KERNEL SANDBOX").await;
        let before = lab.snapshot();

        let waiting = lab
            .expect_approval_then_deny("/tasks", json!({"command": "ls"}))
            .await;
        let (status, health) = lab.bot.admin_get("/admin/health").await;

        assert!(
            waiting
                .message
                .clone()
                .unwrap_or_default()
                .contains("NO SANDBOX"),
            "{waiting:?}"
        );
        assert_eq!(status, StatusCode::OK);
        let worker = &health["workers"][0];
        assert_eq!(worker["sandbox"]["enforced"], false, "{health}");
        assert!(
            worker["sandbox"]["detail"]
                .as_str()
                .unwrap()
                .contains("off"),
            "{health}"
        );
        before.assert_unchanged(&lab.snapshot());
        lab.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confined_worker_reports_its_sandbox_to_the_operator() {
    within_limit(async {
        let lab = Lab::start("", &[]).await;
        let id = lab.bot.command("ls").await;
        lab.bot.finished(id).await;

        let (_, health) = lab.bot.admin_get("/admin/health").await;

        let sandbox = &health["workers"][0]["sandbox"];
        assert_eq!(sandbox["enforced"], true, "{health}");
        assert!(
            sandbox["detail"].as_str().unwrap().contains("landlock"),
            "{health}"
        );
        lab.stop().await;
    })
    .await;
}
