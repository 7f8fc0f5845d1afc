//! Golden tests of both service definitions (on every platform), systemd's own check of the
//! unit where it can run, where the files go, and reading the managers' status output.

use std::path::{Path, PathBuf};

use super::manager::{parse_launchctl_print, parse_systemctl_show};
use super::*;

fn spec() -> ServiceSpec {
    ServiceSpec {
        exe: PathBuf::from("/Users/me/bin/openclaw-worker"),
        config: PathBuf::from("/Users/me/.config/openclaw-worker/config.toml"),
        path_env: Some("/opt/homebrew/bin:/usr/bin:/bin".to_owned()),
        log_file: PathBuf::from("/Users/me/Library/Logs/openclaw-worker/worker.log"),
        stop_timeout_secs: 65,
    }
}

#[test]
fn the_launch_agent_runs_this_binary_at_login_and_keeps_it_alive() {
    let expected = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>dev.openclaw.worker</string>
  <key>ProgramArguments</key>
  <array>
    <string>/Users/me/bin/openclaw-worker</string>
    <string>--config</string>
    <string>/Users/me/.config/openclaw-worker/config.toml</string>
    <string>run</string>
  </array>
  <key>EnvironmentVariables</key>
  <dict>
    <key>PATH</key>
    <string>/opt/homebrew/bin:/usr/bin:/bin</string>
  </dict>
  <key>RunAtLoad</key>
  <true/>
  <key>KeepAlive</key>
  <true/>
  <key>ThrottleInterval</key>
  <integer>10</integer>
  <key>ExitTimeOut</key>
  <integer>65</integer>
  <key>AbandonProcessGroup</key>
  <true/>
  <key>ProcessType</key>
  <string>Standard</string>
  <key>StandardOutPath</key>
  <string>/Users/me/Library/Logs/openclaw-worker/worker.log</string>
  <key>StandardErrorPath</key>
  <string>/Users/me/Library/Logs/openclaw-worker/worker.log</string>
</dict>
</plist>
"#;

    assert_eq!(render::launch_agent(&spec()), expected);
}

#[test]
fn the_systemd_unit_restarts_the_worker_and_signals_it_alone() {
    let expected = r#"[Unit]
Description=OpenClaw worker: runs tasks from an OpenClaw bot under a local policy

[Service]
Type=exec
ExecStart="/Users/me/bin/openclaw-worker" "--config" "/Users/me/.config/openclaw-worker/config.toml" "run"
Environment="PATH=/opt/homebrew/bin:/usr/bin:/bin"
Restart=always
RestartSec=10
KillMode=process
TimeoutStopSec=65

[Install]
WantedBy=default.target
"#;

    assert_eq!(render::systemd_unit(&spec()), expected);
}

#[test]
fn odd_characters_in_paths_stay_literal_in_both_files() {
    let odd = ServiceSpec {
        config: PathBuf::from("/Users/me/A & B/100% \"$HOME\" <cfg>.toml"),
        path_env: None,
        ..spec()
    };

    let plist = render::launch_agent(&odd);
    let unit = render::systemd_unit(&odd);

    assert!(
        plist.contains(
            "<string>/Users/me/A &amp; B/100% &quot;$HOME&quot; &lt;cfg&gt;.toml</string>"
        ),
        "{plist}"
    );
    assert!(!plist.contains("EnvironmentVariables"));
    assert!(
        unit.contains(r#""/Users/me/A & B/100%% \"$$HOME\" <cfg>.toml" "run""#),
        "{unit}"
    );
    assert!(!unit.contains("Environment="));
}

#[cfg(target_os = "linux")]
#[test]
fn systemd_accepts_the_unit_without_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join(SYSTEMD_UNIT);
    let runnable = ServiceSpec {
        // systemd checks that the program exists and is executable.
        exe: PathBuf::from("/bin/true"),
        ..spec()
    };
    std::fs::write(&unit, render::systemd_unit(&runnable)).unwrap();

    let verified = std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .output();

    let output = match verified {
        Ok(output) => output,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            // The one check this machine cannot make; the golden test above still holds.
            eprintln!(
                "SKIPPED: systemd-analyze is not installed (apt-get install systemd); the \
                 unit was not verified by systemd"
            );
            return;
        }
        Err(err) => panic!("cannot run systemd-analyze: {err}"),
    };
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{said}");
    // It only warns about keys it ignores, and still exits 0.
    assert!(
        said.trim().is_empty(),
        "systemd-analyze verify said: {said}"
    );
}

