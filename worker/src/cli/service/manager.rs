//! Talking to the service manager: `launchctl` (macOS) or `systemctl --user` (Linux), found
//! in `PATH` and run as the owner would run them, and what their status output means.

use std::process::Command;

use super::render::{LAUNCHD_LABEL, SYSTEMD_UNIT};

/// The service managers the worker installs itself into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Manager {
    /// launchd, through `launchctl` (macOS): a LaunchAgent in the user's GUI session.
    Launchd,
    /// systemd's user manager, through `systemctl --user` (Linux).
    Systemd,
}

impl Manager {
    /// This operating system's manager.
    pub const CURRENT: Manager = if cfg!(target_os = "macos") {
        Manager::Launchd
    } else {
        Manager::Systemd
    };
}

/// One manager command that failed.
#[derive(Debug, thiserror::Error)]
#[error("`{command}` failed: {why}")]
pub struct ManagerError {
    /// The command line, for the owner to run by hand.
    pub command: String,
    /// What it said, or why it could not run.
    pub why: String,
}

/// What the manager says about the service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceState {
    /// The manager knows the service (bootstrapped, or the unit file loaded).
    pub loaded: bool,
    /// Its process id, while it runs.
    pub pid: Option<u32>,
    /// How its last run ended, in the manager's words (`exit code 0`, `never exited`).
    pub last_exit: Option<String>,
    /// The manager's own word for the state (`running`, `active (running)`, `failed`).
    pub detail: String,
}

/// The `gui/<uid>` domain of this user's login session, where LaunchAgents live.
fn gui_domain() -> String {
    format!("gui/{}", nix::unistd::getuid())
}

/// Runs `program args…`; its stdout, or why it failed (its stderr, or its absence).
fn run(program: &str, args: &[&str]) -> Result<String, ManagerError> {
    let command = format!("{program} {}", args.join(" "));
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|err| ManagerError {
            command: command.clone(),
            why: format!("cannot run it: {err}"),
        })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let said = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        Err(ManagerError {
            command,
            why: if said.is_empty() {
                output.status.to_string()
            } else {
                said
            },
        })
    }
}

impl Manager {
    /// Loads and starts the service defined in `file`, replacing a running one (so a new
    /// binary or config takes effect). Returns the commands run.
    pub fn start(self, file: &str) -> Result<Vec<String>, ManagerError> {
        match self {
            Manager::Launchd => {
                let domain = gui_domain();
                let target = format!("{domain}/{LAUNCHD_LABEL}");
                // Not loaded yet is fine: this only makes room for the new definition.
                let _ = run("launchctl", &["bootout", &target]);
                run("launchctl", &["bootstrap", &domain, file])?;
                // A service disabled by an earlier `launchctl disable` would not start.
                run("launchctl", &["enable", &target])?;
                Ok(vec![format!("launchctl bootstrap {domain} {file}")])
            }
            Manager::Systemd => {
                run("systemctl", &["--user", "daemon-reload"])?;
                run("systemctl", &["--user", "enable", SYSTEMD_UNIT])?;
                // `restart` starts it when stopped, and restarts it on a new definition.
                run("systemctl", &["--user", "restart", SYSTEMD_UNIT])?;
                Ok(vec![format!(
                    "systemctl --user enable --now {SYSTEMD_UNIT}"
                )])
            }
        }
    }

    /// Stops the service and unloads it (before its file is removed). A service that is
    /// not loaded is no error.
    pub fn stop(self) -> Result<(), ManagerError> {
        match self {
            Manager::Launchd => {
                let target = format!("{}/{LAUNCHD_LABEL}", gui_domain());
                match run("launchctl", &["bootout", &target]) {
                    Ok(_) => Ok(()),
                    // launchctl says "No such process" (or exit 3) for a label not loaded.
                    Err(err) if !self.status()?.loaded => {
                        tracing::debug!(error = %err, "the service was not loaded");
                        Ok(())
                    }
                    Err(err) => Err(err),
                }
            }
            Manager::Systemd => {
                run("systemctl", &["--user", "disable", "--now", SYSTEMD_UNIT]).map(drop)
            }
        }
    }

    /// Tells the manager its unit files changed (systemd only).
    pub fn reload(self) -> Result<(), ManagerError> {
        match self {
            Manager::Launchd => Ok(()),
            Manager::Systemd => run("systemctl", &["--user", "daemon-reload"]).map(drop),
        }
    }

    /// What the manager says about the service now.
    pub fn status(self) -> Result<ServiceState, ManagerError> {
        match self {
            Manager::Launchd => {
                let target = format!("{}/{LAUNCHD_LABEL}", gui_domain());
                match run("launchctl", &["print", &target]) {
                    Ok(text) => Ok(parse_launchctl_print(&text)),
                    // `print` fails for a service launchd does not know.
                    Err(err) if err.why.starts_with("cannot run") => Err(err),
                    Err(_) => Ok(ServiceState {
                        detail: "not loaded".to_owned(),
                        ..ServiceState::default()
                    }),
                }
            }
            Manager::Systemd => {
                let text = run(
                    "systemctl",
                    &[
                        "--user",
                        "show",
                        SYSTEMD_UNIT,
                        "--property=LoadState,ActiveState,SubState,MainPID,ExecMainCode,ExecMainStatus",
                    ],
                )?;
                Ok(parse_systemctl_show(&text))
            }
        }
    }
}

/// The state in `launchctl print gui/<uid>/<label>`'s output: its `state = …`, `pid = …`
/// and `last exit code = …` lines (the first of each: nested sections repeat some).
pub fn parse_launchctl_print(text: &str) -> ServiceState {
    let field = |name: &str| {
        text.lines().find_map(|line| {
            let (key, value) = line.trim().split_once(" = ")?;
            (key == name).then(|| value.trim().to_owned())
        })
    };
    ServiceState {
        loaded: true,
        pid: field("pid").and_then(|pid| pid.parse().ok()),
        last_exit: field("last exit code").map(|code| match code.parse::<i32>() {
            Ok(code) => format!("exit code {code}"),
            Err(_) => code.trim_matches(|c| c == '(' || c == ')').to_owned(),
        }),
        detail: field("state").unwrap_or_else(|| "unknown".to_owned()),
    }
}

/// The state in `systemctl --user show <unit> --property=…`'s `Key=value` lines.
pub fn parse_systemctl_show(text: &str) -> ServiceState {
    let field = |name: &str| {
        text.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key == name).then(|| value.trim().to_owned())
        })
    };
    let loaded = field("LoadState").is_some_and(|state| state == "loaded");
    let active = field("ActiveState").unwrap_or_default();
    let sub = field("SubState").unwrap_or_default();
    let pid = field("MainPID")
        .and_then(|pid| pid.parse::<u32>().ok())
        .filter(|&pid| pid != 0);
    // `ExecMainCode` is 0 before the first exit, then 1 (exited) or 2 (killed) and so on.
    let last_exit = match (field("ExecMainCode").as_deref(), field("ExecMainStatus")) {
        (Some("0") | None, _) => None,
        (Some("1"), Some(status)) => Some(format!("exit code {status}")),
        (Some(_), Some(status)) => Some(format!("killed by signal {status}")),
        (Some(_), None) => None,
    };
    ServiceState {
        loaded,
        pid,
        last_exit,
        detail: if loaded {
            format!("{active} ({sub})")
        } else {
            "not loaded".to_owned()
        },
    }
}
