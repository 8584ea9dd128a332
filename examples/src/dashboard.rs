//! The dashboard program: subscribes to channels on the brain's channel endpoint
//! (`/api/ws?token=`, document 004) and hands on every message, subscribing again after
//! each reconnect.

use brainwire_channel::{ChannelId, ServerMessage};
use brainwire_close::Backoff;
use brainwire_tokio::{ChannelClient, WatchOptions};
use tokio::sync::mpsc;

/// What the dashboard program is told on its command line.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DashboardOptions {
    /// The channel endpoint, `ws://HOST:PORT/api/ws`.
    pub url: String,
    /// The token passed as `?token=`.
    pub token: String,
    /// The channels to watch.
    pub channels: Vec<ChannelId>,
    /// Stop after this many events; `None` watches until the brain goes away.
    pub stop_after_events: Option<usize>,
    /// Backoff between connection attempts (document 004: 1 s doubling to 30 s).
    pub backoff: Backoff,
}

impl DashboardOptions {
    /// Options watching `channels` on `url`.
    pub fn new(url: impl Into<String>, token: impl Into<String>, channels: Vec<ChannelId>) -> Self {
        Self {
            url: url.into(),
            token: token.into(),
            channels,
            stop_after_events: None,
            backoff: Backoff::default().with_max_attempts(10),
        }
    }
}

/// Watches the channels of `options`, sending every message from the brain (replies and
/// events) to `sink`, until enough events arrived or `sink`'s reader is gone; returns the
/// number of connections it took.
///
/// # Errors
///
/// When the brain refuses the token (401) or the reconnect policy gives up.
pub async fn run(
    options: DashboardOptions,
    sink: mpsc::UnboundedSender<ServerMessage>,
) -> anyhow::Result<usize> {
    let mut watch = WatchOptions::new(format!("{}?token={}", options.url, options.token));
    watch.backoff = options.backoff;
    let mut client = ChannelClient::spawn(watch, options.channels);
    let mut events = 0;
    while let Some(message) = client.next().await {
        if matches!(message, ServerMessage::Event(_)) {
            events += 1;
        }
        let reader_gone = sink.send(message).is_err();
        if reader_gone || options.stop_after_events.is_some_and(|n| events >= n) {
            break;
        }
    }
    let connections = client.stats().connections as usize;
    client.close().await?;
    Ok(connections)
}
