//! The loop every push-only client shares (run stream, channels): connect, greet, read
//! and decode, hand each message to the application through a bounded queue, and
//! reconnect per [`ReconnectPolicy`] when the connection is lost.

use std::sync::Arc;
use std::time::Duration;

use brainwire_close::{Backoff, CloseFrame, Reconnect, ReconnectPolicy, StandardCode, StopReason};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_rustls::rustls::ClientConfig;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::Connector;

use crate::log::debug;
use crate::stats::Stats;
use crate::ws::{close_message, config, send_within, text, Incoming};

/// How a dashboard client ([`RunStream`](crate::RunStream),
/// [`ChannelClient`](crate::ChannelClient)) connects.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WatchOptions {
    /// The endpoint, token included where the brain wants it in the query
    /// (`ws://HOST/api/ws?token=…`, percent-encoded).
    pub url: String,
    /// Waits between connection attempts. Default: 1 s doubling to 30 s, full jitter,
    /// five attempts (document 003's client).
    pub backoff: Backoff,
    /// Largest message taken from the brain. Default 1 MiB.
    pub max_message_bytes: usize,
    /// How long a connection attempt may take. Default 10 s.
    pub connect_timeout: Duration,
    /// How long one write may wait. Default 10 s.
    pub write_timeout: Duration,
    /// Messages kept for the application before the client stops reading (the brain then
    /// sees a slow reader). Default 256.
    pub queue: usize,
    /// TLS for `wss://`; `None` trusts the platform's roots.
    pub tls: Option<Arc<ClientConfig>>,
}

impl WatchOptions {
    /// Options for `url` with the defaults above.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            backoff: Backoff::default().with_full_jitter().with_max_attempts(5),
            max_message_bytes: 1024 * 1024,
            connect_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            queue: 256,
            tls: None,
        }
    }
}

/// Why a dashboard client stopped for good.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The brain answered the upgrade with an HTTP status (401 bad token, 404, ...).
    #[error("the brain refused the connection with HTTP {0}")]
    Refused(u16),
    /// The reconnect policy stopped.
    #[error("stopped reconnecting: {0:?}")]
    Stopped(StopReason),
}

/// What a client makes of the brain's messages and of the application's requests.
pub(crate) trait Watcher: Send + 'static {
    /// What the application receives.
    type Item: Send + 'static;
    /// What the application asks for while running.
    type Request: Send + 'static;
    /// The messages to send on every new connection.
    fn on_connect(&mut self) -> Vec<Bytes>;
    /// One message from the brain: an item for the application, nothing, or a close.
    fn on_message(&mut self, wire: &[u8]) -> Result<Option<Self::Item>, CloseFrame>;
    /// A request of the application: a message to send now, if connected.
    fn on_request(&mut self, request: Self::Request) -> Option<Bytes>;
}

enum Ended {
    /// The application went away: done.
    Done,
    /// Lost or closed, with the code if there was one.
    Lost(Option<u16>),
}

/// Runs `watcher` until the application drops its receiver or the policy stops.
pub(crate) async fn run<W: Watcher>(
    options: WatchOptions,
    mut watcher: W,
    items: mpsc::Sender<W::Item>,
    mut requests: mpsc::Receiver<W::Request>,
    stats: Arc<Stats>,
) -> Result<(), WatchError> {
    let mut policy = ReconnectPolicy::new(options.backoff.clone());
    loop {
        let ended = connection(
            &options,
            &mut watcher,
            &items,
            &mut requests,
            &stats,
            &mut policy,
        )
        .await?;
        let code = match ended {
            Ended::Done => return Ok(()),
            Ended::Lost(code) => code,
        };
        let decision = match code.and_then(|c| StandardCode::try_from(c).ok()) {
            Some(code) => policy.on_close(code),
            None => policy.on_connection_lost(),
        };
        match decision {
            Reconnect::RetryAfter(delay) => {
                debug!(url = %options.url, ?delay, ?code, "reconnecting");
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = items.closed() => return Ok(()),
                }
            }
            Reconnect::Stop(reason) => return Err(WatchError::Stopped(reason)),
        }
    }
}

async fn connection<W: Watcher>(
    options: &WatchOptions,
    watcher: &mut W,
    items: &mpsc::Sender<W::Item>,
    requests: &mut mpsc::Receiver<W::Request>,
    stats: &Stats,
    policy: &mut ReconnectPolicy,
) -> Result<Ended, WatchError> {
    let limits = config(options.max_message_bytes, 16 * 1024);
    let tls = options.tls.clone().map(Connector::Rustls);
    let connect = tokio_tungstenite::connect_async_tls_with_config(
        options.url.as_str(),
        Some(limits),
        // Nagle off, as the agent's connection.
        true,
        tls,
    );
    let mut socket = match tokio::time::timeout(options.connect_timeout, connect).await {
        Ok(Ok((socket, _))) => socket,
        Ok(Err(WsError::Http(response))) => {
            return Err(WatchError::Refused(response.status().as_u16()))
        }
        Ok(Err(_)) | Err(_) => return Ok(Ended::Lost(None)),
    };
    stats.opened();
    // A connection that reached the brain resets the backoff.
    policy.on_connected();
    let ended = drive(options, watcher, items, requests, stats, &mut socket).await;
    stats.closed(match ended {
        Ended::Done => Some(1000),
        Ended::Lost(code) => code,
    });
    Ok(ended)
}

async fn drive<W: Watcher, S>(
    options: &WatchOptions,
    watcher: &mut W,
    items: &mpsc::Sender<W::Item>,
    requests: &mut mpsc::Receiver<W::Request>,
    stats: &Stats,
    socket: &mut tokio_tungstenite::WebSocketStream<S>,
) -> Ended
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    for greeting in watcher.on_connect() {
        stats.sent(greeting.len());
        if send_within(socket, text(greeting), options.write_timeout)
            .await
            .is_err()
        {
            return Ended::Lost(None);
        }
    }
    loop {
        tokio::select! {
            message = socket.next() => match message {
                Some(Ok(message)) => match Incoming::of(message) {
                    Incoming::Frame(bytes) => {
                        stats.received(bytes.len());
                        match watcher.on_message(&bytes) {
                            Ok(Some(item)) => {
                                if items.send(item).await.is_err() {
                                    return goodbye(options, socket).await;
                                }
                            }
                            Ok(None) => {}
                            Err(close) => {
                                let _ = send_within(socket, close_message(&close), options.write_timeout).await;
                                return Ended::Lost(Some(close.code()));
                            }
                        }
                    }
                    Incoming::Closed(code) => return Ended::Lost(code),
                    Incoming::Ignore => {}
                },
                Some(Err(_)) | None => return Ended::Lost(None),
            },
            request = requests.recv() => match request {
                Some(request) => {
                    if let Some(message) = watcher.on_request(request) {
                        stats.sent(message.len());
                        if send_within(socket, text(message), options.write_timeout).await.is_err() {
                            return Ended::Lost(None);
                        }
                    }
                }
                None => return goodbye(options, socket).await,
            },
            () = items.closed() => return goodbye(options, socket).await,
        }
    }
}

/// Closes with 1000: the application is done.
async fn goodbye<S>(
    options: &WatchOptions,
    socket: &mut tokio_tungstenite::WebSocketStream<S>,
) -> Ended
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let done = CloseFrame::new(StandardCode::Normal, "done");
    let _ = send_within(socket, close_message(&done), options.write_timeout).await;
    Ended::Done
}
