//! A counting TCP proxy: sits between the worker and the bot and counts the worker's HTTP
//! requests, so the idle request rate is measured on the wire, not taken from either side.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Request lines the worker protocol uses; every worker request starts with one.
const REQUEST_MARKER: &[u8] = b"POST /v1/worker/";

/// Counts requests passing through; clone-able handle to the counter.
#[derive(Clone, Default)]
pub struct RequestCounter(Arc<AtomicU64>);

impl RequestCounter {
    /// Requests seen so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Starts the proxy on a free loopback port, forwarding to `upstream_port`. Returns its
/// port and the counter.
pub async fn start(upstream_port: u16) -> anyhow::Result<(u16, RequestCounter)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let counter = RequestCounter::default();
    let count = counter.clone();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                if let Ok(outbound) = TcpStream::connect(("127.0.0.1", upstream_port)).await {
                    relay(inbound, outbound, count).await;
                }
            });
        }
    });
    Ok((port, counter))
}

async fn relay(inbound: TcpStream, outbound: TcpStream, count: RequestCounter) {
    let (mut in_read, mut in_write) = inbound.into_split();
    let (mut out_read, mut out_write) = outbound.into_split();
    let upstream = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match in_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let seen = buf[..n]
                .windows(REQUEST_MARKER.len())
                .filter(|w| *w == REQUEST_MARKER)
                .count();
            count.0.fetch_add(seen as u64, Ordering::Relaxed);
            if out_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    };
    let downstream = async move {
        let _ = tokio::io::copy(&mut out_read, &mut in_write).await;
    };
    tokio::join!(upstream, downstream);
}
