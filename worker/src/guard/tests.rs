//! Tests of the guard: refusing unsafe setups, the canary lock, the worker's own files,
//! and redaction of every output form.

use std::os::unix::fs::PermissionsExt;

use openclaw_shared::{ContentEncoding, OutcomeStatus, TaskId, TaskOutcome, TaskSpec};
use secrecy::SecretString;

use super::open::open_approvals_from;
use super::*;
use crate::approval::secret_store::SecretStore;
use crate::config::Config;
use crate::files::StateFiles;

const TOKEN: &str = "oc_worker_guard_unit_0123456789abcdef";

struct Setup {
    dir: tempfile::TempDir,
    config: Config,
}

fn setup(policy: &str) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let mut config = Config {
        token: SecretString::from(TOKEN),
        policy_path: root.join("policy.toml"),
        state_dir: root.join("state"),
        default_cwd: root.clone(),
        ..Config::default()
    };
    config.file = Some(root.join("config.toml"));
    std::fs::write(&config.policy_path, policy).unwrap();
    std::fs::set_permissions(&config.policy_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    Setup { dir, config }
}

fn read(path: &str) -> TaskSpec {
    TaskSpec::FileRead { path: path.into() }
}

#[test]
fn a_missing_policy_is_refused_naming_init() {
    let s = setup("");
    std::fs::remove_file(&s.config.policy_path).unwrap();

    let err = Guard::open(&s.config).unwrap_err().to_string();

    assert!(err.contains("openclaw-worker init"), "{err}");
}

#[test]
fn a_group_writable_policy_is_refused() {
    let s = setup("");
    std::fs::set_permissions(
        &s.config.policy_path,
        std::fs::Permissions::from_mode(0o620),
    )
    .unwrap();

    let err = Guard::open(&s.config).unwrap_err().to_string();

    assert!(err.contains("writable by group or others"), "{err}");
}

#[test]
fn without_a_secret_approvals_are_off_and_the_state_dir_is_private() {
    let s = setup("");

    let guard = Guard::open(&s.config).unwrap();

    assert!(!guard.approvals_enabled());
    let mode = std::fs::metadata(&s.config.state_dir)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
}

#[test]
fn a_canary_locks_the_worker_and_every_later_task_is_denied() {
    let s = setup("[paths]\ncanary = [\"/**/bait.txt\"]\n");
    let bait = s.dir.path().join("bait.txt");
    std::fs::write(&bait, "x").unwrap();
    let guard = Guard::open(&s.config).unwrap();

    let touched = guard.decide(TaskId::new(), &read(bait.to_str().unwrap()));
    let later = guard.decide(TaskId::new(), &read("/etc/hostname"));

    assert_eq!(touched.verdict, Verdict::Deny);
    assert!(guard.is_locked());
    assert!(guard.lock_reason().contains("bait.txt"));
    assert_eq!(later.verdict, Verdict::Deny);
    assert_eq!(later.rule, "lock");
}

#[test]
fn the_workers_own_files_are_denied() {
    let s = setup("default = \"allow\"\n");
    let guard = Guard::open(&s.config).unwrap();
    let own = [
        s.config.policy_path.clone(),
        s.config.state_dir.join("totp.secret"),
        s.config.state_dir.join("audit.jsonl"),
        s.config.file.clone().unwrap(),
    ];

    for path in own {
        let decision = guard.decide(TaskId::new(), &read(path.to_str().unwrap()));

        assert_eq!(decision.verdict, Verdict::Deny, "{}", path.display());
        assert!(decision.rule.starts_with("protected"), "{}", decision.rule);
    }
}

