//! The accept loop: a cap on connections, and accept errors (descriptor exhaustion,
//! aborted handshakes) logged and waited out instead of ending the server.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::log::warn_event;

/// Longest wait after a failed accept: the failures that repeat (EMFILE, ENFILE, ENOBUFS)
/// clear only when connections close, so a tight retry would only burn CPU.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Accepts connections on `listener` for ever (with `TCP_NODELAY` set on each), running
/// `handle` on a task of its own for each, at most `max_connections` at once (past that, new connections wait in the
/// listen backlog). A failed accept is logged and retried after a pause that doubles from
/// 10 ms to 1 s while failures repeat; it never ends the loop.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub async fn serve<H, F>(listener: TcpListener, max_connections: usize, handle: H) -> Infallible
where
    H: Fn(TcpStream, SocketAddr) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(max_connections.max(1)));
    let mut backoff = Duration::ZERO;
    loop {
        let permit = Arc::clone(&permits)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        match listener.accept().await {
            Ok((stream, peer)) => {
                backoff = Duration::ZERO;
                // Nagle off: each WebSocket message is written whole, and an ack held
                // back by Nagle waits for the peer's delayed ACK. Failing to set it
                // leaves a slower connection, not a broken one.
                let _ = stream.set_nodelay(true);
                let task = handle(stream, peer);
                tokio::spawn(async move {
                    task.await;
                    drop(permit);
                });
            }
            Err(error) if is_per_connection(&error) => {}
            Err(error) => {
                backoff = (backoff * 2).clamp(Duration::from_millis(10), MAX_ACCEPT_BACKOFF);
                warn_event!(%error, ?backoff, "accept failed; retrying");
                tokio::time::sleep(backoff).await;
            }
        }
    }
}

/// Failures of one incoming connection (it was reset or aborted before it was taken),
/// which say nothing about the next one.
fn is_per_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}
