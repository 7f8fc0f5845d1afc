//! `openclaw-worker service`, run as the owner would, in a home of its own, with stand-ins
//! for `launchctl` and `systemctl` on `PATH` that record how they were called (what a real
//! launchd or systemd then does with the files is not tested here: see the README).

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::helpers::{write_script, E2eDirs};

/// A home with a worker set up (`init`), its config completed with the token.
fn home_with_token() -> E2eDirs {
    let dirs = E2eDirs::new();
    dirs.init_worker_starter();
    let config = dirs.worker_dir().join("config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("token = \"{}\"\n", openclaw_e2e::WORKER_TOKEN));
    std::fs::write(&config, text).unwrap();
    dirs
}

/// Stand-ins for the service managers' tools in `dir/bin`, each appending its arguments
/// to `dir/calls`; `print` and `show` answer like a running service. Returns the `PATH`.
fn fake_managers(dir: &Path) -> OsString {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let calls = dir.join("calls");
    write_script(
        &bin.join("launchctl"),
        &format!(
            "#!/bin/sh\necho \"launchctl $*\" >> '{}'\n\
             if [ \"$1\" = print ]; then printf 'x = {{\\n\\tstate = running\\n\\tpid = 4242\\n\\tlast exit code = 0\\n}}\\n'; fi\n",
            calls.display()
        ),
    );
    write_script(
        &bin.join("systemctl"),
        &format!(
            "#!/bin/sh\necho \"systemctl $*\" >> '{}'\n\
             if [ \"$2\" = show ]; then printf 'LoadState=loaded\\nActiveState=active\\nSubState=running\\nMainPID=77\\nExecMainCode=0\\nExecMainStatus=0\\n'; fi\n",
            calls.display()
        ),
    );
    let mut path = OsString::from(&bin);
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    path
}

fn calls(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("calls")).unwrap_or_default()
}

fn worker_binary() -> PathBuf {
    std::fs::canonicalize(openclaw_e2e::worker_bin()).unwrap()
}

#[test]
fn install_refuses_a_config_the_service_could_not_start_with() {
    let dirs = E2eDirs::new();
    dirs.init_worker_starter();
    let tools = tempfile::tempdir().unwrap();
    let path = fake_managers(tools.path());

    // The token is in the environment only: a service started by launchd has none.
    let refused = dirs.cli_with(
        &["service", "install", "--manager", "launchd"],
        &[
            ("PATH", path.as_os_str()),
            ("WORKER_TOKEN", openclaw_e2e::WORKER_TOKEN.as_ref()),
        ],
    );

    assert_eq!(refused.code, Some(2), "{refused:?}");
    assert!(refused.stderr.contains("`token`"), "{refused:?}");
    assert!(refused.stderr.contains("no environment"), "{refused:?}");
    assert!(!dirs.home.join("Library").exists());
    assert_eq!(calls(tools.path()), "");
}

#[test]
fn a_launch_agent_is_installed_started_reported_and_removed() {
    let dirs = home_with_token();
    let tools = tempfile::tempdir().unwrap();
    let path = fake_managers(tools.path());
    let env = [("PATH", path.as_os_str())];
    let uid = nix::unistd::getuid();
    let plist = dirs
        .home
        .join("Library/LaunchAgents/dev.openclaw.worker.plist");

    let install = dirs.cli_with(&["service", "install", "--manager", "launchd"], &env);
    let written = std::fs::read_to_string(&plist).unwrap_or_default();
    let status = dirs.cli_with(&["service", "status", "--manager", "launchd"], &env);
    let uninstall = dirs.cli_with(&["service", "uninstall", "--manager", "launchd"], &env);

    assert_eq!(install.code, Some(0), "{install:?}");
    let config = std::fs::canonicalize(dirs.worker_dir().join("config.toml")).unwrap();
    assert!(
        written.contains(&format!(
            "<string>{}</string>\n    <string>--config</string>\n    <string>{}</string>\n    <string>run</string>",
            worker_binary().display(),
            config.display()
        )),
        "{written}"
    );
    assert!(
        !written.contains(openclaw_e2e::WORKER_TOKEN),
        "no secret in the plist"
    );
    let logs = dirs.home.join("Library/Logs/openclaw-worker");
    assert_eq!(
        std::fs::metadata(&logs).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let target = format!("gui/{uid}/dev.openclaw.worker");
    let made = calls(tools.path());
    assert!(
        made.starts_with(&format!(
            "launchctl bootout {target}\nlaunchctl bootstrap gui/{uid} {}\nlaunchctl enable {target}\n",
            plist.display()
        )),
        "{made}"
    );
    assert_eq!(status.code, Some(0), "{status:?}");
    assert!(
        status.stdout.contains("running    yes (pid 4242; running)"),
        "{status:?}"
    );
    assert!(
        status.stdout.contains("last exit  exit code 0"),
        "{status:?}"
    );
    assert_eq!(uninstall.code, Some(0), "{uninstall:?}");
    assert!(!plist.exists());
    assert!(calls(tools.path()).ends_with(&format!("launchctl bootout {target}\n")));
    assert!(
        dirs.worker_dir().join("config.toml").exists(),
        "config kept"
    );
}

#[test]
fn a_systemd_user_unit_is_installed_enabled_and_started_unless_told_not_to() {
    let dirs = home_with_token();
    let tools = tempfile::tempdir().unwrap();
    let path = fake_managers(tools.path());
    let env = [("PATH", path.as_os_str())];
    let unit = dirs
        .home
        .join(".config/systemd/user/openclaw-worker.service");

    let written_only = dirs.cli_with(
        &["service", "install", "--no-start", "--manager", "systemd"],
        &env,
    );
    let calls_after_no_start = calls(tools.path());
    let install = dirs.cli_with(&["service", "install", "--manager", "systemd"], &env);
    let text = std::fs::read_to_string(&unit).unwrap();

    assert_eq!(written_only.code, Some(0), "{written_only:?}");
    assert_eq!(calls_after_no_start, "");
    assert_eq!(install.code, Some(0), "{install:?}");
    assert!(
        text.contains(&format!(
            "ExecStart=\"{}\" \"--config\"",
            worker_binary().display()
        )),
        "{text}"
    );
    assert!(text.contains("KillMode=process"), "{text}");
    assert_eq!(
        calls(tools.path()),
        "systemctl --user daemon-reload\n\
         systemctl --user enable openclaw-worker.service\n\
         systemctl --user restart openclaw-worker.service\n"
    );
}