#[test]
fn secrets_are_redacted_from_text_binary_output_and_errors() {
    let s = setup("");
    let guard = Guard::open(&s.config).unwrap();
    let mut binary = b"\xff\xfe key AKIAIOSFODNN7EXAMPLE \x00".to_vec();
    binary.extend_from_slice(TOKEN.as_bytes());
    let mut outcome = TaskOutcome {
        stdout: BASE64.encode(&binary),
        stdout_encoding: ContentEncoding::Base64,
        stderr: format!("token was {TOKEN}\n"),
        error: Some("password=hunter2hunter2".into()),
        ..TaskOutcome::new(OutcomeStatus::Failed)
    };

    let counts = guard.redact(&mut outcome, true);

    let stdout = BASE64.decode(&outcome.stdout).unwrap();
    let stdout = String::from_utf8_lossy(&stdout);
    assert!(!stdout.contains("AKIAIOSFODNN7EXAMPLE") && !stdout.contains(TOKEN));
    assert!(
        stdout.starts_with('\u{fffd}'),
        "binary bytes are kept: {stdout}"
    );
    assert!(!outcome.stderr.contains(TOKEN));
    assert!(!outcome.error.unwrap().contains("hunter2"));
    assert_eq!(counts.total(), 4);
}

#[test]
fn the_totp_secret_is_redacted_from_any_output() {
    let s = setup("");
    std::fs::create_dir(&s.config.state_dir).unwrap();
    let secret = crate::approval::TotpSecret::generate().unwrap();
    secret
        .write_new(&StateFiles::new(&s.config.state_dir).totp_secret())
        .unwrap();
    let guard = Guard::open(&s.config).unwrap();
    let mut outcome = TaskOutcome {
        stdout: format!("{}\n", secret.to_base32()),
        ..TaskOutcome::new(OutcomeStatus::Succeeded)
    };

    let counts = guard.redact(&mut outcome, true);

    assert!(
        !outcome.stdout.contains(&secret.to_base32()),
        "{}",
        outcome.stdout
    );
    assert_eq!(counts.total(), 1);
}

#[test]
fn program_output_loses_escape_codes_but_a_files_content_keeps_them() {
    let s = setup("");
    let guard = Guard::open(&s.config).unwrap();
    let colored = "\u{1b}[31mred\u{1b}[0m key AKIA\u{1b}[0mIOSFODNN7EXAMPLE\r\n";
    let text = |stdout: &str| TaskOutcome {
        stdout: stdout.into(),
        ..TaskOutcome::new(OutcomeStatus::Succeeded)
    };
    let (mut program, mut file) = (text(colored), text(colored));

    let program_found = guard.redact(&mut program, false);
    let file_found = guard.redact(&mut file, true);

    assert_eq!(program.stdout, "red key [REDACTED:aws_access_key_id]\r\n");
    assert_eq!(program_found.total(), 1);
    assert_eq!(file.stdout, colored, "a file is returned as it is");
    assert_eq!(file_found.total(), 0);
}

#[test]
fn a_root_holding_the_workers_own_files_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let s = setup(&format!("[paths]\nread_roots = [\"{}\"]\n", root.display()));
    // The setup's files live in its own temp dir; point the state there, below the root.
    let mut config = s.config.clone();
    config.state_dir = root.join("state");

    let err = Guard::open(&config).unwrap_err().to_string();

    assert!(err.contains("paths.read_roots[0]"), "{err}");
}

#[test]
fn approvals_open_with_a_secret_kept_in_the_keychain() {
    use crate::approval::fake_keychain::FakeKeychain;
    use crate::approval::secret_store::Keychain as _;
    let dir = tempfile::tempdir().unwrap();
    let state = StateFiles::new(dir.path());
    let keychain = FakeKeychain::default();
    let secret = crate::approval::TotpSecret::generate().unwrap();
    keychain
        .add(&state.dir.to_string_lossy(), secret.to_base32().as_bytes())
        .unwrap();

    let approvals = open_approvals_from(
        &SecretStore::for_state(&state, Some(&keychain)),
        &state,
        Duration::from_secs(60),
    );

    assert!(approvals.unwrap().is_some());
    assert!(!state.totp_secret().exists());
}

#[test]
fn a_keychain_that_refuses_the_secret_stops_the_worker() {
    use crate::approval::fake_keychain::FakeKeychain;
    let dir = tempfile::tempdir().unwrap();
    let state = StateFiles::new(dir.path());
    let keychain = FakeKeychain::locked();

    let approvals = open_approvals_from(
        &SecretStore::for_state(&state, Some(&keychain)),
        &state,
        Duration::from_secs(60),
    );

    assert!(matches!(
        approvals,
        Err(GuardError::Totp(TotpError::Keychain(_)))
    ));
}
