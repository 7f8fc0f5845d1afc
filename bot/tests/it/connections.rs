//! Connection hygiene: slow clients are cut off, one address cannot hold every connection,
//! and a client over a cap gets a clear JSON answer — while everyone else is served.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use serde_json::json;

use crate::helpers::{within, TestApp, CLIENT, WORKER};

fn addr(app: &TestApp) -> SocketAddr {
    app.base.trim_start_matches("http://").parse().unwrap()
}

/// A connection to the bot from `from` (any 127.x address works on Linux loopback), so a
/// test can play a second client with its own address.
async fn connect_from(app: &TestApp, from: [u8; 4]) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    socket.connect(addr(app)).await.unwrap()
}

/// Reads until the server closes the connection; the bytes it sent.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut answer = Vec::new();
    // A reset instead of a clean close also ends the connection.
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let app = TestApp::spawn_with(|config| config.http.header_read_timeout_secs = 1).await;
    let mut slow = connect_from(&app, [127, 0, 0, 1]).await;
    slow.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();

    let answer = within(read_to_close(&mut slow)).await;

    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(!answer.contains("200 OK"), "{answer}");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_timeout() {
    let app = TestApp::spawn_with(|config| config.http.header_read_timeout_secs = 1).await;
    let mut idle = connect_from(&app, [127, 0, 0, 1]).await;
    idle.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();

    let answer = within(read_to_close(&mut idle)).await;

    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_connection_over_the_per_address_cap_gets_a_json_503() {
    let app = TestApp::spawn_with(|config| config.http.max_connections_per_ip = 3).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from(&app, [127, 0, 0, 2]).await);
    }
    // Let the accept loop count them.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut extra = connect_from(&app, [127, 0, 0, 2]).await;
    extra
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();

    let answer = within(read_to_close(&mut extra)).await;

    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 1"), "{answer}");
    assert!(
        answer.contains(r#""code":"too_many_connections""#),
        "{answer}"
    );
    // Another address is still served, and the capped one again once it lets go.
    let (status, _) = app.get("/health", None).await;
    assert_eq!(status, StatusCode::OK);
    drop(held);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut again = connect_from(&app, [127, 0, 0, 2]).await;
    again
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    assert!(within(read_to_close(&mut again))
        .await
        .starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn a_thousand_half_sent_requests_from_one_client_do_not_starve_the_others() {
    // Start from a common soft open-files limit (systemd's default): past it, a server
    // that neither raises it nor caps connections stops accepting anyone.
    let limit = getrlimit(Resource::Nofile);
    let common = Rlimit {
        current: Some(1024),
        maximum: limit.maximum,
    };
    setrlimit(Resource::Nofile, common).unwrap();
    let app = TestApp::spawn().await;
    let mut attack = Vec::new();
    // More than the usual soft open-files limit of 1024: past it, an uncapped server stops
    // accepting anyone.
    for _ in 0..1100 {
        let mut stream = connect_from(&app, [127, 0, 0, 3]).await;
        stream
            .write_all(b"POST /tasks HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        attack.push(stream);
    }

    for _ in 0..20 {
        let started = Instant::now();
        let (status, _) = app.get("/health", None).await;

        assert_eq!(status, StatusCode::OK);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }
    let id = app.submit_command("echo still-served").await;
    let (status, _) = app.task(id, 0).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn small_routes_refuse_large_bodies_that_a_file_write_may_send() {
    let app = TestApp::spawn().await;
    let padding = "x".repeat(1024 * 1024);
    let heartbeat = json!({"worker": "mac", "leases": [], "padding": padding});
    let write = json!({"path": "/tmp/big", "content": padding});

    let (heartbeat_status, heartbeat_body) = app
        .post("/v1/worker/heartbeat", Some(WORKER), &heartbeat)
        .await;
    let (write_status, _) = app.post("/files/write", Some(CLIENT), &write).await;

    assert_eq!(heartbeat_status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(heartbeat_body["code"], "payload_too_large");
    assert_eq!(write_status, StatusCode::OK);
}
