//! The worker side of the attack suite (issue 4). Each test plays an attacker who controls
//! what reaches the Mac — a prompt-injected agent, a stolen client token, or the bot process
//! and its database — against the real bot and the real worker binary in the attack lab
//! ([`Lab`](crate::helpers::Lab)), and asserts that the attack fails AND that nothing ran or
//! changed on disk: the whole fake home (its files, contents and mtimes) is compared before
//! and after. The server side (forged results, tokens, oversized bodies) is in the bot's own
//! tests (`bot/tests/it/attacks.rs`).
//!
//! # Layout
//! - [`paths`]: `..`, symlinks, deny paths spelled differently.
//! - [`commands`]: shell syntax and inline evaluation smuggled past allow rules.
//! - [`approvals`]: replayed codes, codes for another fingerprint, expiry.
//! - [`egress`]: redaction, the child environment, screenshots, canaries, the audit log.
//! - [`git`]: the two criticals of issue 7 — a planted repository and `git diff --no-index`.
//! - [`sandbox`]: allowed and approved programs that misbehave, stopped by the kernel.
//! - [`races`]: a sandboxed program swapping directories under the worker's own file I/O.
//! - [`privileges`]: a worker run as root hands its tasks no capability.

mod approvals;
mod commands;
mod egress;
mod git;
mod paths;
mod privileges;
mod races;
mod sandbox;
