//! The service definitions, rendered as text: a launchd LaunchAgent (macOS) and a systemd
//! user unit (Linux). Pure functions of a [`ServiceSpec`], so both are pinned by golden
//! tests on every platform.

use std::path::{Path, PathBuf};

/// The launchd label, and the plist's name under `~/Library/LaunchAgents`.
pub const LAUNCHD_LABEL: &str = "dev.openclaw.worker";
/// The systemd unit's name under `~/.config/systemd/user`.
pub const SYSTEMD_UNIT: &str = "openclaw-worker.service";
/// Seconds between two starts, however fast the worker exits: a worker that refuses to
/// start (an insecure policy, a broken audit log) says why once per interval in its log,
/// instead of spinning.
pub const RESTART_THROTTLE_SECS: u64 = 10;

/// What a service definition says: which binary runs with which config, and how long a
/// stop may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    /// The worker binary, canonical (the real file, not a link that an upgrade moves).
    pub exe: PathBuf,
    /// The config file the service runs with (the service reads no environment).
    pub config: PathBuf,
    /// `PATH` for the worker, as the installing shell had it: launchd and systemd start
    /// services with a minimal one, and programs (Claude, Homebrew's tools) are looked up
    /// in it. `None` leaves the manager's default.
    pub path_env: Option<String>,
    /// Where launchd writes the worker's output (systemd uses the journal).
    pub log_file: PathBuf,
    /// How long a stop may take before the manager kills the worker: the drain (running
    /// tasks' grace, then result delivery) and some slack.
    pub stop_timeout_secs: u64,
}

impl ServiceSpec {
    /// The worker's command line: `<exe> --config <config> run`.
    fn argv(&self) -> Vec<String> {
        vec![
            lossy(&self.exe),
            "--config".to_owned(),
            lossy(&self.config),
            "run".to_owned(),
        ]
    }
}

fn lossy(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The LaunchAgent plist: started at login (`RunAtLoad`) and whenever it exits
/// (`KeepAlive`), at most every [`RESTART_THROTTLE_SECS`], output to `log_file`.
///
/// `AbandonProcessGroup`: when the worker exits, launchd would kill what is left of its
/// process group; each task's supervisor has left it already (its own session), and this
/// says so twice, so that a crash or an upgrade never takes a running task with it. The
/// process type stays `Standard`: `Background` would throttle the CPU and I/O of every task
/// the worker runs, too.
pub fn launch_agent(spec: &ServiceSpec) -> String {
    let mut plist = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \
         \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n<dict>\n",
    );
    let mut key = |name: &str, value: String| {
        plist.push_str(&format!("  <key>{name}</key>\n{value}"));
    };
    key("Label", format!("  <string>{LAUNCHD_LABEL}</string>\n"));
    let args: String = spec
        .argv()
        .iter()
        .map(|arg| format!("    <string>{}</string>\n", xml_escape(arg)))
        .collect();
    key("ProgramArguments", format!("  <array>\n{args}  </array>\n"));
    if let Some(path) = &spec.path_env {
        key(
            "EnvironmentVariables",
            format!(
                "  <dict>\n    <key>PATH</key>\n    <string>{}</string>\n  </dict>\n",
                xml_escape(path)
            ),
        );
    }
    key("RunAtLoad", "  <true/>\n".to_owned());
    key("KeepAlive", "  <true/>\n".to_owned());
    key(
        "ThrottleInterval",
        format!("  <integer>{RESTART_THROTTLE_SECS}</integer>\n"),
    );
    key(
        "ExitTimeOut",
        format!("  <integer>{}</integer>\n", spec.stop_timeout_secs),
    );
    key("AbandonProcessGroup", "  <true/>\n".to_owned());
    key("ProcessType", "  <string>Standard</string>\n".to_owned());
    let log = xml_escape(&lossy(&spec.log_file));
    key("StandardOutPath", format!("  <string>{log}</string>\n"));
    key("StandardErrorPath", format!("  <string>{log}</string>\n"));
    plist.push_str("</dict>\n</plist>\n");
    plist
}

/// The systemd user unit: started with the user's session (`default.target`), restarted
/// whenever it exits, at most every [`RESTART_THROTTLE_SECS`].
///
/// `KillMode=process`: a stop or a restart signals the worker alone, which drains; each
/// task's supervisor stays (systemd would otherwise kill the whole control group, the
/// tasks with it, on a crash or an upgrade), and the next worker re-adopts it.
pub fn systemd_unit(spec: &ServiceSpec) -> String {
    let exec: Vec<String> = spec.argv().iter().map(|arg| systemd_quote(arg)).collect();
    let mut unit = String::from(
        "[Unit]\n\
         Description=OpenClaw worker: runs tasks from an OpenClaw bot under a local policy\n\
         \n\
         [Service]\n\
         Type=exec\n",
    );
    unit.push_str(&format!("ExecStart={}\n", exec.join(" ")));
    if let Some(path) = &spec.path_env {
        unit.push_str(&format!(
            "Environment={}\n",
            systemd_quote(&format!("PATH={path}"))
        ));
    }
    unit.push_str(&format!(
        "Restart=always\n\
         RestartSec={RESTART_THROTTLE_SECS}\n\
         KillMode=process\n\
         TimeoutStopSec={}\n\
         \n\
         [Install]\n\
         WantedBy=default.target\n",
        spec.stop_timeout_secs
    ));
    unit
}

/// `text` safe inside a plist `<string>`.
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// `arg` as one word of a systemd command line or assignment: double-quoted, with `\` and
/// `"` escaped, and `%` (specifiers) and `$` (variables) doubled so they stay literal.
fn systemd_quote(arg: &str) -> String {
    let escaped = arg
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "%%")
        .replace('$', "$$");
    format!("\"{escaped}\"")
}
