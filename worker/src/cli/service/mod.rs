//! `openclaw-worker service install|uninstall|status`: the worker as a login service that
//! starts with the session and restarts whenever it exits, a LaunchAgent on macOS and a
//! systemd user unit on Linux. It runs this very binary (its real path) with the config
//! file found now; the service reads no environment, so the file must hold everything
//! (the token included), which `install` checks before it writes anything.
//!
//! # Layout
//! - this file: the commands, where the files go, what they print.
//! - [`render`]: the plist and the unit, as text (golden-tested on every platform).
//! - [`manager`]: `launchctl` / `systemctl --user`, and reading their status output.

pub mod manager;
pub mod render;

use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::Output;
use crate::config::{home_dir, Config};
use crate::files::{create_private_dirs, Durability};
pub use manager::{Manager, ServiceState};
pub use render::{ServiceSpec, LAUNCHD_LABEL, SYSTEMD_UNIT};

/// Slack past the drain the manager waits before it kills the worker on a stop.
const STOP_SLACK_SECS: u64 = 5;
/// The least time a stop gets for result delivery (the worker retries at least this long).
const MIN_DELIVERY_SECS: u64 = 10;

/// The `service` subcommands.
#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Install the worker as a login service (LaunchAgent / systemd user unit) and start it.
    Install {
        /// Write the service file but do not load or start it.
        #[arg(long)]
        no_start: bool,
        /// The service manager (default: this system's).
        #[arg(long, value_enum, hide = true)]
        manager: Option<Manager>,
    },
    /// Stop the service and remove its file. The worker's config and state stay.
    Uninstall {
        /// The service manager (default: this system's).
        #[arg(long, value_enum, hide = true)]
        manager: Option<Manager>,
    },
    /// Say whether the service is installed, loaded and running, and how it last ended.
    Status {
        /// The service manager (default: this system's).
        #[arg(long, value_enum, hide = true)]
        manager: Option<Manager>,
    },
}

/// Where a manager's files go for the user whose home is `home`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePaths {
    /// The plist or unit file.
    pub definition: PathBuf,
    /// Where the worker's output goes (launchd); the journal for systemd.
    pub log_file: PathBuf,
}

impl ServicePaths {
    /// The paths for `manager`; `xdg_config` is `$XDG_CONFIG_HOME` when set.
    pub fn for_home(manager: Manager, home: &Path, xdg_config: Option<&Path>) -> Self {
        let log_dir = home.join("Library/Logs/openclaw-worker");
        match manager {
            Manager::Launchd => Self {
                definition: home
                    .join("Library/LaunchAgents")
                    .join(format!("{LAUNCHD_LABEL}.plist")),
                log_file: log_dir.join("worker.log"),
            },
            Manager::Systemd => Self {
                definition: xdg_config
                    .map_or_else(|| home.join(".config"), Path::to_owned)
                    .join("systemd/user")
                    .join(SYSTEMD_UNIT),
                log_file: PathBuf::from("the journal"),
            },
        }
    }
}

