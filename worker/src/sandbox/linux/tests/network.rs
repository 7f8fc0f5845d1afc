//! The network switch: TCP through Landlock, every other socket through seccomp.

use super::*;

/// A shell script that opens a TCP connection to `port` on the loopback.
fn tcp_connect(port: u16) -> String {
    format!("exec 3<>/dev/tcp/127.0.0.1/{port}")
}

#[tokio::test]
async fn tcp_connection_is_refused_without_the_network() {
    let home = Home::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();

    let output = run(
        &home.allowed(false),
        "/bin/bash",
        &["-c", &tcp_connect(port)],
    )
    .await;

    assert_refused(&output, "Operation not permitted");
}

#[tokio::test]
async fn tcp_connection_works_with_the_network() {
    let home = Home::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();

    let output = run(
        &home.allowed(true),
        "/bin/bash",
        &["-c", &tcp_connect(port)],
    )
    .await;

    assert_ok(&output);
    listener.set_nonblocking(true).unwrap();
    assert!(listener.accept().is_ok(), "the connection never arrived");
}

#[tokio::test]
async fn udp_socket_is_refused_without_the_network() {
    let home = Home::new();
    let script = "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM)";

    let output = python(&home.allowed(false), script, &[]).await;

    assert_refused(&output, "Operation not permitted");
}

#[tokio::test]
async fn unix_socket_is_refused_even_with_the_network() {
    let home = Home::new();
    let path = home.path("tmp/bus.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let script = "import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])";

    for network in [false, true] {
        let output = python(&home.allowed(network), script, &[path.to_str().unwrap()]).await;

        assert_refused(&output, "Operation not permitted");
    }
}

#[tokio::test]
async fn socketpair_works_without_the_network() {
    let home = Home::new();
    let script =
        "import socket; a, b = socket.socketpair(); a.send(b'x'); assert b.recv(1) == b'x'";

    let output = python(&home.allowed(false), script, &[]).await;

    assert_ok(&output);
}

#[tokio::test]
async fn name_resolution_works_with_the_network() {
    let home = Home::new();
    let script =
        "import socket; socket.getaddrinfo('localhost', 80, 0, 0, 0, socket.AI_ADDRCONFIG)";

    let output = python(&home.allowed(true), script, &[]).await;

    assert_ok(&output);
}

#[test]
fn landlock_alone_refuses_tcp_without_the_network() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();

    let connect_confined = |network: bool| {
        std::thread::spawn(move || {
            landlock::restrict_current_thread(&[], network).unwrap();
            std::net::TcpStream::connect(address).map(drop)
        })
        .join()
        .unwrap()
    };

    let offline = connect_confined(false).unwrap_err();
    assert_eq!(offline.kind(), std::io::ErrorKind::PermissionDenied);
    connect_confined(true).unwrap();
}
