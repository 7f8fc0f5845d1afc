//! Unit tests of token resolution, identification and the tokens file.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::config::WorkerTokenConfig;

fn secret(s: &str) -> SecretString {
    SecretString::from(s)
}

fn worker(name: &str) -> TokenHolder {
    TokenHolder::Worker(Arc::from(name))
}

fn named(name: &str, token: &str) -> WorkerTokenConfig {
    WorkerTokenConfig {
        name: name.into(),
        token: secret(token),
    }
}

#[test]
fn identify_finds_each_holder_and_nothing_else() {
    let tokens = Tokens::new([
        (TokenHolder::Client, secret("c-token")),
        (TokenHolder::AnyWorker, secret("w-token")),
        (TokenHolder::Admin, secret("a-token")),
        (worker("mac"), secret("mac-token")),
        (worker("mini"), secret("mini-token")),
    ])
    .unwrap();

    assert_eq!(tokens.identify(b"c-token"), Some(&TokenHolder::Client));
    assert_eq!(tokens.identify(b"w-token"), Some(&TokenHolder::AnyWorker));
    assert_eq!(tokens.identify(b"a-token"), Some(&TokenHolder::Admin));
    assert_eq!(tokens.identify(b"mac-token"), Some(&worker("mac")));
    assert_eq!(tokens.identify(b"mini-token"), Some(&worker("mini")));
    for miss in [&b"c-toke"[..], b"c-tokenn", b"C-TOKEN", b"mac-token ", b""] {
        assert_eq!(tokens.identify(miss), None, "{miss:?}");
    }
}

#[test]
fn equal_tokens_for_two_holders_are_refused() {
    let err = Tokens::new([
        (TokenHolder::Client, secret("same")),
        (TokenHolder::AnyWorker, secret("other")),
        (TokenHolder::Admin, secret("same")),
    ])
    .unwrap_err();

    assert_eq!(
        err.to_string(),
        "`auth.client_token` and `auth.admin_token` must be different tokens"
    );
}

#[test]
fn a_worker_token_equal_to_a_role_token_or_a_name_twice_is_refused() {
    let same = Tokens::new([
        (TokenHolder::Client, secret("c")),
        (worker("mac"), secret("c")),
    ])
    .unwrap_err();
    let twice =
        Tokens::new([(worker("mac"), secret("a")), (worker("mac"), secret("b"))]).unwrap_err();

    assert_eq!(
        same.to_string(),
        "`auth.client_token` and `auth.workers (name = \"mac\")` must be different tokens"
    );
    assert_eq!(
        twice.to_string(),
        "`auth.workers (name = \"mac\")` is configured twice"
    );
}

#[test]
fn debug_output_names_holders_but_never_tokens() {
    let tokens = Tokens::new([
        (TokenHolder::Client, secret("client-secret-value")),
        (worker("mac"), secret("mac-secret-value")),
    ])
    .unwrap();

    let debug = format!("{tokens:?}");

    assert!(debug.contains("mac"), "{debug}");
    assert!(!debug.contains("secret-value"), "{debug}");
}

#[test]
fn generated_tokens_are_prefixed_long_strong_and_unique() {
    let a = generate(Role::Worker).unwrap();
    let b = generate(Role::Worker).unwrap();

    assert!(a.starts_with("oc_worker_"));
    assert_eq!(a.len(), "oc_worker_".len() + 43);
    assert_ne!(a, b);
    assert_eq!(weakness(&a), None);
}

#[test]
fn tokens_are_generated_once_then_reused() {
    let dir = tempfile::tempdir().unwrap();

    let first = resolve(&AuthConfig::default(), dir.path()).unwrap();
    let second = resolve(&AuthConfig::default(), dir.path()).unwrap();

    assert_eq!(first.generated, Role::ALL);
    assert!(second.generated.is_empty());
    assert!(second.notice("127.0.0.1:1".parse().unwrap()).is_none());
    for role in Role::ALL {
        let holder = generated_holder(role);
        assert_eq!(
            first.tokens.get(&holder).unwrap().expose_secret(),
            second.tokens.get(&holder).unwrap().expose_secret()
        );
    }
}

#[test]
fn a_configured_token_wins_and_is_not_written_to_disk() {
    let dir = tempfile::tempdir().unwrap();
    let auth = AuthConfig {
        client_token: Some(secret("configured-client-token")),
        ..AuthConfig::default()
    };

    let resolved = resolve(&auth, dir.path()).unwrap();

    assert_eq!(resolved.generated, [Role::Worker, Role::Admin]);
    let text = fs::read_to_string(dir.path().join(TOKENS_FILE)).unwrap();
    assert!(!text.contains("configured-client-token"));
    assert!(!text.contains("client_token"));
}

#[test]
fn with_per_worker_tokens_alone_no_shared_worker_token_exists() {
    let dir = tempfile::tempdir().unwrap();
    // A shared worker token from an earlier start without per-worker tokens.
    let earlier = resolve(&AuthConfig::default(), dir.path()).unwrap();
    let old_shared = earlier
        .tokens
        .get(&TokenHolder::AnyWorker)
        .unwrap()
        .expose_secret()
        .to_owned();
    let auth = AuthConfig {
        workers: vec![named("mac", "mac-token")],
        ..AuthConfig::default()
    };

    let resolved = resolve(&auth, dir.path()).unwrap();

    assert!(resolved.tokens.get(&TokenHolder::AnyWorker).is_none());
    assert_eq!(resolved.tokens.identify(old_shared.as_bytes()), None);
    assert_eq!(resolved.tokens.identify(b"mac-token"), Some(&worker("mac")));
}

#[test]
fn a_notice_for_per_worker_setups_has_no_worker_line() {
    let dir = tempfile::tempdir().unwrap();
    let auth = AuthConfig {
        workers: vec![named("mac", "mac-token")],
        ..AuthConfig::default()
    };

    let resolved = resolve(&auth, dir.path()).unwrap();
    let notice = resolved.notice("127.0.0.1:1".parse().unwrap()).unwrap();

    assert_eq!(resolved.generated, [Role::Client, Role::Admin]);
    assert!(!notice.contains("WORKER_TOKEN"), "{notice}");
    assert!(!notice.contains("mac-token"), "{notice}");
}

#[test]
fn a_weak_token_in_the_tokens_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    resolve(&AuthConfig::default(), dir.path()).unwrap();
    let path = dir.path().join(TOKENS_FILE);
    let text = fs::read_to_string(&path).unwrap();
    let edited: String = text
        .lines()
        .map(|line| {
            if line.starts_with("admin_token") {
                "admin_token = \"changeme\"\n".to_owned()
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    fs::write(&path, edited).unwrap();

    let err = resolve(&AuthConfig::default(), dir.path()).unwrap_err();

    let message = err.to_string();
    assert!(message.contains("`admin_token`"), "{message}");
    assert!(message.contains("well-known default"), "{message}");
    assert!(!message.contains("changeme"), "{message}");
}

#[test]
fn a_tokens_file_readable_by_others_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    resolve(&AuthConfig::default(), dir.path()).unwrap();
    let path = dir.path().join(TOKENS_FILE);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();

    let err = resolve(&AuthConfig::default(), dir.path()).unwrap_err();

    assert!(
        matches!(err, TokenError::Exposed { mode: 0o644, .. }),
        "{err}"
    );
}
