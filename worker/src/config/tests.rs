//! Tests of loading and validating the worker configuration.

use std::io::Write;

use openclaw_shared::worker::is_valid_worker_name;
use secrecy::ExposeSecret;

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn toml_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

#[test]
fn defaults_plus_token_are_valid() {
    let config = Config::load(None, env(&[("WORKER_TOKEN", "oc_worker_x")])).unwrap();

    assert_eq!(config.server_url, "http://127.0.0.1:3456");
    assert_eq!(config.max_concurrent, 3);
    assert_eq!(config.poll_wait_secs, 25);
    assert_eq!(config.token.expose_secret(), "oc_worker_x");
    assert!(is_valid_worker_name(&config.name));
}

#[test]
fn missing_token_is_refused_with_a_hint() {
    let err = Config::load(None, env(&[])).unwrap_err().to_string();

    assert!(err.contains("`token`"), "{err}");
    assert!(err.contains("WORKER_TOKEN"), "{err}");
}

#[test]
fn env_overrides_file_and_prefixed_names_win_over_original_ones() {
    let file = toml_file("max_concurrent = 5\nname = \"from-file\"\ntoken = \"t1\"\n");

    let config = Config::load(
        Some(file.path()),
        env(&[
            ("MAX_CONCURRENT", "7"),
            ("WORKER_NAME", "orig"),
            ("OPENCLAW_WORKER_NAME", "prefixed"),
            ("OPENCLAW_WORKER_CONFIG", "/ignored.toml"),
            ("OPENCLAW_WORKER_SHELL", "[\"/bin/bash\", \"-c\"]"),
        ]),
    )
    .unwrap();

    assert_eq!(config.max_concurrent, 7);
    assert_eq!(config.name, "prefixed");
    assert_eq!(config.shell, ["/bin/bash", "-c"]);
    assert_eq!(config.token.expose_secret(), "t1");
}

#[test]
fn numeric_looking_token_stays_a_string() {
    let config = Config::load(None, env(&[("WORKER_TOKEN", "12345")])).unwrap();

    assert_eq!(config.token.expose_secret(), "12345");
}

#[test]
fn unknown_key_in_file_is_refused_naming_it() {
    let file = toml_file("token = \"t\"\nmax_concurent = 2\n");

    let err = Config::load(Some(file.path()), env(&[]))
        .unwrap_err()
        .to_string();

    assert!(err.contains("max_concurent"), "{err}");
}

#[test]
fn invalid_values_name_their_key() {
    let cases = [
        ("OPENCLAW_WORKER_MAX_CONCURRENT", "0", "max_concurrent"),
        ("OPENCLAW_WORKER_POLL_WAIT_SECS", "31", "poll_wait_secs"),
        ("OPENCLAW_WORKER_SERVER_URL", "ftp://x", "server_url"),
        ("OPENCLAW_WORKER_NAME", "has space", "name"),
        ("OPENCLAW_WORKER_SHELL", "[]", "shell"),
        ("OPENCLAW_WORKER_DEFAULT_CWD", "/no/such/dir", "default_cwd"),
        ("OPENCLAW_WORKER_MAX_OUTPUT_BYTES", "0", "max_output_bytes"),
        (
            "OPENCLAW_WORKER_LIVE_OUTPUT_INTERVAL_MS",
            "50",
            "live_output_interval_ms",
        ),
        (
            "OPENCLAW_WORKER_HEARTBEAT_INTERVAL_SECS",
            "x",
            "heartbeat_interval_secs",
        ),
    ];
    for (var, value, key) in cases {
        let err = Config::load(None, env(&[("WORKER_TOKEN", "t"), (var, value)]))
            .unwrap_err()
            .to_string();
        assert!(err.contains(key), "{var}={value}: {err}");
    }
}

#[test]
fn missing_config_file_is_an_error_not_defaults() {
    let err = Config::load(Some(Path::new("/no/such/worker.toml")), env(&[]))
        .unwrap_err()
        .to_string();

    assert!(err.contains("/no/such/worker.toml"), "{err}");
}

#[test]
fn debug_output_hides_the_token() {
    let config = Config::load(None, env(&[("WORKER_TOKEN", "sekrit-token")])).unwrap();

    assert!(!format!("{config:?}").contains("sekrit-token"));
}

#[test]
fn tilde_expands_only_for_the_current_user() {
    let home = Some(PathBuf::from("/home/me"));

    assert_eq!(expand_tilde("~", home.clone()), PathBuf::from("/home/me"));
    assert_eq!(
        expand_tilde("~/a/b", home.clone()),
        PathBuf::from("/home/me/a/b")
    );
    assert_eq!(
        expand_tilde("~bob/a", home.clone()),
        PathBuf::from("~bob/a")
    );
    assert_eq!(expand_tilde("/abs", home), PathBuf::from("/abs"));
}

#[test]
fn agents_are_tables_whose_tier_defaults_to_approve() {
    let file = toml_file(
        "token = \"t\"\n[agents.codex]\nbin = \"codex\"\n\
         args = [\"exec\", \"{session}\", \"--\", \"{prompt}\"]\n\
         resume_session = [\"resume\", \"{id}\"]\n",
    );

    let config = Config::load(Some(file.path()), env(&[])).unwrap();

    let codex = &config.agents["codex"];
    assert_eq!(codex.tier, crate::policy::Verdict::Approve);
    assert!(codex.network);
    assert!(codex.new_session.is_empty());
}

#[test]
fn an_agent_whose_template_could_splice_the_prompt_is_refused_by_key() {
    let file = toml_file(
        "token = \"t\"\n[agents.codex]\nbin = \"codex\"\nargs = [\"--prompt={prompt}\"]\n",
    );

    let err = Config::load(Some(file.path()), env(&[]))
        .unwrap_err()
        .to_string();

    assert!(err.contains("`agents`"), "{err}");
    assert!(err.contains("agents.codex.args"), "{err}");
}
