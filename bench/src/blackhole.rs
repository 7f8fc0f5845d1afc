//! A TCP proxy that can go dark, as a Mac's network does when its lid shuts: while closed it
//! forwards nothing, on the connections it already had (which then stay dead for good, as
//! half-open connections do after a sleep) or on new ones (accepted, then ignored). Opened
//! again, it relays new connections only.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The proxy's switch; clones share it.
#[derive(Clone, Default)]
pub struct Blackhole {
    /// Even: open; odd: closed. Each change moves it on, so a connection knows whether
    /// the proxy went dark since it was accepted.
    phase: Arc<AtomicU64>,
}

impl Blackhole {
    /// Forwards nothing from now on, on old connections and new ones.
    pub fn close(&self) {
        self.phase.fetch_or(1, Ordering::SeqCst);
    }

    /// Relays new connections again; the ones from before stay dead.
    pub fn open(&self) {
        let phase = self.phase.load(Ordering::SeqCst);
        if phase % 2 == 1 {
            self.phase.store(phase + 1, Ordering::SeqCst);
        }
    }

    fn phase(&self) -> u64 {
        self.phase.load(Ordering::SeqCst)
    }
}

/// Starts the proxy on a free loopback port, forwarding to `upstream_port`. Returns its
/// port and its switch.
pub async fn start(upstream_port: u16) -> anyhow::Result<(u16, Blackhole)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let switch = Blackhole::default();
    let gate = switch.clone();
    tokio::spawn(async move {
        while let Ok((inbound, _)) = listener.accept().await {
            let gate = gate.clone();
            tokio::spawn(async move {
                let born = gate.phase();
                if born % 2 == 1 {
                    // Accepted, never answered: hold it until the peer gives up.
                    hold(inbound).await;
                    return;
                }
                if let Ok(outbound) = TcpStream::connect(("127.0.0.1", upstream_port)).await {
                    relay(inbound, outbound, gate, born).await;
                }
            });
        }
    });
    Ok((port, switch))
}

/// Keeps `stream` open, reading and dropping what comes, until the peer closes it.
async fn hold(mut stream: TcpStream) {
    let mut sink = vec![0u8; 16 * 1024];
    while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
}

async fn relay(inbound: TcpStream, outbound: TcpStream, gate: Blackhole, born: u64) {
    let (in_read, in_write) = inbound.into_split();
    let (out_read, out_write) = outbound.into_split();
    tokio::join!(
        pipe(in_read, out_write, gate.clone(), born),
        pipe(out_read, in_write, gate, born)
    );
}

/// Copies `from` to `to` while the proxy is in the phase the connection was born in; past
/// it, reads on and forwards nothing.
async fn pipe(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    gate: Blackhole,
    born: u64,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if gate.phase() != born {
            continue;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    if gate.phase() == born {
        // The peer closed its side, and we are still in touch: pass that on.
        let _ = to.shutdown().await;
    } else {
        // Dark: a dead connection never says it is closed (dropping the write half would
        // send a FIN). Held until the bench ends.
        std::future::pending::<()>().await;
    }
}
