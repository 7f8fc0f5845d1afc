//! Extra certificate authorities trusted for the bot's URL (`server_ca_file`): for a bot
//! behind a proxy whose certificate a private CA issued, such as Caddy's `tls internal`.
//! The client is rustls with built-in public roots, which reads no `SSL_CERT_FILE`.

use std::path::Path;

/// The certificates of the PEM bundle at `path`. An unreadable file, or one without a
/// single certificate, is an error naming the key and the file: the worker must not start
/// trusting less than its owner asked for without saying so.
pub(crate) fn read_ca_file(path: &Path) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let named = || format!("server_ca_file {}", path.display());
    let pem = std::fs::read(path).map_err(|err| anyhow::anyhow!("{}: {err}", named()))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|err| anyhow::anyhow!("{}: not a PEM certificate bundle ({err})", named()))?;
    if certificates.is_empty() {
        anyhow::bail!("{}: holds no PEM certificate", named());
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;
    use crate::client::ApiClient;

    /// A self-signed CA certificate (P-256), as Caddy's `tls internal` root is one.
    const TEST_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBjjCCATOgAwIBAgIUTGEMFkBgZMHwDparcOUS47jMC/QwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQb3BlbmNsYXcgdGVzdCBDQTAgFw0yNjExMzAyMjQwMTVaGA8y
MTI2MTEwNjIyNDAxNVowGzEZMBcGA1UEAwwQb3BlbmNsYXcgdGVzdCBDQTBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABEuiZGMai/aWvLLLJCI+GuD2+w8+asZdJ1O1
n2TRBwIlLx93Mx/2D39KucprZFx1HndABf3u1iavWXNKQuzn5sGjUzBRMB0GA1Ud
DgQWBBTv+N/tnLb3EdmTnH2QO7xnKcBDhzAfBgNVHSMEGDAWgBTv+N/tnLb3EdmT
nH2QO7xnKcBDhzAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQDV
z98TuGqNsAGLUx/AcTFUuFoHcrzFZSEuPuBfQFmdHwIhAI7PQuK+5Wfr/CK8LR5c
IwiRWdpdeq76jg1QkqpVNRfX
-----END CERTIFICATE-----
";

    #[test]
    fn a_ca_file_with_a_certificate_is_trusted_by_the_client() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ca.pem");
        std::fs::write(&file, TEST_CA).unwrap();

        let certificates = read_ca_file(&file).unwrap();
        let client = ApiClient::with_ca_file(
            "https://127.0.0.1:1/",
            &SecretString::from("sekrit-token"),
            Some(&file),
        );

        assert_eq!(certificates.len(), 1);
        assert!(client.is_ok(), "{client:?}");
    }

    #[test]
    fn a_ca_file_that_is_missing_or_holds_no_certificate_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let missing = dir.path().join("missing.pem");

        for file in [junk, missing] {
            let message = format!("{:#}", read_ca_file(&file).unwrap_err());

            assert!(message.contains("server_ca_file"), "{message}");
            assert!(message.contains(&file.display().to_string()), "{message}");
        }
    }
}
