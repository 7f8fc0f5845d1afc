//! Tests of git's discovery, conditions and hardening. The hardening tests run the real
//! `git` on real repositories whose config names programs, and check that the hardened
//! command runs none of them while the plain one does (so the attack is real).

use super::*;
use std::process::{Command, Output};

use crate::policy::Policy;

/// A home with a read root `~/Projects` holding a repository `app` with one commit, and a
/// write root `~/Downloads/openclaw`.
struct Lab {
    _dir: tempfile::TempDir,
    home: PathBuf,
    repo: PathBuf,
    roots: Roots,
}

fn git(cwd: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(cwd)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("these tests need git installed");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| (*w).to_owned()).collect()
}

impl Lab {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = std::fs::canonicalize(dir.path()).unwrap();
        let repo = home.join("Projects/app");
        std::fs::create_dir_all(repo.join("src")).unwrap();
        std::fs::create_dir_all(home.join("Downloads/openclaw")).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        std::fs::write(repo.join("src/f.txt"), "one\n").unwrap();
        std::fs::write(repo.join(".gitattributes"), "*.txt diff=evil\n").unwrap();
        git(&repo, &["add", "."]);
        git(
            &repo,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-q",
                "-m",
                "one",
            ],
        );
        std::fs::write(repo.join("src/f.txt"), "two\n").unwrap();
        let mut policy = Policy::default();
        policy.paths.read_roots = vec!["~/Projects".into()];
        let roots = Roots::new(&policy, &home);
        Self {
            _dir: dir,
            home,
            repo,
            roots,
        }
    }

    /// Adds `key = value` to the repository's own config.
    fn configure(&self, key: &str, value: &str) {
        git(&self.repo, &["config", key, value]);
    }

    fn harden(&self, argv: &[&str], cwd: &Path) -> Result<Hardened, String> {
        harden(&words(argv), cwd, &self.home, &self.roots)
    }

    fn marker(&self) -> PathBuf {
        self.home.join("ran")
    }

    /// Runs a command as the executor would: the allowlisted environment plus `env`.
    fn spawn(&self, argv: &[String], env: &[(String, String)], cwd: &Path) -> Output {
        Command::new("git")
            .args(&argv[1..])
            .current_dir(cwd)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap()
    }

    /// Runs the hardened form of `argv`; returns its output and whether the marker appeared.
    fn run_hardened(&self, argv: &[&str]) -> (Output, bool) {
        let hardened = self.harden(argv, &self.repo.join("src")).unwrap();
        let out = self.spawn(&hardened.argv, &hardened.env, &self.repo.join("src"));
        (out, self.marker().exists())
    }

    /// Runs `argv` as typed, without hardening; returns whether the marker appeared.
    fn run_plain(&self, argv: &[&str]) -> bool {
        let _ = self.spawn(&words(argv), &[], &self.repo.join("src"));
        let ran = self.marker().exists();
        let _ = std::fs::remove_file(self.marker());
        ran
    }
}

#[test]
fn hardened_git_status_does_not_run_the_repositorys_fsmonitor() {
    let lab = Lab::new();
    let touch = format!("touch {}; false", lab.marker().display());
    lab.configure("core.fsmonitor", &touch);

    let plain = lab.run_plain(&["git", "status"]);
    let (out, hardened) = lab.run_hardened(&["git", "status"]);

    assert!(plain, "the attack must work on a plain git");
    assert!(out.status.success(), "{out:?}");
    assert!(!hardened);
}

#[test]
fn hardened_git_diff_runs_no_external_diff_driver_or_text_conversion() {
    let lab = Lab::new();
    let touch = format!("touch {}; true", lab.marker().display());
    lab.configure("diff.evil.command", &touch);
    lab.configure("diff.evil.textconv", &format!("{touch}; cat"));

    let plain = lab.run_plain(&["git", "diff"]);
    let (diff, diff_ran) = lab.run_hardened(&["git", "diff"]);
    let (log, log_ran) = lab.run_hardened(&["git", "log", "-p"]);

    assert!(plain, "the attack must work on a plain git");
    assert!(diff.status.success(), "{diff:?}");
    assert!(String::from_utf8_lossy(&diff.stdout).contains("+two"));
    assert!(!diff_ran);
    assert!(log.status.success(), "{log:?}");
    assert!(!log_ran);
}

