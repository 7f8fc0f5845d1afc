//! The approval fingerprint: 8 base32 characters naming the exact task the worker will
//! run, so the owner approves *that* task and nothing else.
//!
//! SHA-256 over a canonical encoding: a domain tag, then every field as an 8-byte
//! big-endian length followed by its bytes, lists as a count then their items, optional
//! fields as a presence byte. No two different tasks encode to the same bytes.

use std::fmt;
use std::path::{Path, PathBuf};

use data_encoding::BASE32_NOPAD;
use openclaw_shared::task::AgentSession;
use openclaw_shared::{ContentEncoding, TaskId, TaskSpec};
use sha2::{Digest, Sha256};

use crate::agents::AgentConfig;
use crate::policy::{Exec, Plan};
use crate::sandbox::{Access, SandboxSpec, Tree};

/// Number of characters in a fingerprint (40 bits: a collision needs ~10^12 tries, and an
/// attacker gets one try per approval).
pub const FINGERPRINT_LEN: usize = 8;

/// Domain separation, so these hashes never collide with another use of SHA-256.
/// v2: adds the timeout, the plan's environment and sandbox, the shell and the Claude flags.
const DOMAIN: &[u8] = b"openclaw-approval-fingerprint-v2";

/// An approval fingerprint: 8 characters of the RFC 4648 base32 alphabet (`A-Z2-7`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(String);

/// A string that is not a fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a fingerprint is {FINGERPRINT_LEN} characters of A-Z and 2-7")]
pub struct BadFingerprint;

impl Fingerprint {
    /// Parses what the owner typed: surrounding blanks ignored, case-insensitive.
    pub fn parse(text: &str) -> Result<Self, BadFingerprint> {
        let text = text.trim().to_ascii_uppercase();
        let valid = text.len() == FINGERPRINT_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b));
        valid.then_some(Self(text)).ok_or(BadFingerprint)
    }

    /// The fingerprint as shown to the owner.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Length-prefixed field writer over a SHA-256 state.
struct Canonical(Sha256);

impl Canonical {
    fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.update((bytes.len() as u64).to_be_bytes());
        self.0.update(bytes);
        self
    }

    fn text(&mut self, text: &str) -> &mut Self {
        self.bytes(text.as_bytes())
    }

    fn path(&mut self, path: &Path) -> &mut Self {
        self.bytes(path.as_os_str().as_encoded_bytes())
    }

    fn digest_of(&mut self, bytes: &[u8]) -> &mut Self {
        self.bytes(&Sha256::digest(bytes))
    }

    fn optional<T: ?Sized>(
        &mut self,
        value: Option<&T>,
        write: impl FnOnce(&mut Self, &T),
    ) -> &mut Self {
        match value {
            None => self.bytes(&[0]),
            Some(v) => {
                self.bytes(&[1]);
                write(self, v);
                self
            }
        }
    }

    fn count(&mut self, n: usize) -> &mut Self {
        self.bytes(&(n as u64).to_be_bytes())
    }

    fn flag(&mut self, on: bool) -> &mut Self {
        self.bytes(&[u8::from(on)])
    }

    fn list(&mut self, items: &[String]) -> &mut Self {
        self.count(items.len());
        for item in items {
            self.text(item);
        }
        self
    }

    fn paths(&mut self, paths: &[PathBuf]) -> &mut Self {
        self.count(paths.len());
        for path in paths {
            self.path(path);
        }
        self
    }
}

/// Everything that decides what an approved task does, as the worker will run it. The
/// fingerprint covers every field, and the approval text shows every one, so the owner
/// approves exactly this and nothing else can change under the approval.
#[derive(Debug, Clone, Copy)]
pub struct ApprovalSubject<'a> {
    /// The task's id (a fingerprint never carries over to another task).
    pub task_id: TaskId,
    /// This worker's name.
    pub worker: &'a str,
    /// The task as sent.
    pub spec: &'a TaskSpec,
    /// The task as the policy resolved it: program, argv, cwd, paths, content hash, extra
    /// environment, kernel sandbox.
    pub plan: &'a Plan,
    /// How long the task may run, as sent (the executor bounds it further).
    pub timeout_ms: u64,
    /// The shell argv prefix a shell-syntax command goes through.
    pub shell: &'a [String],
    /// The Claude CLI program a Claude task runs.
    pub claude_bin: &'a str,
    /// The arguments the worker adds to every Claude run (config and policy flags).
    pub claude_args: &'a [String],
    /// The worker-config agent an `agent` task names, if the worker has it: its program and
    /// the argv its template makes are what the owner approves.
    pub agent: Option<&'a AgentConfig>,
}

