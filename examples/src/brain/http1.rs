//! One accepted connection served as HTTP/1.1 by hyper, with the limits a brain facing
//! the internet needs and `axum::serve` does not set: a deadline on the request head and
//! a cap on its size. WebSocket upgrades go through to the router's endpoints.

use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpStream;

/// Most bytes buffered for a request head (hyper's minimum; it answers 431 past it).
pub(crate) const MAX_HEAD_BYTES: usize = 8 * 1024;

/// Serves `stream` with `router` until the client or an upgraded WebSocket ends it; each
/// request head must arrive within `head_deadline`.
pub(crate) async fn serve_connection(stream: TcpStream, router: Router, head_deadline: Duration) {
    let service = TowerToHyperService::new(router);
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(head_deadline)
        .max_buf_size(MAX_HEAD_BYTES)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    // A failed connection (a malformed or slow head, a reset) concerns only its client.
    let _ = connection.await;
}