#[test]
fn the_launch_agent_is_a_well_formed_property_list() {
    let dir = tempfile::tempdir().unwrap();
    let plist = dir.path().join("agent.plist");
    std::fs::write(&plist, render::launch_agent(&spec())).unwrap();
    // `plutil` on a Mac; Python's plistlib (the same format rules) elsewhere.
    let check = "import plistlib, sys\n\
                 p = plistlib.load(open(sys.argv[1], 'rb'))\n\
                 assert p['Label'] == 'dev.openclaw.worker'\n\
                 assert p['ProgramArguments'][1:] == ['--config', \
                 '/Users/me/.config/openclaw-worker/config.toml', 'run']\n\
                 assert p['KeepAlive'] is True and p['RunAtLoad'] is True\n\
                 assert p['ThrottleInterval'] == 10 and p['ExitTimeOut'] == 65\n";

    let linted = if cfg!(target_os = "macos") {
        std::process::Command::new("plutil")
            .arg("-lint")
            .arg(&plist)
            .output()
    } else {
        std::process::Command::new("python3")
            .args(["-c", check])
            .arg(&plist)
            .output()
    };

    let output = match linted {
        Ok(output) => output,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("SKIPPED: neither plutil nor python3 is installed; the plist was not parsed");
            return;
        }
        Err(err) => panic!("cannot check the plist: {err}"),
    };
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_files_go_where_each_manager_looks_for_them() {
    let home = Path::new("/home/me");

    let launchd = ServicePaths::for_home(Manager::Launchd, home, None);
    let systemd = ServicePaths::for_home(Manager::Systemd, home, None);
    let xdg = ServicePaths::for_home(Manager::Systemd, home, Some(Path::new("/cfg")));

    assert_eq!(
        launchd.definition,
        Path::new("/home/me/Library/LaunchAgents/dev.openclaw.worker.plist")
    );
    assert_eq!(
        launchd.log_file,
        Path::new("/home/me/Library/Logs/openclaw-worker/worker.log")
    );
    assert_eq!(
        systemd.definition,
        Path::new("/home/me/.config/systemd/user/openclaw-worker.service")
    );
    assert_eq!(
        xdg.definition,
        Path::new("/cfg/systemd/user/openclaw-worker.service")
    );
}

#[test]
fn launchctl_print_says_whether_it_runs_and_how_it_last_ended() {
    let running = "gui/501/dev.openclaw.worker = {\n\tactive count = 1\n\tpath = /Users/me/Library/LaunchAgents/dev.openclaw.worker.plist\n\ttype = LaunchAgent\n\tstate = running\n\n\tprogram = /Users/me/bin/openclaw-worker\n\tpid = 4242\n\tlast exit code = 0\n\tenvironment = {\n\t\tPATH => /usr/bin\n\t}\n}\n";
    let waiting = "gui/501/dev.openclaw.worker = {\n\tstate = not running\n\tlast exit code = 78: EX_CONFIG\n}\n";
    let fresh = "gui/501/dev.openclaw.worker = {\n\tstate = running\n\tpid = 7\n\tlast exit code = (never exited)\n}\n";

    let running = parse_launchctl_print(running);
    let waiting = parse_launchctl_print(waiting);
    let fresh = parse_launchctl_print(fresh);

    assert!(running.loaded);
    assert_eq!(running.pid, Some(4242));
    assert_eq!(running.last_exit.as_deref(), Some("exit code 0"));
    assert_eq!(running.detail, "running");
    assert_eq!(waiting.pid, None);
    assert_eq!(waiting.last_exit.as_deref(), Some("78: EX_CONFIG"));
    assert_eq!(waiting.detail, "not running");
    assert_eq!(fresh.last_exit.as_deref(), Some("never exited"));
}

#[test]
fn systemctl_show_says_whether_it_runs_and_how_it_last_ended() {
    let running = "LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=99\nExecMainCode=0\nExecMainStatus=0\n";
    let restarting = "LoadState=loaded\nActiveState=activating\nSubState=auto-restart\nMainPID=0\nExecMainCode=1\nExecMainStatus=2\n";
    let killed = "LoadState=loaded\nActiveState=failed\nSubState=failed\nMainPID=0\nExecMainCode=2\nExecMainStatus=9\n";
    let absent = "LoadState=not-found\nActiveState=inactive\nSubState=dead\nMainPID=0\n";

    let running = parse_systemctl_show(running);
    let restarting = parse_systemctl_show(restarting);
    let killed = parse_systemctl_show(killed);
    let absent = parse_systemctl_show(absent);

    assert_eq!(running.pid, Some(99));
    assert_eq!(running.detail, "active (running)");
    assert_eq!(running.last_exit, None);
    assert_eq!(restarting.pid, None);
    assert_eq!(restarting.last_exit.as_deref(), Some("exit code 2"));
    assert_eq!(killed.last_exit.as_deref(), Some("killed by signal 9"));
    assert!(!absent.loaded);
    assert_eq!(absent.detail, "not loaded");
}
