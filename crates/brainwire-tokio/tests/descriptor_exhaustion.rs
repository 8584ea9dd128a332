//! The accept loop against EMFILE. A test binary of its own: it lowers this process's
//! descriptor limit, which would starve any test running beside it.
#![cfg(target_os = "linux")]

use std::time::Duration;

use brainwire_tokio::serve;
use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

#[tokio::test]
async fn the_accept_loop_outlives_descriptor_exhaustion() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Each accepted connection greets its client, then holds its descriptor until the
    // client goes away.
    tokio::spawn(serve(listener, 10_000, |mut stream, _| async move {
        if stream.write_all(b"k").await.is_ok() {
            let mut byte = [0u8; 1];
            let _ = stream.read(&mut byte).await;
        }
    }));

    let saved = getrlimit(Resource::Nofile);
    let open = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(open + 24),
            maximum: saved.maximum,
        },
    )
    .unwrap();

    // Clients and the server's accepted sockets share the 24 descriptors: the server runs
    // out first or the clients do; either way accept fails with EMFILE at some point.
    let mut clients = Vec::new();
    for _ in 0..40 {
        match timeout(Duration::from_millis(200), TcpStream::connect(addr)).await {
            Ok(Ok(client)) => clients.push(client),
            _ => break,
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(clients.len() >= 8, "{} clients connected", clients.len());
    drop(clients);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The server is still accepting, and serves a new client.
    let mut client = timeout(Duration::from_secs(5), TcpStream::connect(addr))
        .await
        .unwrap()
        .unwrap();
    let mut greeting = [0u8; 1];
    timeout(Duration::from_secs(5), client.read_exact(&mut greeting))
        .await
        .expect("served after the descriptors came back")
        .unwrap();
    assert_eq!(&greeting, b"k");
    setrlimit(Resource::Nofile, saved).unwrap();
}
