//! The HTTP listener: hyper's HTTP/1 server under our own accept loop, because `axum::serve`
//! sets no timer (so hyper's header-read timeout is off) and caps nothing. Here a client that
//! trickles its headers, or holds a kept-alive connection idle, is cut off after
//! `http.header_read_timeout_secs`; connections are capped in total and per client address
//! (trusted proxies exempt: they carry everyone), and one over a cap gets a plain JSON 503
//! before it is closed. Accept errors (out of file descriptors) are logged, throttled.

use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use openclaw_shared::{ErrorBody, ErrorCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::telemetry::Throttled;

/// Longest a refused connection is kept to deliver its 503 (and read what the client sent,
/// so closing does not reset the connection before the answer is read).
const REFUSAL_LINGER: Duration = Duration::from_secs(1);
/// Most refused connections being answered at once; beyond it they are closed unanswered.
const MAX_REFUSALS_IN_FLIGHT: usize = 64;
/// Pause after an accept error such as "too many open files", so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);
/// How often a repeated accept error or refusal is logged (with a count).
const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// What connections the listener takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionPolicy {
    /// A request's headers must arrive within this, counted from when the connection starts
    /// waiting for them (so it is also the idle timeout of a kept-alive connection).
    pub header_read_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
    /// Most connections open at once from one client address.
    pub max_connections_per_ip: usize,
    /// Addresses without the per-address cap (reverse proxies that carry every client).
    pub uncapped: Vec<IpAddr>,
}

/// Serves `router` on `listener` until `stop` is cancelled, then stops accepting, lets
/// in-flight requests finish and returns. Only a listener that cannot accept at all (not
/// a client's failure) ends it early.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    policy: ConnectionPolicy,
    stop: CancellationToken,
) -> io::Result<()> {
    let slots = Slots::new(&policy);
    let graceful = GracefulShutdown::new();
    let refusals = Arc::new(Semaphore::new(MAX_REFUSALS_IN_FLIGHT));
    let accept_errors = Throttled::new(LOG_INTERVAL);
    let refused_log = Throttled::new(LOG_INTERVAL);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(policy.header_read_timeout);
    loop {
        let (stream, peer) = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    if let Some(count) = accept_errors.hit() {
                        tracing::error!(%error, count, "cannot accept HTTP connections (out of file descriptors?)");
                    }
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
        };
        let Some(slot) = slots.take(peer.ip()) else {
            if let Some(count) = refused_log.hit() {
                tracing::warn!(peer = %peer.ip(), count, "refusing connections over the connection caps (http.max_connections*)");
            }
            if let Ok(permit) = Arc::clone(&refusals).try_acquire_owned() {
                tokio::spawn(async move {
                    refuse(stream).await;
                    drop(permit);
                });
            }
            continue;
        };
        // Small responses go out at once instead of waiting for Nagle's timer.
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let router = router.clone();
            async move { router.oneshot(request).await }
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that hangs up or times out is routine; nothing to log above debug.
            if let Err(error) = connection.await {
                tracing::debug!(%error, "HTTP connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Answers a connection over a cap with a JSON 503 and closes it.
async fn refuse(mut stream: TcpStream) {
    let body = ErrorBody::new(
        ErrorCode::TooManyConnections,
        "too many connections; retry shortly, or reuse an open connection",
    );
    let body = serde_json::to_string(&body).unwrap_or_default();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let answered = tokio::time::timeout(REFUSAL_LINGER, async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await?;
        // Read until the client closes, so the close does not reset the answer away.
        let mut sink = [0_u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, io::Error>(())
    })
    .await;
    if let Ok(Err(error)) = answered {
        tracing::debug!(%error, "refused connection ended with an error");
    }
}

/// Open connections, in total and per client address.
struct Slots {
    inner: Arc<Mutex<Counts>>,
}

struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
    max_total: usize,
    max_per_ip: usize,
    uncapped: Vec<IpAddr>,
}

impl Slots {
    fn new(policy: &ConnectionPolicy) -> Slots {
        Slots {
            inner: Arc::new(Mutex::new(Counts {
                total: 0,
                per_ip: HashMap::new(),
                max_total: policy.max_connections,
                max_per_ip: policy.max_connections_per_ip,
                uncapped: policy.uncapped.iter().map(IpAddr::to_canonical).collect(),
            })),
        }
    }

    /// A slot for a connection from `ip`, or `None` when a cap is reached.
    fn take(&self, ip: IpAddr) -> Option<Slot> {
        let ip = ip.to_canonical();
        let mut counts = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.total >= counts.max_total {
            return None;
        }
        let capped = !counts.uncapped.contains(&ip);
        let max_per_ip = counts.max_per_ip;
        let from_ip = counts.per_ip.entry(ip).or_insert(0);
        if capped && *from_ip >= max_per_ip {
            return None;
        }
        *from_ip += 1;
        counts.total += 1;
        Some(Slot {
            counts: Arc::clone(&self.inner),
            ip,
        })
    }
}

/// One open connection's place in the counts; given back when dropped.
struct Slot {
    counts: Arc<Mutex<Counts>>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.total = counts.total.saturating_sub(1);
        if let Some(from_ip) = counts.per_ip.get_mut(&self.ip) {
            *from_ip = from_ip.saturating_sub(1);
            if *from_ip == 0 {
                counts.per_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(total: usize, per_ip: usize, uncapped: &[&str]) -> ConnectionPolicy {
        ConnectionPolicy {
            header_read_timeout: Duration::from_secs(1),
            max_connections: total,
            max_connections_per_ip: per_ip,
            uncapped: uncapped.iter().map(|ip| ip.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn one_address_cannot_take_more_than_its_share() {
        let slots = Slots::new(&policy(10, 2, &[]));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();

        let first = slots.take(a).unwrap();
        let _second = slots.take(a).unwrap();

        assert!(slots.take(a).is_none());
        assert!(slots.take(b).is_some());
        drop(first);
        assert!(slots.take(a).is_some());
    }

    #[test]
    fn the_total_cap_holds_for_everyone_and_proxies_skip_only_the_per_address_cap() {
        let slots = Slots::new(&policy(3, 1, &["127.0.0.1"]));
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();

        let held: Vec<Slot> = (0..3).filter_map(|_| slots.take(proxy)).collect();

        assert_eq!(held.len(), 3);
        assert!(slots.take(mapped).is_none());
        assert!(slots.take("192.0.2.9".parse().unwrap()).is_none());
    }
}
