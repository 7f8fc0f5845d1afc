//! Races between the worker's check and its own file I/O: a sandboxed program may rename
//! and link inside a write root, which is its to change, while the worker reads and
//! writes there for other tasks. A directory swapped for a link to the worker's state
//! between the check and the open must never take a read or a write there.

use serde_json::json;

use crate::helpers::{wait_for, within_limit, write_script, Lab};

/// Swaps `~/shared/inbox/race/sub` between a real directory and a link to the worker's
/// state directory as fast as it can, until `race/stop` appears or `$1` seconds pass
/// (naming the state directory in the command would have it denied). Allowed by its path: an
/// allowed program gone bad (a hostile repository's filter, say), confined by the kernel
/// to what the allowed profile grants, which includes renaming inside a write root.
const RACER: &str = r#"#!/usr/bin/python3
import os, sys, time
base = os.path.expanduser("~/shared/inbox/race")
sub, real, link = (os.path.join(base, n) for n in ("sub", "sub.real", "sub.link"))
os.symlink(os.path.expanduser("~/.config/openclaw-worker/state"), link)
open(os.path.join(base, "ready"), "w").close()
end = time.time() + float(sys.argv[1])
stop = os.path.join(base, "stop")
while time.time() < end and not os.path.exists(stop):
    for a, b in ((sub, real), (link, sub), (sub, link), (real, sub)):
        try:
            os.rename(a, b)
        except OSError:
            # A directory the worker made meanwhile (its write creates missing parents).
            if os.path.isdir(b) and not os.path.islink(b):
                os.rename(b, "%s.%d" % (b, time.monotonic_ns()))
print("raced")
"#;

const RACER_POLICY: &str = r#"
default = "approve"

[commands]
allow = [{ program = "{home}/shared/racer", options = ["*"] }]

[paths]
read_roots = ["~/shared"]
write_roots = ["~/shared/inbox"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_swapped_for_a_link_after_the_check_leads_no_read_or_write_out() {
    within_limit(async {
        let lab = Lab::with_policy(RACER_POLICY, &[]).await;
        let home = lab.dirs.home.clone();
        write_script(&home.join("shared/racer"), RACER);
        lab.dirs.file("shared/inbox/race/sub/totp.secret", b"decoy\n");
        let state = lab.dirs.state_dir();
        let secret = std::fs::read_to_string(state.join("totp.secret")).unwrap();
        let racing_secs = 90;

        let racer = lab
            .bot
            .submit(
                "/tasks",
                json!({
                    "command": format!("{} {racing_secs}", lab.home_path("shared/racer")),
                    "timeout": (racing_secs + 30) * 1000,
                }),
            )
            .await;
        wait_for("the racer to start", || {
            home.join("shared/inbox/race/ready").exists()
        })
        .await;
        let mut leaks = Vec::new();
        let mut outcomes = Vec::new();
        for round in 0..40 {
            let read = lab
                .bot
                .submit(
                    "/files/read",
                    json!({"path": "~/shared/inbox/race/sub/totp.secret"}),
                )
                .await;
            let write = lab
                .bot
                .submit(
                    "/files/write",
                    json!({"path": format!("~/shared/inbox/race/sub/planted-{round}.txt"), "content": "planted\n"}),
                )
                .await;
            let read = lab.bot.finished(read).await;
            let write = lab.bot.finished(write).await;
            let out = read.stdout.clone().unwrap_or_default();
            if out.contains(secret.trim()) || out.contains("REDACTED") {
                leaks.push(out);
            }
            outcomes.push((read.status, write.status));
        }
        std::fs::write(home.join("shared/inbox/race/stop"), "").unwrap();
        let racer = lab.bot.finished(racer).await;
        // Nothing planted below the worker's state, whatever the race made of the rest.
        let planted: Vec<_> = std::fs::read_dir(&state)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains("planted"))
            .collect();

        assert_eq!(racer.status, "succeeded", "{racer:?}");
        assert!(racer.stdout.unwrap_or_default().contains("raced"));
        assert!(
            leaks.is_empty() && planted.is_empty(),
            "the TOTP secret was read: {leaks:?}; written into the state dir: {planted:?}"
        );
        // The race was real: some operations got past the check (the path was a directory
        // then) and either ran in the inbox or were refused at the open, when the link was
        // back. Which of the two, and how often, depends on timing.
        assert!(
            outcomes
                .iter()
                .any(|(read, write)| read != "denied" || write != "denied"),
            "every operation was denied at the check; the race never opened: {outcomes:?}"
        );
        lab.stop().await;
    })
    .await;
}
