//! The fixture the check tests share: a fake home in a temp directory with fake programs
//! in a private search path.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use openclaw_shared::{ContentEncoding, TaskSpec};

use crate::policy::check::check;
use crate::policy::{CheckEnv, Decision, Policy, Verdict};

/// A fake home (`.ssh`, `Projects/app`, `Downloads/openclaw`, `Other`), fake programs in
/// `bin`, the default policy searching only `bin`, and `~/Projects` as the default cwd.
pub struct Fixture {
    _dir: tempfile::TempDir,
    pub home: PathBuf,
    pub bin: PathBuf,
    pub policy: Policy,
    pub env: CheckEnv,
}

/// Makes `path` an executable shell script.
pub fn executable(path: &Path) {
    std::fs::write(path, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

impl Fixture {
    /// Builds the fake home.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let home = root.join("home");
        let bin = root.join("bin");
        for sub in [".ssh", "Projects/app", "Downloads/openclaw", "Other"] {
            std::fs::create_dir_all(home.join(sub)).unwrap();
        }
        std::fs::write(home.join(".ssh/id_rsa"), "PRIVATE").unwrap();
        std::fs::write(home.join("Projects/notes.txt"), "notes").unwrap();
        std::fs::write(home.join("Projects/app/.env"), "KEY=1").unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        for name in [
            "ls",
            "git",
            "date",
            "sh",
            "bash",
            "python3",
            "node",
            "osascript",
            "sudo",
            "env",
            "find",
            "cat",
            "security",
        ] {
            executable(&bin.join(name));
        }
        let mut policy = Policy::default();
        policy.commands.path = vec![bin.to_string_lossy().into_owned()];
        let env = CheckEnv {
            home: home.clone(),
            default_cwd: home.join("Projects"),
            path: Vec::new(),
        };
        Self {
            _dir: dir,
            home,
            bin,
            policy,
            env,
        }
    }

    /// Checks any task.
    pub fn check(&self, spec: TaskSpec) -> Decision {
        check(&self.policy, &spec, &self.env)
    }

    /// Checks a command in the default cwd.
    pub fn run(&self, command: &str) -> Decision {
        self.check(TaskSpec::Command {
            command: command.into(),
            cwd: None,
        })
    }

    /// Checks a command in `cwd`.
    pub fn run_in(&self, command: &str, cwd: &Path) -> Decision {
        self.check(TaskSpec::Command {
            command: command.into(),
            cwd: Some(cwd.to_string_lossy().into_owned()),
        })
    }

    /// Checks an edit of one occurrence (or all) of `old` into `new`.
    pub fn edit(&self, path: &str, old: &str, new: &str, replace_all: bool) -> Decision {
        self.check(TaskSpec::FileEdit {
            path: path.into(),
            old_string: old.into(),
            new_string: new.into(),
            replace_all,
        })
    }

    /// Checks a read.
    pub fn read(&self, path: &str) -> Decision {
        self.check(TaskSpec::FileRead { path: path.into() })
    }

    /// Checks a UTF-8 write.
    pub fn write(&self, path: &str, content: &str) -> Decision {
        self.check(TaskSpec::FileWrite {
            path: path.into(),
            content: content.into(),
            encoding: ContentEncoding::Utf8,
        })
    }
}

/// Asserts the verdict and that the rule starts with `rule_prefix`.
pub fn assert_verdict(decision: &Decision, verdict: Verdict, rule_prefix: &str) {
    assert_eq!(decision.verdict, verdict, "{decision:?}");
    assert!(decision.rule.starts_with(rule_prefix), "{decision:?}");
}
