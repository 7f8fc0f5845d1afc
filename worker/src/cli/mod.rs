//! The command line: `run` (the default), `init`, `unlock`, `doctor`, `audit verify`,
//! `audit tail`, `service install|uninstall|status`, and the hidden `supervise`.
//! The local commands return their text and exit code; `main` prints them. They need no
//! server and no token: only the config's local paths. `doctor`'s checks are in
//! `doctor.rs`, the login service in [`service`].

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use secrecy::SecretString;

use crate::approval::secret_store::{platform_keychain, SecretLocation};
use crate::audit::{self, Head, GENESIS};
use crate::config::{self, Config, CONFIG_PATH_ENV};
use crate::files::{StateFiles, WorkerFiles};
use crate::init::{self, InitOptions};
use crate::policy::lock::WorkerLock;

mod doctor;
pub mod service;

/// Runs tasks from an OpenClaw bot on this machine, under a local policy.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// TOML config file (keys documented in config.example.toml). Default:
    /// ~/.config/openclaw-worker/config.toml when it exists.
    #[arg(long, value_name = "PATH", env = CONFIG_PATH_ENV, global = true)]
    pub config: Option<PathBuf>,
    /// What to do; `run` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the worker (the default).
    Run,
    /// Write a starter config and policy, generate the TOTP secret and show it as a QR code.
    Init {
        /// Where to write (default: ~/.config/openclaw-worker).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The bot's URL.
        #[arg(long, env = "WORKER_URL", default_value = "http://127.0.0.1:3456")]
        server_url: String,
        /// This worker's name (default: the host name).
        #[arg(long, env = "WORKER_NAME")]
        name: Option<String>,
    },
    /// Unlock a worker that locked itself after a task touched a canary path.
    Unlock,
    /// Check this worker without a server: policy, approvals, the kernel sandbox, what a
    /// task can reach, and a live self-test of the sandbox.
    Doctor,
    /// Check or show the tamper-evident audit log.
    Audit {
        /// Which audit command.
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Run the worker as a login service (macOS LaunchAgent, Linux systemd user unit).
    Service {
        /// Which service command.
        #[command(subcommand)]
        command: service::ServiceCommand,
    },
}

/// The `audit` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain and the head; on failure name the first bad line (exit 1).
    Verify {
        /// The head kept outside the Mac (the bot's latest `metadata.audit`), as COUNT:HASH.
        #[arg(long, value_name = "N:HASH")]
        head: Option<String>,
    },
    /// Print the last entries, oldest first.
    Tail {
        /// How many entries.
        #[arg(short = 'n', default_value_t = 20)]
        n: usize,
    },
}

/// What a local command prints, and how the process exits.
#[derive(Debug)]
pub struct Output {
    /// Text for stdout.
    pub stdout: String,
    /// Text for stderr.
    pub stderr: String,
    /// The exit code: 0 done, 1 the check failed, 2 the command could not run.
    pub code: u8,
}

impl Output {
    pub(crate) fn ok(stdout: String) -> Self {
        Self {
            stdout,
            stderr: String::new(),
            code: 0,
        }
    }

    pub(crate) fn failed(code: u8, stderr: String) -> Self {
        Self {
            stdout: String::new(),
            stderr,
            code,
        }
    }

