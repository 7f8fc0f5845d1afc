//! Configuration errors name their key: in-process through the layered loader, and through
//! the real binary, whose environment each test sets from scratch.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use figment::providers::{Format, Toml};
use figment::Figment;
use openclaw_bot::config::ConfigError;
use openclaw_bot::Config;

use crate::helpers::{bot_binary, within, KillOnDrop};

fn load_toml(text: &str) -> Result<Config, ConfigError> {
    Config::from_figment(Figment::from(Toml::string(text)))
}

#[test]
fn an_invalid_value_in_toml_names_its_key() {
    let cases = [
        ("[http]\nbind = \"not an address\"", "http.bind"),
        ("[http]\nbindd = \"127.0.0.1:1\"", "bindd"),
        ("[queue]\nlease_ttl_secs = 0", "queue.lease_ttl_secs"),
        ("[queue]\ntask_ttl_secs = -5", "queue.task_ttl_secs"),
        (
            "[http]\nrequest_timeout_secs = 30",
            "http.request_timeout_secs",
        ),
        ("[http]\nbody_limit_bytes = 1024", "http.body_limit_bytes"),
        ("[auth]\nclient_token = \"\"", "auth.client_token"),
        ("[auth]\nadmin_token = \"has space\"", "auth.admin_token"),
        (
            "[discord]\napi_base = \"http://127.0.0.1:9/api/v10\"",
            "discord.api_base",
        ),
        ("[discord]\nguild_ids = [\"general\"]", "discord.guild_ids"),
        ("[nonsense]\nx = 1", "nonsense"),
    ];

    for (toml, key) in cases {
        let err = load_toml(toml).unwrap_err().to_string();
        assert!(err.contains(key), "{toml:?}: {err:?} does not name {key}");
    }
}

#[test]
fn a_complete_toml_file_is_read_into_every_section() {
    let config = load_toml(
        r#"
        [http]
        bind = "0.0.0.0:8080"
        [storage]
        data_dir = "/var/lib/openclaw"
        [queue]
        task_ttl_secs = 60
        [limits]
        max_command_bytes = 100
        [auth]
        worker_token = "oc_worker_cfg_Tq7Wm2Xk9Rb4Vn6Ls1Hd8Jf3"
        [discord]
        token = ""
        guild_ids = [1, 2]
        allowed_user_ids = [3]
        api_base = "http://127.0.0.1:9000"
        "#,
    )
    .unwrap();

    assert_eq!(config.http.bind.to_string(), "0.0.0.0:8080");
    assert_eq!(config.storage.data_dir, Path::new("/var/lib/openclaw"));
    assert_eq!(config.queue.task_ttl_secs, 60);
    assert_eq!(
        config.queue.lease_ttl_secs, 60,
        "unset keys keep their default"
    );
    assert_eq!(config.limits.max_command_bytes, 100);
    assert!(config.auth.worker_token.is_some());
    // An empty Discord token means "Discord disabled", as in a `.env` template.
    assert!(config.discord.token.is_none());
    assert_eq!(config.discord.guild_ids, [1, 2]);
    assert_eq!(config.discord.allowed_user_ids, [3]);
}

#[test]
fn the_bot_section_of_config_example_toml_is_valid_and_shows_the_defaults() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../config.example.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let start = text
        .find("# ---- openclaw-bot ----")
        .expect("no bot section");
    let section = &text[start..];
    let section = section
        .find("# ---- openclaw-worker ----")
        .map_or(section, |end| &section[..end]);

    let example = load_toml(section).unwrap();

    let defaults = Config::default();
    assert_eq!(format!("{example:?}"), format!("{defaults:?}"));
}

#[test]
fn the_binary_refuses_a_bad_env_value_and_names_the_variable() {
    let dir = tempfile::tempdir().unwrap();

    let out = bot_binary(
        dir.path(),
        &[],
        &[("OPENCLAW_QUEUE__LEASE_TTL_SECS", "soon")],
    )
    .output()
    .unwrap();

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("OPENCLAW_QUEUE__LEASE_TTL_SECS"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "nothing is created before the config is valid"
    );
}

#[test]
fn the_binary_refuses_a_missing_or_invalid_config_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[limits]\nmax_path_bytes = 0\n",
    )
    .unwrap();

    let missing = bot_binary(dir.path(), &["--config", "nope.toml"], &[])
        .output()
        .unwrap();
    let invalid = bot_binary(dir.path(), &[], &[("OPENCLAW_CONFIG", "bad.toml")])
        .output()
        .unwrap();

    let missing_err = String::from_utf8_lossy(&missing.stderr);
    let invalid_err = String::from_utf8_lossy(&invalid.stderr);
    assert!(!missing.status.success());
    assert!(missing_err.contains("nope.toml"), "{missing_err}");
    assert!(!invalid.status.success());
    assert!(
        invalid_err.contains("limits.max_path_bytes"),
        "{invalid_err}"
    );
}

#[tokio::test]
async fn the_binary_starts_with_zero_config_keeps_its_tokens_out_of_the_log_and_stops_on_sigterm() {
    within(async {
        let dir = tempfile::tempdir().unwrap();
        // Port 0 is the only change from zero config: tests may run side by side.
        let mut child = KillOnDrop(
            bot_binary(dir.path(), &[], &[("OPENCLAW_HTTP__BIND", "127.0.0.1:0")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        // Logs (stdout) and stderr, as a service manager collects them, until the bot is
        // ready; keep draining both afterwards.
        let (lines, logged) = std::sync::mpsc::channel();
        for pipe in [
            Box::new(child.0.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.0.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let _ = lines.send(line);
                }
            });
        }
        let mut log = String::new();
        let addr = loop {
            // Blocking is fine here: the bot is another process, nothing else runs on this
            // test's runtime meanwhile.
            let line = logged
                .recv_timeout(std::time::Duration::from_secs(10))
                .unwrap();
            log.push_str(&line);
            log.push('\n');
            if let Some(at) = line.find("addr=") {
                if line.contains("openclaw-bot ready") {
                    break line[at + 5..].split_whitespace().next().unwrap().to_owned();
                }
            }
        };
        let health = reqwest::get(format!("http://{addr}/health")).await.unwrap();
        let status = health.status();
        Command::new("kill")
            .args(["-TERM", &child.0.id().to_string()])
            .status()
            .unwrap();
        let exit = tokio::task::spawn_blocking(move || child.0.wait())
            .await
            .unwrap()
            .unwrap();
        log.extend(logged.try_iter().map(|line| line + "\n"));

        assert_eq!(status, reqwest::StatusCode::OK);
        for role in ["oc_client_", "oc_worker_", "oc_admin_"] {
            assert!(!log.contains(role), "a token reached the log: {log}");
        }
        assert!(log.contains("openclaw-bot tokens show"), "{log}");
        assert!(dir.path().join("data/openclaw.sqlite3").exists());
        assert!(dir.path().join("data/tokens.toml").exists());
        assert!(exit.success(), "{exit:?}");
    })
    .await
}
