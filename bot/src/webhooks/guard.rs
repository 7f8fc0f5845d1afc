//! The address guard for clients' callbacks: a DNS resolver for reqwest that answers only
//! with addresses [`address_allowed`] passes, so the connection goes to an address that
//! was checked, never to one a second lookup (DNS rebinding) returns.

use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::intake::callback::address_allowed;

/// Resolves names with the system resolver and drops every address a callback may not
/// reach; a name left with none fails with [`Refused`].
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    /// Loopback addresses are allowed (`allow_loopback_callbacks`).
    pub allow_loopback: bool,
}

/// A callback's host resolved only to addresses the bot may not connect to.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to internal addresses, which callbacks may not reach")]
pub struct Refused {
    /// The host name.
    pub host: String,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_loopback = self.allow_loopback;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed: Vec<SocketAddr> = found
                .filter(|addr| address_allowed(addr.ip(), allow_loopback))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(Refused { host }) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Whether `err` (a reqwest error, with its sources) comes from the guard refusing.
pub fn is_refusal(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(err) = current {
        if err.is::<Refused>() {
            return true;
        }
        current = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_and_never_connected_to() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = reqwest::Client::builder()
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver {
                allow_loopback: false,
            }))
            .build()
            .unwrap();

        let err = client
            .post(format!("http://localhost:{port}/hook"))
            .send()
            .await
            .unwrap_err();
        let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;

        assert!(is_refusal(&err), "{err:?}");
        assert!(accepted.is_err(), "the guard let a connection through");
    }
}