    /// The exit code as the process returns it.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

/// Runs a local command (everything but `run`). `env` is the process environment.
pub fn run_local(command: Command, file: Option<PathBuf>, env: Vec<(String, String)>) -> Output {
    match command {
        Command::Run | Command::Doctor => Output::failed(
            2,
            "`run` and `doctor` are not synchronous local commands".into(),
        ),
        Command::Init {
            dir,
            server_url,
            name,
        } => init_files(dir, server_url, name, &env),
        Command::Unlock => with_config(file, env, unlock),
        Command::Audit { command } => with_config(file, env, |config| match command {
            AuditCommand::Verify { head } => verify(config, head.as_deref()),
            AuditCommand::Tail { n } => tail(config, n),
        }),
        Command::Service { command } => service::run(command, file, &env),
    }
}

/// Runs `openclaw-worker doctor` (async: its self-test runs confined children).
pub async fn doctor(file: Option<PathBuf>, env: Vec<(String, String)>) -> Output {
    match Config::load_local(file.as_deref(), env) {
        Ok(config) => doctor::run(&config).await,
        Err(err) => Output::failed(2, format!("openclaw-worker: {err}\n")),
    }
}

fn with_config(
    file: Option<PathBuf>,
    env: Vec<(String, String)>,
    run: impl FnOnce(&Config) -> Output,
) -> Output {
    match Config::load_local(file.as_deref(), env) {
        Ok(config) => run(&config),
        Err(err) => Output::failed(2, format!("openclaw-worker: {err}\n")),
    }
}

fn init_files(
    dir: Option<PathBuf>,
    server_url: String,
    name: Option<String>,
    env: &[(String, String)],
) -> Output {
    let from_env = |key: &str| {
        env.iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let token = from_env("OPENCLAW_WORKER_TOKEN").or_else(|| from_env("WORKER_TOKEN"));
    let options = InitOptions {
        dir: dir.unwrap_or_else(config::default_dir),
        server_url,
        worker_name: name.unwrap_or_else(|| Config::default().name),
        token: token.map(SecretString::from),
        keychain: platform_keychain(|key| from_env(key)).is_some(),
    };
    let report = match init::init(&options) {
        Ok(report) => report,
        Err(err) => return Output::failed(2, format!("openclaw-worker init: {err}\n")),
    };
    let files: &WorkerFiles = &report.files;
    let mut out = String::new();
    let _ = writeln!(out, "Wrote (all private to you):");
    let _ = writeln!(out, "  {}  the worker config", files.config().display());
    let _ = writeln!(
        out,
        "  {}  your policy: read it and adjust it",
        files.policy().display()
    );
    match &report.secret.location {
        SecretLocation::File(path) => {
            let _ = writeln!(out, "  {}  the TOTP secret", path.display());
        }
        item @ SecretLocation::Keychain { .. } => {
            let _ = writeln!(out, "The TOTP secret is in {item}.");
        }
    }
    if let Some(why) = &report.secret.keychain_failed {
        let _ = writeln!(
            out,
            "(Not in the login Keychain, which refused it: {why}. It is in the file above.)"
        );
    }
    let _ = writeln!(
        out,
        "\nScan this QR code with your authenticator app (shown only now):\n\n{}\n\
         or add this URI by hand:\n{}\n",
        report.qr, report.otpauth_uri
    );
    let _ = writeln!(
        out,
        "Approve a task with `/approve <fingerprint> <code>` in Discord (or POST \
         /tasks/:id/approve).\nStart the worker as a login service (restarted after a crash, \
         an upgrade or a reboot):\n  openclaw-worker --config {config} service install\n\
         or in this terminal:\n  openclaw-worker --config {config}",
        config = files.config().display()
    );
    Output::ok(out)
}

fn unlock(config: &Config) -> Output {
    let lock = WorkerLock::new(&config.state_dir);
    let info = lock.info();
    match lock.unlock() {
        Ok(true) => {
            let why = info.map_or_else(String::new, |i| {
                format!(" (it locked itself: {})", i.reason)
            });
            Output::ok(format!(
                "unlocked{why}; a running worker resumes claiming tasks within a second\n"
            ))
        }
        Ok(false) => Output::ok("the worker is not locked\n".into()),
        Err(err) => Output::failed(
            2,
            format!("cannot remove {}: {err}\n", lock.path().display()),
        ),
    }
}

/// Parses `COUNT:HASH` (the bot's `metadata.audit`).
pub fn parse_head(text: &str) -> Result<Head, String> {
    let (count, hash) = text
        .split_once(':')
        .ok_or_else(|| "expected COUNT:HASH".to_owned())?;
    let count = count
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("`{count}` is not an entry count"))?;
    let hash = hash.trim().to_ascii_lowercase();
    if hash.len() != GENESIS.len() || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("the hash must be 64 hex characters".to_owned());
    }
    Ok(Head {
        count,
        last_hash: hash,
    })
}

fn verify(config: &Config, head: Option<&str>) -> Output {
    let external = match head.map(parse_head).transpose() {
        Ok(external) => external,
        Err(why) => return Output::failed(2, format!("--head: {why}\n")),
    };
    let state = StateFiles::new(&config.state_dir);
    let log = state.audit_log();
    match audit::verify_files(&log, &state.audit_head(), external.as_ref()) {
        Ok(report) => Output::ok(format!("{}: {report}\n", log.display())),
        Err(err) => Output::failed(
            1,
            format!("audit log {} is BROKEN at {err}\n", log.display()),
        ),
    }
}

fn tail(config: &Config, n: usize) -> Output {
    let log = StateFiles::new(&config.state_dir).audit_log();
    match audit::tail(&log, n) {
        Ok(lines) => Output::ok(lines.iter().map(|l| format!("{l}\n")).collect()),
        Err(err) => Output::failed(2, format!("cannot read {}: {err}\n", log.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_from_count_and_hash() {
        let hash = "ab".repeat(32);

        let head = parse_head(&format!("12:{}", hash.to_uppercase())).unwrap();

        assert_eq!(head.count, 12);
        assert_eq!(head.last_hash, hash);
        assert!(parse_head("12").is_err());
        assert!(parse_head("x:00").is_err());
        assert!(parse_head(&format!("1:{}", "g".repeat(64))).is_err());
    }

    #[test]
    fn the_command_line_parses_every_subcommand() {
        let parse = |args: &[&str]| Cli::try_parse_from(args).map(|cli| cli.command);

        assert!(parse(&["w"]).unwrap().is_none());
        assert!(matches!(
            parse(&["w", "unlock"]).unwrap(),
            Some(Command::Unlock)
        ));
        assert!(matches!(
            parse(&["w", "doctor"]).unwrap(),
            Some(Command::Doctor)
        ));
        assert!(matches!(
            parse(&["w", "audit", "tail", "-n", "5"]).unwrap(),
            Some(Command::Audit {
                command: AuditCommand::Tail { n: 5 }
            })
        ));
        assert!(matches!(
            parse(&["w", "audit", "verify", "--head", "3:ab"]).unwrap(),
            Some(Command::Audit {
                command: AuditCommand::Verify { head: Some(_) }
            })
        ));
        assert!(parse(&["w", "audit"]).is_err());
        assert!(matches!(
            parse(&["w", "service", "install", "--no-start"]).unwrap(),
            Some(Command::Service {
                command: service::ServiceCommand::Install {
                    no_start: true,
                    manager: None
                }
            })
        ));
        assert!(matches!(
            parse(&["w", "service", "status", "--manager", "systemd"]).unwrap(),
            Some(Command::Service {
                command: service::ServiceCommand::Status {
                    manager: Some(service::Manager::Systemd)
                }
            })
        ));
    }
}
