//! TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, ±1 step of clock skew) with a
//! secret that exists only on the Mac: in its login Keychain, or in a file only its owner
//! can read (see [`super::secret_store`] for which).

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use data_encoding::BASE32_NOPAD;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

use crate::files::write_new_private;

/// Seconds per time step.
pub const STEP_SECS: u64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;
/// Steps accepted on either side of now, for clocks that drift and owners who type slowly.
pub const SKEW_STEPS: u64 = 1;
/// Secret length: 160 bits, RFC 4226's recommendation.
pub const SECRET_BYTES: usize = 20;

/// Why the secret cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    /// The secret file cannot be read or written.
    #[error("TOTP secret file {path}: {source}")]
    Io {
        /// The secret file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The secret file can be read by group or others, or is not the owner's.
    #[error(
        "TOTP secret file {path} is {problem}; it must be readable only by you (chmod 600 {path})"
    )]
    Insecure {
        /// The secret file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The file does not hold a base32 secret of the right length.
    #[error("TOTP secret file {0} does not hold a valid secret")]
    Invalid(PathBuf),
    /// The system random source failed.
    #[error("cannot generate a secret: {0}")]
    Random(String),
    /// The login Keychain holds a secret that cannot be read, or not a valid one.
    #[error("TOTP secret: {0}")]
    Keychain(String),
    /// The login Keychain already holds a secret (named here); `init` never replaces one.
    #[error(
        "{0} already holds a TOTP secret; delete that item (Keychain Access) first if you \
         really mean to start over"
    )]
    KeychainItemExists(String),
}

/// The shared secret. Its `Debug` output never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl TotpSecret {
    /// A fresh random secret from the operating system's generator.
    pub fn generate() -> Result<Self, TotpError> {
        let mut bytes = vec![0; SECRET_BYTES];
        getrandom::fill(&mut bytes).map_err(|err| TotpError::Random(err.to_string()))?;
        Ok(Self(bytes))
    }

    /// The secret from its base32 text (as authenticator apps show it; blanks and case
    /// ignored). `None` if it is not base32 or shorter than 128 bits.
    pub fn from_base32(text: &str) -> Option<Self> {
        let clean: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '=')
            .collect::<String>()
            .to_ascii_uppercase();
        let bytes = BASE32_NOPAD.decode(clean.as_bytes()).ok()?;
        (bytes.len() >= 16).then_some(Self(bytes))
    }

    /// The secret as base32, as authenticator apps take it.
    pub fn to_base32(&self) -> String {
        BASE32_NOPAD.encode(&self.0)
    }

    /// Loads the secret from `path`, refusing a file that group or others can read or
    /// write, or that belongs to another user.
    pub fn load(path: &Path) -> Result<Self, TotpError> {
        let io_err = |source| TotpError::Io {
            path: path.to_owned(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io_err)?;
        let problem = if meta.mode() & 0o077 != 0 {
            Some(format!("mode {:o}", meta.mode() & 0o777))
        } else if meta.uid() != nix::unistd::geteuid().as_raw() {
            Some(format!("owned by uid {}", meta.uid()))
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(TotpError::Insecure {
                path: path.to_owned(),
                problem,
            });
        }
        let text = std::fs::read_to_string(path).map_err(io_err)?;
        Self::from_base32(&text).ok_or_else(|| TotpError::Invalid(path.to_owned()))
    }

    /// Writes the secret to a new file at `path` with mode 0600. Never overwrites: a second
    /// `init` must not silently invalidate the owner's authenticator.
    pub fn write_new(&self, path: &Path) -> Result<(), TotpError> {
        let text = format!("{}\n", self.to_base32());
        write_new_private(path, text.as_bytes()).map_err(|source| TotpError::Io {
            path: path.to_owned(),
            source,
        })
    }

    /// The `otpauth://totp/…` URI an authenticator app scans. `issuer` and `account` must
    /// not contain `:`, which the URI format reserves (`None` then).
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> Option<String> {
        let totp = TOTP::new(
            Algorithm::SHA1,
            DIGITS,
            0,
            STEP_SECS,
            self.0.clone(),
            Some(issuer.to_owned()),
            account.to_owned(),
        )
        .ok()?;
        Some(totp.get_url())
    }
}

/// Checks codes against one secret.
pub struct TotpVerifier {
    totp: TOTP,
}

impl std::fmt::Debug for TotpVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpVerifier(..)")
    }
}

impl TotpVerifier {
    /// A verifier for `secret` (which [`TotpSecret`] guarantees is long enough).
    pub fn new(secret: &TotpSecret) -> Option<Self> {
        // Skew is handled here, not by the crate, so the matching step is known.
        let totp = TOTP::new(
            Algorithm::SHA1,
            DIGITS,
            0,
            STEP_SECS,
            secret.0.clone(),
            None,
            "openclaw".to_owned(),
        )
        .ok()?;
        Some(Self { totp })
    }