/// Runs a `service` subcommand. `file` is the config file located as for `run`; `env` the
/// process environment.
pub fn run(command: ServiceCommand, file: Option<PathBuf>, env: &[(String, String)]) -> Output {
    let var = |key: &str| {
        env.iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let Some(home) = var("HOME").map(PathBuf::from).or_else(home_dir) else {
        return Output::failed(
            2,
            "openclaw-worker service: cannot find the home directory; set HOME\n".into(),
        );
    };
    let xdg = var("XDG_CONFIG_HOME").map(PathBuf::from);
    let pick = |manager: Option<Manager>| {
        let manager = manager.unwrap_or(Manager::CURRENT);
        (
            manager,
            ServicePaths::for_home(manager, &home, xdg.as_deref()),
        )
    };
    match command {
        ServiceCommand::Install { no_start, manager } => {
            let (manager, paths) = pick(manager);
            install(manager, &paths, file, var("PATH"), no_start)
        }
        ServiceCommand::Uninstall { manager } => {
            let (manager, paths) = pick(manager);
            uninstall(manager, &paths)
        }
        ServiceCommand::Status { manager } => {
            let (manager, paths) = pick(manager);
            status(manager, &paths)
        }
    }
}

fn install(
    manager: Manager,
    paths: &ServicePaths,
    file: Option<PathBuf>,
    path_env: Option<String>,
    no_start: bool,
) -> Output {
    let spec = match service_spec(file, path_env, paths) {
        Ok(spec) => spec,
        Err(why) => return Output::failed(2, format!("openclaw-worker service install: {why}\n")),
    };
    let text = match manager {
        Manager::Launchd => render::launch_agent(&spec),
        Manager::Systemd => render::systemd_unit(&spec),
    };
    if let Err(why) = write_definition(manager, paths, &text) {
        return Output::failed(2, format!("openclaw-worker service install: {why}\n"));
    }
    let mut out = format!(
        "Installed {}\n  runs    {} --config {} run\n",
        paths.definition.display(),
        spec.exe.display(),
        spec.config.display()
    );
    if no_start {
        let _ = writeln!(out, "Not started (--no-start).");
        return Output::ok(out);
    }
    match manager.start(&paths.definition.to_string_lossy()) {
        Ok(commands) => {
            let _ = writeln!(out, "Started ({}).", commands.join("; "));
        }
        Err(err) => {
            return Output::failed(
                1,
                format!("{out}The service file is written, but starting it failed: {err}\n"),
            )
        }
    }
    match manager {
        Manager::Launchd => {
            let _ = writeln!(out, "Logs: {}", spec.log_file.display());
        }
        Manager::Systemd => {
            let _ = writeln!(
                out,
                "Logs: journalctl --user -u {SYSTEMD_UNIT}\nTo keep it running while you \
                 are logged out: loginctl enable-linger $USER"
            );
        }
    }
    let _ = writeln!(out, "Check it with: openclaw-worker service status");
    Output::ok(out)
}

/// The spec for the binary running now and the config `file`, refused when that config
/// would not start a service: none, or one that needs the environment.
fn service_spec(
    file: Option<PathBuf>,
    path_env: Option<String>,
    paths: &ServicePaths,
) -> Result<ServiceSpec, String> {
    let file =
        file.ok_or("no config file: run `openclaw-worker init` first, or name one with --config")?;
    let config_path = std::fs::canonicalize(&file)
        .map_err(|err| format!("cannot read the config file {}: {err}", file.display()))?;
    // The service starts with no environment: the file alone must be a working config.
    let config = Config::load(Some(&config_path), Vec::new()).map_err(|err| {
        format!(
            "{err}\n(the service reads only {}, no environment variables: put every \
             setting the worker needs in that file)",
            config_path.display()
        )
    })?;
    if !config.policy_path.is_file() {
        return Err(format!(
            "no policy file at {}: run `openclaw-worker init` first",
            config.policy_path.display()
        ));
    }
    let exe = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|err| format!("cannot find this program's own path: {err}"))?;
    let spec = ServiceSpec {
        exe,
        config: config_path,
        path_env,
        log_file: paths.log_file.clone(),
        stop_timeout_secs: config.shutdown_grace_secs
            + config.shutdown_grace_secs.max(MIN_DELIVERY_SECS)
            + STOP_SLACK_SECS,
    };
    // A line break in a path would end the unit's line (or forge the next one).
    let unfit = [&spec.exe, &spec.config]
        .into_iter()
        .map(|p| p.to_string_lossy().into_owned())
        .chain(spec.path_env.clone())
        .find(|text| text.chars().any(char::is_control));
    match unfit {
        Some(text) => Err(format!("{text:?} holds a control character")),
        None => Ok(spec),
    }
}

/// Writes the definition (readable by the owner's manager; it holds no secret) and makes
/// launchd's log directory private.
fn write_definition(manager: Manager, paths: &ServicePaths, text: &str) -> Result<(), String> {
    let dir = paths.definition.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(dir)
        .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
    if manager == Manager::Launchd {
        if let Some(logs) = paths.log_file.parent() {
            create_private_dirs(logs)
                .map_err(|err| format!("cannot create {}: {err}", logs.display()))?;
        }
    }
    let written =
        crate::files::replace_private(&paths.definition, text.as_bytes(), Durability::Synced)
            .and_then(|()| {
                std::fs::set_permissions(&paths.definition, std::fs::Permissions::from_mode(0o644))
            });
    written.map_err(|err| format!("cannot write {}: {err}", paths.definition.display()))
}

fn uninstall(manager: Manager, paths: &ServicePaths) -> Output {
    if let Err(err) = manager.stop() {
        return Output::failed(1, format!("openclaw-worker service uninstall: {err}\n"));
    }
    let removed = match std::fs::remove_file(&paths.definition) {
        Ok(()) => true,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => false,
        Err(err) => {
            return Output::failed(
                2,
                format!("cannot remove {}: {err}\n", paths.definition.display()),
            )
        }
    };
    if let Err(err) = manager.reload() {
        return Output::failed(1, format!("openclaw-worker service uninstall: {err}\n"));
    }
    Output::ok(if removed {
        format!(
            "Stopped and removed {}. The worker's config and state are kept.\n",
            paths.definition.display()
        )
    } else {
        "The service was not installed.\n".to_owned()
    })
}

fn status(manager: Manager, paths: &ServicePaths) -> Output {
    let installed = paths.definition.is_file();
    let state = match manager.status() {
        Ok(state) => state,
        Err(err) => return Output::failed(2, format!("openclaw-worker service status: {err}\n")),
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "installed  {}",
        if installed {
            format!("yes ({})", paths.definition.display())
        } else {
            "no".to_owned()
        }
    );
    let _ = writeln!(
        out,
        "loaded     {}",
        if state.loaded { "yes" } else { "no" }
    );
    let _ = writeln!(
        out,
        "running    {}",
        match state.pid {
            Some(pid) => format!("yes (pid {pid}; {})", state.detail),
            None => format!("no ({})", state.detail),
        }
    );
    let _ = writeln!(
        out,
        "last exit  {}",
        state.last_exit.as_deref().unwrap_or("none yet")
    );
    // 0: running; 1: installed but not running (the worker refused to start, or was stopped).
    let code = u8::from(state.pid.is_none());
    Output {
        stdout: out,
        stderr: String::new(),
        code,
    }
}

#[cfg(test)]
mod tests;
