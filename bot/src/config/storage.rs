//! `[storage]`: where the data lives and how the queue's database is used (how long a
//! request waits for it, when a commit is on disk).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::DATABASE_FILE;
use crate::queue::{StorageSettings, Synchronous};

/// `[storage]`: the data directory (SQLite database and generated tokens) and how the
/// database is used.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Created on start if missing.
    pub data_dir: PathBuf,
    /// Longest a request waits for the database (its turn, then a lock another process
    /// holds, e.g. a backup) before it is refused with 503 `storage_busy`.
    pub busy_timeout_ms: u64,
    /// When a commit is on disk: `normal` survives the bot crashing, `full` survives a
    /// power loss too, at an `fsync` per commit.
    pub synchronous: Synchronous,
}

impl Default for StorageConfig {
    fn default() -> Self {
        let defaults = StorageSettings::default();
        Self {
            data_dir: PathBuf::from("./data"),
            busy_timeout_ms: u64::try_from(defaults.busy_timeout.as_millis()).unwrap_or(1000),
            synchronous: defaults.synchronous,
        }
    }
}

impl StorageConfig {
    /// The SQLite database file inside the data directory.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }

    /// The queue store's settings.
    pub fn settings(&self) -> StorageSettings {
        StorageSettings {
            busy_timeout: Duration::from_millis(self.busy_timeout_ms),
            synchronous: self.synchronous,
        }
    }
}

#[cfg(test)]
mod tests {
    use figment::providers::{Format, Toml};
    use figment::Figment;

    use super::*;
    use crate::config::Config;

    #[test]
    fn storage_synchronous_is_normal_or_full() {
        let load = |text: &str| Config::from_figment(Figment::from(Toml::string(text)));

        let full = load("[storage]\nsynchronous = \"full\"").unwrap();
        let wrong = load("[storage]\nsynchronous = \"off\"").unwrap_err();

        assert_eq!(full.storage.settings().synchronous, Synchronous::Full);
        assert_eq!(Config::default().storage.synchronous, Synchronous::Normal);
        assert!(wrong.to_string().contains("synchronous"), "{wrong}");
    }
}