    /// The code for time step `step`.
    pub fn code_at(&self, step: u64) -> String {
        self.totp.generate(step.saturating_mul(STEP_SECS))
    }

    /// The time steps (ascending) within the skew window around `now_secs` whose code is
    /// `code`. Every candidate is compared, in constant time, so timing does not reveal
    /// which one matched. Anything but exactly six ASCII digits matches nothing.
    pub fn matching_steps(&self, code: &str, now_secs: u64) -> Vec<u64> {
        let code = code.trim();
        let well_formed = code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit());
        let now = now_secs / STEP_SECS;
        let mut matched = Vec::new();
        for step in now.saturating_sub(SKEW_STEPS)..=now.saturating_add(SKEW_STEPS) {
            let equal: bool = self.code_at(step).as_bytes().ct_eq(code.as_bytes()).into();
            if equal && well_formed {
                matched.push(step);
            }
        }
        matched
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// RFC 6238 appendix B's SHA-1 secret.
    fn rfc_secret() -> TotpSecret {
        TotpSecret(b"12345678901234567890".to_vec())
    }

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let verifier = TotpVerifier::new(&rfc_secret()).unwrap();

        // RFC 6238 B: 8-digit codes 94287082, 07081804, 14050471; we use the last 6.
        assert_eq!(verifier.code_at(59 / STEP_SECS), "287082");
        assert_eq!(verifier.code_at(1_111_111_109 / STEP_SECS), "081804");
        assert_eq!(verifier.code_at(1_111_111_111 / STEP_SECS), "050471");
    }

    #[test]
    fn current_and_adjacent_steps_match_but_not_further() {
        let verifier = TotpVerifier::new(&rfc_secret()).unwrap();
        let now = 1_700_000_000;
        let step = now / STEP_SECS;

        assert_eq!(
            verifier.matching_steps(&verifier.code_at(step), now),
            [step]
        );
        assert_eq!(
            verifier.matching_steps(&verifier.code_at(step - 1), now),
            [step - 1]
        );
        assert_eq!(
            verifier.matching_steps(&verifier.code_at(step + 1), now),
            [step + 1]
        );
        assert!(verifier
            .matching_steps(&verifier.code_at(step - 2), now)
            .is_empty());
        assert!(verifier
            .matching_steps(&verifier.code_at(step + 2), now)
            .is_empty());
    }

    #[test]
    fn malformed_codes_match_nothing() {
        let verifier = TotpVerifier::new(&rfc_secret()).unwrap();
        let now = 1_700_000_000;
        let code = verifier.code_at(now / STEP_SECS);

        for bad in [
            "",
            "12345",
            "1234567",
            "abcdef",
            &format!("{code}0"),
            &code[..5],
        ] {
            assert!(verifier.matching_steps(bad, now).is_empty(), "{bad}");
        }
        assert_eq!(verifier.matching_steps(&format!(" {code} "), now).len(), 1);
    }

    #[test]
    fn secret_round_trips_through_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("totp.secret");
        let secret = TotpSecret::generate().unwrap();

        secret.write_new(&path).unwrap();

        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(TotpSecret::load(&path).unwrap(), secret);
    }

    #[test]
    fn existing_secret_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("totp.secret");
        TotpSecret::generate().unwrap().write_new(&path).unwrap();
        let before = std::fs::read(&path).unwrap();

        assert!(TotpSecret::generate().unwrap().write_new(&path).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn group_readable_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("totp.secret");
        TotpSecret::generate().unwrap().write_new(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();

        assert!(matches!(
            TotpSecret::load(&path),
            Err(TotpError::Insecure { .. })
        ));
    }

    #[test]
    fn garbage_secret_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("totp.secret");
        std::fs::write(&path, "not base32 at all!").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();

        assert!(matches!(
            TotpSecret::load(&path),
            Err(TotpError::Invalid(_))
        ));
    }

    #[test]
    fn base32_parsing_ignores_blanks_case_and_padding() {
        let secret = rfc_secret();
        let text = secret.to_base32().to_ascii_lowercase();
        let spaced: String = text.chars().flat_map(|c| [c, ' ']).collect();

        assert_eq!(
            TotpSecret::from_base32(&format!("{spaced}====")),
            Some(secret)
        );
        assert_eq!(TotpSecret::from_base32("AAAA"), None);
    }

    #[test]
    fn otpauth_uri_names_issuer_account_and_parameters() {
        let uri = rfc_secret().otpauth_uri("OpenClaw", "mac-mini").unwrap();

        assert!(
            uri.starts_with("otpauth://totp/OpenClaw:mac-mini?"),
            "{uri}"
        );
        assert!(
            uri.contains(&format!("secret={}", rfc_secret().to_base32())),
            "{uri}"
        );
        assert!(uri.contains("issuer=OpenClaw"), "{uri}");
        assert!(rfc_secret().otpauth_uri("Open:Claw", "x").is_none());
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let secret = rfc_secret();

        assert!(!format!("{secret:?}").contains(&secret.to_base32()));
    }
}
