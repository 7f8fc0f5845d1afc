//! The approval fingerprint: 8 base32 characters naming the exact task the worker will
//! run, so the owner approves *that* task and nothing else.
//!
//! SHA-256 over a canonical encoding: a domain tag, then every field as an 8-byte
//! big-endian length followed by its bytes, lists as a count then their items, optional
//! fields as a presence byte. No two different tasks encode to the same bytes.

use std::fmt;
use std::path::Path;

use data_encoding::BASE32_NOPAD;
use openclaw_shared::{ContentEncoding, TaskId, TaskSpec};
use sha2::{Digest, Sha256};

use crate::policy::{Exec, Plan};

/// Number of characters in a fingerprint (40 bits: a collision needs ~10^12 tries, and an
/// attacker gets one try per approval).
pub const FINGERPRINT_LEN: usize = 8;

/// Domain separation, so these hashes never collide with another use of SHA-256.
const DOMAIN: &[u8] = b"openclaw-approval-fingerprint-v1";

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
}

/// The fingerprint of `spec`, claimed as `task_id` by the worker `worker`, as resolved by
/// the policy into `plan` (argv, program, cwd, paths, content hash).
pub fn fingerprint(task_id: TaskId, worker: &str, spec: &TaskSpec, plan: &Plan) -> Fingerprint {
    let mut c = Canonical(Sha256::new());
    c.bytes(DOMAIN)
        .bytes(task_id.0.as_bytes())
        .text(worker)
        .text(spec.kind().as_str());
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
                .bytes(&[u8::from(*replace_all)]);
        }
        TaskSpec::Claude {
            prompt,
            session_id,
            cwd,
        } => {
            c.text(prompt)
                .optional(session_id.as_deref(), |c, v| {
                    c.text(v);
                })
                .optional(cwd.as_deref(), |c, v| {
                    c.text(v);
                });
        }
    }
    c.optional(plan.exec.as_ref(), |c, exec| match exec {
        Exec::Direct { program, argv } => {
            c.text("direct").path(program).count(argv.len());
            for arg in argv {
                c.text(arg);
            }
        }
        Exec::Shell { command } => {
            c.text("shell").text(command);
        }
    });
    c.optional(plan.cwd.as_deref(), |c, v| {
        c.path(v);
    });
    c.count(plan.paths.len());
    for path in &plan.paths {
        c.path(path);
    }
    c.optional(plan.content_sha256.as_ref(), |c, v| {
        c.bytes(v);
    });
    let digest = c.0.finalize();
    Fingerprint(BASE32_NOPAD.encode(&digest[..5]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn command(text: &str) -> TaskSpec {
        TaskSpec::Command {
            command: text.into(),
            cwd: None,
        }
    }

    fn id() -> TaskId {
        "6f1c1a8e-7a51-4c3e-9f67-1d2f0a6b8c11".parse().unwrap()
    }

    #[test]
    fn fingerprint_is_eight_base32_characters_and_stable() {
        let fp = fingerprint(id(), "mac", &command("ls"), &Plan::default());

        assert_eq!(fp.as_str().len(), FINGERPRINT_LEN);
        assert_eq!(Fingerprint::parse(fp.as_str()), Ok(fp.clone()));
        assert_eq!(
            fp,
            fingerprint(id(), "mac", &command("ls"), &Plan::default())
        );
    }

    #[test]
    fn every_input_changes_the_fingerprint() {
        let base = fingerprint(id(), "mac", &command("ls"), &Plan::default());
        let with_exec = Plan {
            exec: Some(Exec::Direct {
                program: "/bin/ls".into(),
                argv: vec!["ls".into()],
            }),
            ..Plan::default()
        };
        let other_program = Plan {
            exec: Some(Exec::Direct {
                program: "/tmp/ls".into(),
                argv: vec!["ls".into()],
            }),
            ..Plan::default()
        };
        let with_cwd = Plan {
            cwd: Some(PathBuf::from("/tmp")),
            ..Plan::default()
        };
        let with_hash = Plan {
            content_sha256: Some([7; 32]),
            ..Plan::default()
        };

        let variants = [
            fingerprint(TaskId::new(), "mac", &command("ls"), &Plan::default()),
            fingerprint(id(), "mac2", &command("ls"), &Plan::default()),
            fingerprint(id(), "mac", &command("ls "), &Plan::default()),
            fingerprint(
                id(),
                "mac",
                &TaskSpec::Command {
                    command: "ls".into(),
                    cwd: Some("/".into()),
                },
                &Plan::default(),
            ),
            fingerprint(id(), "mac", &command("ls"), &with_exec),
            fingerprint(id(), "mac", &command("ls"), &other_program),
            fingerprint(id(), "mac", &command("ls"), &with_cwd),
            fingerprint(id(), "mac", &command("ls"), &with_hash),
            fingerprint(
                id(),
                "mac",
                &TaskSpec::FileRead { path: "ls".into() },
                &Plan::default(),
            ),
        ];

        for (i, variant) in variants.iter().enumerate() {
            assert_ne!(variant, &base, "variant {i}");
        }
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        // "ab" + "c" and "a" + "bc" would collide under plain concatenation.
        let a = fingerprint(id(), "ab", &command("c"), &Plan::default());
        let b = fingerprint(id(), "a", &command("bc"), &Plan::default());
        let argv_a = Plan {
            exec: Some(Exec::Direct {
                program: "/bin/echo".into(),
                argv: vec!["a b".into()],
            }),
            ..Plan::default()
        };
        let argv_b = Plan {
            exec: Some(Exec::Direct {
                program: "/bin/echo".into(),
                argv: vec!["a".into(), "b".into()],
            }),
            ..Plan::default()
        };

        assert_ne!(a, b);
        assert_ne!(
            fingerprint(id(), "m", &command("echo"), &argv_a),
            fingerprint(id(), "m", &command("echo"), &argv_b)
        );
    }

    #[test]
    fn write_content_is_covered() {
        let write = |content: &str| TaskSpec::FileWrite {
            path: "/tmp/x".into(),
            content: content.into(),
            encoding: ContentEncoding::Utf8,
        };

        assert_ne!(
            fingerprint(id(), "m", &write("safe"), &Plan::default()),
            fingerprint(id(), "m", &write("evil"), &Plan::default())
        );
    }

    #[test]
    fn typed_fingerprints_parse_case_insensitively_and_bad_ones_do_not() {
        assert_eq!(
            Fingerprint::parse(" abcd2345 ").unwrap().as_str(),
            "ABCD2345"
        );
        for bad in [
            "",
            "ABCD234",
            "ABCD23456",
            "ABCD2341",
            "ABCD-345",
            "ÄBCD2345",
        ] {
            assert_eq!(Fingerprint::parse(bad), Err(BadFingerprint), "{bad}");
        }
    }
}
