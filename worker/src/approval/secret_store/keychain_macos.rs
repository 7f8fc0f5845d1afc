//! The macOS login Keychain as a [`Keychain`]: Security.framework generic passwords.
//! UNTESTED ON A MAC: type-checked for `aarch64-apple-darwin` only.
//!
//! An item created here is readable without a prompt only by the program that created it
//! (its access list names the worker binary); any other program, `security` included,
//! makes macOS ask the owner. A rebuilt or upgraded worker binary is another program to
//! the Keychain: the first start after an upgrade asks once ("Always Allow").

use security_framework::passwords::{
    generic_password, set_generic_password_options, PasswordOptions,
};

use super::{Keychain, KeychainError, KEYCHAIN_SERVICE};

/// `errSecItemNotFound` (Security.framework's `SecBase.h`): no item matches.
const ERR_SEC_ITEM_NOT_FOUND: i32 = -25300;

/// The label the item shows in Keychain Access.
const LABEL: &str = "OpenClaw worker TOTP secret";

/// The user's default (login) Keychain.
pub struct LoginKeychain;

impl Keychain for LoginKeychain {
    fn get(&self, account: &str) -> Result<Option<Vec<u8>>, KeychainError> {
        match generic_password(PasswordOptions::new_generic_password(
            KEYCHAIN_SERVICE,
            account,
        )) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.code() == ERR_SEC_ITEM_NOT_FOUND => Ok(None),
            Err(err) => Err(KeychainError(err.to_string())),
        }
    }

    fn add(&self, account: &str, secret: &[u8]) -> Result<(), KeychainError> {
        // A legacy-keychain item: never synchronised to iCloud (the SecItem default), so
        // the secret stays on this Mac.
        let mut options = PasswordOptions::new_generic_password(KEYCHAIN_SERVICE, account);
        options.set_label(LABEL);
        options
            .set_comment("Approval codes for openclaw-worker; created by `openclaw-worker init`.");
        set_generic_password_options(secret, options).map_err(|err| KeychainError(err.to_string()))
    }
}
