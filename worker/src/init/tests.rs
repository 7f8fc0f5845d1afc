//! Tests of `init`: files, permissions, the secret, the URI and QR code, and never
//! overwriting.

use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::approval::fake_keychain::FakeKeychain;
use crate::approval::totp::TotpVerifier;
use crate::policy::Policy;

fn options(dir: &Path) -> InitOptions {
    InitOptions {
        dir: dir.join("openclaw-worker"),
        server_url: "https://bot.example.com".into(),
        worker_name: "mac-mini".into(),
        token: Some(SecretString::from("oc_worker_\"quoted\\token")),
        // The file, even on a Mac: these tests read it (the Keychain ones are below).
        keychain: false,
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn init_writes_private_files() {
    let tmp = tempfile::tempdir().unwrap();

    let report = init(&options(tmp.path())).unwrap();

    let files = &report.files;
    assert_eq!(mode(&files.dir), 0o700);
    assert_eq!(mode(&files.state_dir()), 0o700);
    for file in [files.config(), files.policy(), files.totp_secret()] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

#[test]
fn starter_policy_loads_as_the_default_policy() {
    let tmp = tempfile::tempdir().unwrap();
    let report = init(&options(tmp.path())).unwrap();

    let policy = Policy::load(&report.files.policy()).unwrap();

    assert_eq!(policy, Policy::default());
}

#[test]
fn starter_config_is_accepted_by_the_worker_config_loader() {
    let tmp = tempfile::tempdir().unwrap();
    let report = init(&options(tmp.path())).unwrap();

    let config = crate::config::Config::load(Some(&report.files.config()), Vec::new()).unwrap();

    assert_eq!(config.server_url, "https://bot.example.com");
    assert_eq!(config.name, "mac-mini");
    assert_eq!(config.token.expose_secret(), "oc_worker_\"quoted\\token");
    assert_eq!(config.policy_path, report.files.policy());
    assert_eq!(config.state_dir, report.files.state_dir());
}

#[test]
fn config_without_a_token_says_where_to_put_it() {
    let tmp = tempfile::tempdir().unwrap();
    let mut opts = options(tmp.path());
    opts.token = None;

    let report = init(&opts).unwrap();

    let text = std::fs::read_to_string(report.files.config()).unwrap();
    assert!(text.contains("# token = "), "{text}");
    assert!(!text.contains("\ntoken = "), "{text}");
}

#[test]
fn otpauth_uri_carries_the_stored_secret() {
    let tmp = tempfile::tempdir().unwrap();

    let report = init(&options(tmp.path())).unwrap();

    let secret = TotpSecret::load(&report.files.totp_secret()).unwrap();
    assert!(report
        .otpauth_uri
        .starts_with("otpauth://totp/OpenClaw:mac-mini?"));
    assert!(report
        .otpauth_uri
        .contains(&format!("secret={}", secret.to_base32())));
    // The stored secret verifies codes.
    let verifier = TotpVerifier::new(&secret).unwrap();
    assert_eq!(
        verifier.matching_steps(&verifier.code_at(1000), 30_000),
        [1000]
    );
}

#[test]
fn second_init_overwrites_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let first = init(&options(tmp.path())).unwrap();
    let secret = std::fs::read(first.files.totp_secret()).unwrap();

    let err = init(&options(tmp.path())).unwrap_err();

    assert!(
        matches!(err, InitError::Exists(ref p) if *p == first.files.config()),
        "{err}"
    );
    assert_eq!(std::fs::read(first.files.totp_secret()).unwrap(), secret);
}

#[test]
fn leftover_secret_alone_also_stops_init() {
    let tmp = tempfile::tempdir().unwrap();
    let first = init(&options(tmp.path())).unwrap();
    std::fs::remove_file(first.files.config()).unwrap();
    std::fs::remove_file(first.files.policy()).unwrap();

    let err = init(&options(tmp.path())).unwrap_err();

    assert!(
        matches!(err, InitError::Exists(ref p) if *p == first.files.totp_secret()),
        "{err}"
    );
    assert!(!first.files.config().exists());
}

#[test]
fn invalid_worker_name_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let mut opts = options(tmp.path());
    opts.worker_name = "a:b".into();

    assert!(matches!(init(&opts), Err(InitError::Name(_))));
    assert!(!opts.dir.exists());
}

#[test]
fn qr_code_is_a_square_of_half_blocks_with_a_quiet_zone() {
    let uri = "otpauth://totp/OpenClaw:mac?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=OpenClaw";
    let modules = QrCode::new(uri.as_bytes()).unwrap().width();

    let qr = render_qr(uri).unwrap();

    let lines: Vec<&str> = qr.lines().collect();
    let width = modules + 8;
    assert_eq!(lines.len(), width.div_ceil(2));
    assert!(lines.iter().all(|l| l.chars().count() == width));
    // The quiet zone is light, drawn as full blocks on a dark terminal.
    assert!(lines[0].chars().all(|c| c == '█'), "{}", lines[0]);
}

#[test]
fn with_a_keychain_init_keeps_the_secret_there_and_writes_no_secret_file() {
    let tmp = tempfile::tempdir().unwrap();
    let keychain = FakeKeychain::default();

    let report = init_with(&options(tmp.path()), Some(&keychain)).unwrap();

    assert!(matches!(
        report.secret.location,
        SecretLocation::Keychain { .. }
    ));
    assert!(!report.files.totp_secret().exists());
    let (secret, _) = SecretStore::for_state(&report.files.state(), Some(&keychain))
        .load()
        .unwrap()
        .unwrap();
    assert!(report
        .otpauth_uri
        .contains(&format!("secret={}", secret.to_base32())));
}

#[test]
fn init_refuses_to_replace_a_secret_in_the_keychain_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let keychain = FakeKeychain::default();
    let first = init_with(&options(tmp.path()), Some(&keychain)).unwrap();
    std::fs::remove_file(first.files.config()).unwrap();
    std::fs::remove_file(first.files.policy()).unwrap();

    let second = init_with(&options(tmp.path()), Some(&keychain));

    assert!(
        matches!(
            second,
            Err(InitError::Totp(TotpError::KeychainItemExists(_)))
        ),
        "{second:?}"
    );
    assert!(!first.files.config().exists());
    assert_eq!(keychain.len(), 1);
}

#[test]
fn a_keychain_that_refuses_the_secret_leaves_it_in_the_private_file() {
    let tmp = tempfile::tempdir().unwrap();
    let keychain = FakeKeychain::locked();

    let report = init_with(&options(tmp.path()), Some(&keychain)).unwrap();

    assert_eq!(
        report.secret.location,
        SecretLocation::File(report.files.totp_secret())
    );
    assert!(report.secret.keychain_failed.is_some());
    assert_eq!(mode(&report.files.totp_secret()), 0o600);
}
