//! The client loop the dashboard programs share: connect, greet, read until done, and
//! reconnect per [`ReconnectPolicy`] when the connection is lost.

use std::time::Duration;

use brainwire_close::{Backoff, CloseFrame, Reconnect, ReconnectPolicy, StandardCode};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Error as WsError;

use crate::outbox::text;
use crate::ws::{close_message, next_incoming, Incoming};

/// Largest message a dashboard program reads from the brain.
const MAX_MESSAGE: usize = 1024 * 1024;

/// What a watcher wants after a message.
pub(crate) enum Step {
    /// Keep reading.
    Continue,
    /// Close normally (1000) and stop.
    Done,
    /// The brain sent something unreadable: close with this frame, then reconnect or stop
    /// as its code says.
    Refuse(CloseFrame),
}

/// A dashboard program's side of the loop.
pub(crate) trait Watcher {
    /// The messages to send on every new connection (subscriptions, for instance).
    fn on_connect(&mut self) -> Vec<Bytes>;
    /// Takes one message from the brain.
    fn on_message(&mut self, wire: &[u8]) -> Step;
}

/// Runs `watcher` against `url` until it is done; returns how many connections it took.
///
/// # Errors
///
/// When the brain refuses the upgrade (401, 404, ...), or the policy stops reconnecting.
pub(crate) async fn watch(
    url: &str,
    backoff: Backoff,
    watcher: &mut impl Watcher,
) -> anyhow::Result<usize> {
    let mut policy = ReconnectPolicy::new(backoff);
    let mut connections = 0;
    loop {
        let code = match connection(url, watcher, &mut policy).await {
            Ok(Ended::Done) => return Ok(connections + 1),
            Ok(Ended::Lost(code)) => {
                connections += 1;
                code
            }
            Err(WsError::Http(response)) => {
                anyhow::bail!("{url} refused the connection: {}", response.status())
            }
            Err(_) => None,
        };
        let decision = match code.and_then(|c| StandardCode::try_from(c).ok()) {
            Some(code) => policy.on_close(code),
            None => policy.on_connection_lost(),
        };
        match decision {
            Reconnect::RetryAfter(delay) => tokio::time::sleep(delay).await,
            Reconnect::Stop(reason) => anyhow::bail!("stopped: {reason:?}"),
        }
    }
}

enum Ended {
    Done,
    Lost(Option<u16>),
}

async fn connection(
    url: &str,
    watcher: &mut impl Watcher,
    policy: &mut ReconnectPolicy,
) -> Result<Ended, WsError> {
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE));
    let (mut socket, _) =
        tokio_tungstenite::connect_async_with_config(url, Some(config), false).await?;
    policy.on_connected();
    for greeting in watcher.on_connect() {
        let message = text(greeting).map_err(|e| WsError::Io(std::io::Error::other(e)))?;
        socket.send(message).await?;
    }
    loop {
        match next_incoming(socket.next().await) {
            Some(Ok(Incoming::Frame(bytes))) => match watcher.on_message(&bytes) {
                Step::Continue => {}
                Step::Done => {
                    let done = CloseFrame::new(StandardCode::Normal, "done");
                    socket.send(close_message(&done)).await?;
                    // Let the brain's close reply arrive, briefly.
                    let _ = tokio::time::timeout(Duration::from_secs(1), socket.next()).await;
                    return Ok(Ended::Done);
                }
                Step::Refuse(close) => {
                    socket.send(close_message(&close)).await?;
                    return Ok(Ended::Lost(Some(close.code())));
                }
            },
            Some(Ok(Incoming::Ignore)) => {}
            Some(Ok(Incoming::Closed(code))) => return Ok(Ended::Lost(code)),
            Some(Err(_)) | None => return Ok(Ended::Lost(None)),
        }
    }
}
