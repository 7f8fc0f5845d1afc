//! Test-only: a stand-in for the login Keychain (an in-memory map that can fail like a
//! locked Keychain), for the platform-independent choices around it. The real Keychain
//! needs a Mac.

use std::cell::RefCell;
use std::collections::HashMap;

use super::secret_store::{Keychain, KeychainError};

/// One account → secret map.
#[derive(Default)]
pub(crate) struct FakeKeychain {
    items: RefCell<HashMap<String, Vec<u8>>>,
    failing: Option<&'static str>,
}

impl FakeKeychain {
    /// A Keychain that refuses everything, as a locked one does.
    pub(crate) fn locked() -> Self {
        Self {
            failing: Some("The user name or passphrase you entered is not correct."),
            ..Self::default()
        }
    }

    /// How many items it holds.
    pub(crate) fn len(&self) -> usize {
        self.items.borrow().len()
    }
}

impl Keychain for FakeKeychain {
    fn get(&self, account: &str) -> Result<Option<Vec<u8>>, KeychainError> {
        match self.failing {
            Some(why) => Err(KeychainError(why.to_owned())),
            None => Ok(self.items.borrow().get(account).cloned()),
        }
    }

    fn add(&self, account: &str, secret: &[u8]) -> Result<(), KeychainError> {
        if let Some(why) = self.failing {
            return Err(KeychainError(why.to_owned()));
        }
        let previous = self
            .items
            .borrow_mut()
            .insert(account.to_owned(), secret.to_vec());
        assert!(previous.is_none(), "an item was replaced");
        Ok(())
    }
}