/// The fingerprint of `subject`: the task as sent, the plan it was resolved into (argv,
/// program, cwd, paths, content hash, extra environment, the whole sandbox spec), its
/// timeout, and what the worker adds around it (the shell for shell syntax; the CLI and
/// its flags for Claude).
pub fn fingerprint(subject: &ApprovalSubject<'_>) -> Fingerprint {
    let mut c = Canonical(Sha256::new());
    let spec = subject.spec;
    c.bytes(DOMAIN)
        .bytes(subject.task_id.0.as_bytes())
        .text(subject.worker)
        .text(spec.kind().as_str())
        .bytes(&subject.timeout_ms.to_be_bytes());
    task_fields(&mut c, spec);
    plan_fields(&mut c, subject.plan);
    if matches!(subject.plan.exec, Some(Exec::Shell { .. })) {
        c.list(subject.shell);
    }
    if matches!(spec, TaskSpec::Claude { .. }) {
        c.text(subject.claude_bin).list(subject.claude_args);
    }
    if let TaskSpec::Agent {
        prompt, session, ..
    } = spec
    {
        c.optional(subject.agent, |c, agent| {
            let argv = agent.argv(prompt, session.as_ref()).unwrap_or_default();
            c.text(&agent.bin).list(&argv);
        });
    }
    let digest = c.0.finalize();
    Fingerprint(BASE32_NOPAD.encode(&digest[..5]))
}

/// The task as sent, field by field.
fn task_fields(c: &mut Canonical, spec: &TaskSpec) {
    match spec {
        TaskSpec::Command { command, cwd } => {
            c.text(command).optional(cwd.as_deref(), |c, v| {
                c.text(v);
            });
        }
        TaskSpec::FileRead { path } => {
            c.text(path);
        }
        TaskSpec::FileWrite {
            path,
            content,
            encoding,
        } => {
            let encoding = match encoding {
                ContentEncoding::Utf8 => "utf8",
                ContentEncoding::Base64 => "base64",
            };
            c.text(path).text(encoding).digest_of(content.as_bytes());
        }
        TaskSpec::FileEdit {
            path,
            old_string,
            new_string,
            replace_all,
        } => {
            c.text(path)
                .digest_of(old_string.as_bytes())
                .digest_of(new_string.as_bytes())
                .flag(*replace_all);
        }
        TaskSpec::Claude {
            prompt,
            session,
            cwd,
        } => {
            c.text(prompt);
            session_fields(c, session.as_ref());
            c.optional(cwd.as_deref(), |c, v| {
                c.text(v);
            });
        }
        TaskSpec::Agent {
            agent,
            prompt,
            session,
            cwd,
        } => {
            c.text(agent).text(prompt);
            session_fields(c, session.as_ref());
            c.optional(cwd.as_deref(), |c, v| {
                c.text(v);
            });
        }
    }
}

/// An agent session: its id and whether the task starts it (an approval to continue a
/// conversation is not one to start another under the same id, nor the other way round).
fn session_fields(c: &mut Canonical, session: Option<&AgentSession>) {
    c.optional(session, |c, session| {
        c.text(&session.id).flag(session.new);
    });
}

/// The plan, every field. Destructured in full so a field added to [`Plan`] does not
/// compile until it is either covered here or deliberately left out.
fn plan_fields(c: &mut Canonical, plan: &Plan) {
    let Plan {
        exec,
        cwd,
        paths,
        content_sha256,
        env,
        sandbox,
    } = plan;
    c.optional(exec.as_ref(), |c, exec| match exec {
        Exec::Direct { program, argv } => {
            c.text("direct").path(program).list(argv);
        }
        Exec::Shell { command } => {
            c.text("shell").text(command);
        }
    });
    c.optional(cwd.as_deref(), |c, v| {
        c.path(v);
    });
    c.paths(paths);
    c.optional(content_sha256.as_ref(), |c, v| {
        c.bytes(v);
    });
    c.count(env.len());
    for (name, value) in env {
        c.text(name).text(value);
    }
    c.optional(sandbox.as_ref(), sandbox_fields);
}

/// The sandbox spec, every field (destructured in full, as [`plan_fields`]).
fn sandbox_fields(c: &mut Canonical, spec: &SandboxSpec) {
    let SandboxSpec {
        profile,
        trees,
        hidden,
        hidden_patterns,
        read_only,
        read_only_patterns,
        network,
        tmpdir,
    } = spec;
    c.text(profile.as_str()).count(trees.len());
    for Tree { path, access } in trees {
        let access = match access {
            Access::Read => "read",
            Access::ReadExec => "read_exec",
            Access::ReadWrite => "read_write",
            Access::Full => "full",
        };
        c.path(path).text(access);
    }
    c.paths(hidden)
        .list(hidden_patterns)
        .paths(read_only)
        .list(read_only_patterns)
        .flag(*network)
        .path(tmpdir);
}

#[cfg(test)]
mod tests;