/// Makes HEAD a commit that carries a (made-up) signature, so that showing signatures
/// runs the configured verification program.
fn sign_head(repo: &Path) {
    let read = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(repo)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let tree = read(&["rev-parse", "HEAD^{tree}"]);
    let commit = format!(
        "tree {tree}\nauthor t <t@t> 0 +0000\ncommitter t <t@t> 0 +0000\ngpgsig \
         -----BEGIN PGP SIGNATURE-----\n \n abc\n -----END PGP SIGNATURE-----\n\nsigned\n"
    );
    let path = repo.join(".git/signed-commit");
    std::fs::write(&path, commit).unwrap();
    let sha = read(&["hash-object", "-t", "commit", "-w", &path.to_string_lossy()]);
    git(repo, &["update-ref", "HEAD", &sha]);
}

#[test]
fn hardened_git_log_runs_no_signature_program() {
    let lab = Lab::new();
    sign_head(&lab.repo);
    let program = lab.home.join("verify");
    let script = format!("#!/bin/sh\ntouch {}\nexit 1\n", lab.marker().display());
    std::fs::write(&program, script).unwrap();
    std::fs::set_permissions(
        &program,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    lab.configure("gpg.program", &program.to_string_lossy());

    let plain = lab.run_plain(&["git", "log", "--format=%G?"]);
    let (out, ran) = lab.run_hardened(&["git", "log", "--format=%G?"]);

    assert!(plain, "the attack must work on a plain git");
    assert!(out.status.success(), "{out:?}");
    assert!(!ran);
}

#[test]
fn git_accepts_the_hardened_form_of_every_default_subcommand() {
    let lab = Lab::new();

    for argv in [
        &["git", "status", "-s"][..],
        &["git", "log", "--oneline", "-n", "5"],
        &["git", "diff", "--stat", "HEAD"],
        &["git", "branch", "-a"],
        &["git", "show", "HEAD"],
        &["git", "diff-tree", "-p", "HEAD"],
    ] {
        let (out, _) = lab.run_hardened(argv);
        assert!(out.status.success(), "{argv:?}: {out:?}");
    }
}

#[test]
fn a_dot_git_file_a_bare_repository_or_no_repository_is_not_discovered() {
    let lab = Lab::new();
    let linked = lab.home.join("Projects/linked");
    std::fs::create_dir_all(&linked).unwrap();
    std::fs::write(linked.join(".git"), "gitdir: ../app/.git").unwrap();
    let bare = lab.home.join("Projects/bare.git");
    git(
        &lab.home.join("Projects"),
        &["init", "-q", "--bare", "bare.git"],
    );

    assert_eq!(
        discover(&lab.repo.join("src")).unwrap(),
        Repository {
            git_dir: lab.repo.join(".git"),
            work_tree: lab.repo.clone(),
        }
    );
    assert!(discover(&linked).unwrap_err().contains("not a directory"));
    assert!(discover(&bare.join("refs")).unwrap_err().contains("bare"));
    assert!(discover(&lab.home.join("Downloads"))
        .unwrap_err()
        .contains("not inside"));
}

#[test]
fn git_with_a_path_outside_the_work_tree_is_not_hardened_but_refused() {
    let lab = Lab::new();
    let src = lab.repo.join("src");
    let outside = lab.home.join("Downloads/openclaw").display().to_string();

    let refused = lab.harden(&["git", "diff", "f.txt", &outside], &src);
    let above = lab.harden(&["git", "diff", "../..", "f.txt"], &src);
    let inside = lab.harden(&["git", "diff", "f.txt", "../.gitattributes"], &src);

    assert!(refused.unwrap_err().contains("outside the work tree"));
    assert!(above.unwrap_err().contains("outside the work tree"));
    assert!(inside.is_ok());
}

#[test]
fn abbreviated_program_options_are_refused() {
    for arg in [
        "--ext",
        "--ext-diff",
        "--textconv",
        "--no-ind",
        "--output=x",
        "--exec=x",
        "-nO",
    ] {
        assert!(is_refused(arg), "{arg}");
    }
    for arg in [
        "--no-ext-diff",
        "--no-textconv",
        "--oneline",
        "-n",
        "--stat",
        "--",
        "-p",
    ] {
        assert!(!is_refused(arg), "{arg}");
    }
}
