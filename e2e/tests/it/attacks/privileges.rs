//! A worker started with privileges (root on Linux, as in a container or this test
//! machine) must not hand them to its tasks: a confined program keeps every capability
//! otherwise, and with them reads the worker's own environment (its token, in a form the
//! redactor does not know) through `/proc`, and could load kernel modules, make device
//! files for the raw disk, reboot or set the clock — none of which Landlock governs.

use serde_json::json;

use super::sandbox::PROBE_POLICY;
use crate::helpers::{within_limit, write_script, Lab, WORKER_TOKEN};

/// `$1` is the worker's process id. Prints the worker's environment base64-encoded (so
/// the redactor cannot recognise the token) if it can read it, and its own capabilities.
const PROBE: &str = r#"#!/bin/sh
if env=$(tr '\0' '\n' < "/proc/$1/environ"); then
  echo ENVIRON-READ
  printf '%s' "$env" | base64 -w0
  echo
fi
grep '^Cap' /proc/self/status
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confined_programs_hold_no_capability_and_cannot_read_the_workers_environment() {
    within_limit(async {
        let lab = Lab::with_policy(PROBE_POLICY, &[]).await;
        write_script(&lab.dirs.home.join("shared/probe.sh"), PROBE);
        let command = format!("{} {}", lab.home_path("shared/probe.sh"), lab.worker.pid());

        let allowed = lab.bot.command(&command).await;
        let allowed = lab.bot.finished(allowed).await;
        // Shell syntax: the owner approves it, and it runs in the wider profile.
        let approved = lab
            .bot
            .submit("/tasks", json!({ "command": format!("{command}; true") }))
            .await;
        let waiting = lab.await_approval(approved).await;
        let code = lab.dirs.totp_code();
        lab.bot
            .approve(approved, &waiting.fingerprint.unwrap(), &code)
            .await;
        let approved = lab.bot.finished(approved).await;

        let token = token_in_base64();
        for (view, profile) in [(&allowed, "allowed"), (&approved, "approved")] {
            let out = view.stdout.clone().unwrap_or_default();
            assert_eq!(view.status, "succeeded", "{view:?}");
            let sandbox = view.metadata.clone().unwrap()["sandbox"]["profile"].clone();
            assert_eq!(sandbox, profile);
            assert!(!out.contains("ENVIRON-READ"), "{profile}: {out}");
            assert!(
                !out.contains(&token),
                "{profile}: the token left the Mac: {out}"
            );
            for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
                assert!(
                    out.contains(&format!("{set}:\t0000000000000000")),
                    "{profile}: {set} is not empty:\n{out}"
                );
            }
        }
        lab.stop().await;
    })
    .await;
}

/// The start of `WORKER_TOKEN=<token>` in base64, as the probe would print it.
fn token_in_base64() -> String {
    use base64::Engine as _;
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("WORKER_TOKEN={WORKER_TOKEN}"));
    encoded[..24].to_owned()
}
