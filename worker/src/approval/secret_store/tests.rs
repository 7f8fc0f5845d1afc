//! The store's choices against a stand-in Keychain ([`FakeKeychain`]), with the real
//! secret file in a temp dir. The real login Keychain needs a Mac.

use std::path::Path;

use super::*;
use crate::approval::fake_keychain::FakeKeychain;

fn store<'k>(dir: &Path, keychain: Option<&'k dyn Keychain>) -> SecretStore<'k> {
    SecretStore::new(dir.join("totp.secret"), "/state".to_owned(), keychain)
}

fn keychain_location() -> SecretLocation {
    SecretLocation::Keychain {
        service: KEYCHAIN_SERVICE.to_owned(),
        account: "/state".to_owned(),
    }
}

#[test]
fn with_a_keychain_the_secret_goes_there_and_no_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = FakeKeychain::default();
    let store = store(dir.path(), Some(&keychain));
    let secret = TotpSecret::generate().unwrap();

    let stored = store.store_new(&secret).unwrap();

    assert_eq!(stored.location, keychain_location());
    assert!(!dir.path().join("totp.secret").exists());
    assert_eq!(store.load().unwrap(), Some((secret, keychain_location())));
}

#[test]
fn without_a_keychain_the_secret_goes_to_the_private_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), None);
    let secret = TotpSecret::generate().unwrap();

    let stored = store.store_new(&secret).unwrap();

    let file = dir.path().join("totp.secret");
    assert_eq!(stored.location, SecretLocation::File(file.clone()));
    assert_eq!(stored.keychain_failed, None);
    assert_eq!(TotpSecret::load(&file).unwrap(), secret);
}

#[test]
fn a_keychain_that_refuses_the_item_leaves_the_secret_in_the_file_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = FakeKeychain::locked();
    let store = store(dir.path(), Some(&keychain));
    let secret = TotpSecret::generate().unwrap();

    let stored = store.store_new(&secret).unwrap();

    assert_eq!(
        stored.location,
        SecretLocation::File(dir.path().join("totp.secret"))
    );
    assert!(stored.keychain_failed.is_some());
    assert_eq!(store.load().unwrap().map(|(s, _)| s), Some(secret));
}

#[test]
fn an_existing_keychain_secret_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = FakeKeychain::default();
    let store = store(dir.path(), Some(&keychain));
    let first = TotpSecret::generate().unwrap();
    store.store_new(&first).unwrap();

    let second = store.store_new(&TotpSecret::generate().unwrap());

    assert!(matches!(second, Err(TotpError::KeychainItemExists(_))));
    assert_eq!(store.existing(), Some(keychain_location()));
    assert_eq!(store.load().unwrap().map(|(s, _)| s), Some(first));
}

#[test]
fn the_keychain_is_read_before_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let from_file = TotpSecret::generate().unwrap();
    from_file
        .write_new(&dir.path().join("totp.secret"))
        .unwrap();
    let keychain = FakeKeychain::default();
    let in_keychain = TotpSecret::generate().unwrap();
    keychain
        .add("/state", in_keychain.to_base32().as_bytes())
        .unwrap();

    let loaded = store(dir.path(), Some(&keychain)).load().unwrap();

    assert_eq!(loaded, Some((in_keychain, keychain_location())));
}

#[test]
fn a_secret_kept_in_the_file_still_loads_where_there_is_a_keychain() {
    let dir = tempfile::tempdir().unwrap();
    let secret = TotpSecret::generate().unwrap();
    secret.write_new(&dir.path().join("totp.secret")).unwrap();
    let keychain = FakeKeychain::default();

    let loaded = store(dir.path(), Some(&keychain)).load().unwrap();

    assert_eq!(loaded.map(|(s, _)| s), Some(secret));
}

#[test]
fn a_locked_keychain_without_a_file_is_an_error_not_a_missing_secret() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = FakeKeychain::locked();

    let loaded = store(dir.path(), Some(&keychain)).load();

    assert!(matches!(loaded, Err(TotpError::Keychain(_))), "{loaded:?}");
}

#[test]
fn no_secret_anywhere_is_none() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = FakeKeychain::default();

    assert_eq!(store(dir.path(), Some(&keychain)).load().unwrap(), None);
    assert_eq!(store(dir.path(), None).load().unwrap(), None);
    assert_eq!(store(dir.path(), Some(&keychain)).existing(), None);
}

#[test]
fn a_keychain_item_that_is_not_a_secret_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let keychain = FakeKeychain::default();
    keychain.add("/state", b"not base32!").unwrap();

    let loaded = store(dir.path(), Some(&keychain)).load();

    assert!(matches!(loaded, Err(TotpError::Keychain(_))), "{loaded:?}");
}

#[test]
fn the_keychain_can_be_turned_off_and_is_never_used_off_macos() {
    let set =
        |value: &'static str| move |name: &str| (name == KEYCHAIN_ENV).then(|| value.to_owned());

    assert!(!keychain_enabled(set("0")));
    assert!(!keychain_enabled(set(" 0\n")));
    assert!(keychain_enabled(set("1")));
    assert!(keychain_enabled(|_| None));
    assert!(platform_keychain(set("0")).is_none());
    assert_eq!(
        platform_keychain(|_| None).is_some(),
        cfg!(target_os = "macos")
    );
}

#[test]
fn the_location_says_which_item_or_file() {
    let item = keychain_location().to_string();

    assert!(item.contains("login Keychain"), "{item}");
    assert!(item.contains(KEYCHAIN_SERVICE), "{item}");
    assert!(item.contains("/state"), "{item}");
}
