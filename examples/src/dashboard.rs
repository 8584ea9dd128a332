//! The dashboard program: subscribes to channels on the brain's channel endpoint
//! (`/api/ws?token=`, document 004) and hands on every message, subscribing again after
//! each reconnect.

use brainwire_channel::{decode_server_with, ChannelId, ServerMessage, Subscriptions};
use brainwire_close::{Backoff, NamesCloseCode};
use brainwire_core::Limits;
use bytes::Bytes;
use tokio::sync::mpsc;

use crate::watch::{watch, Step, Watcher};

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

struct Dashboard {
    subscriptions: Subscriptions,
    limits: Limits,
    sink: mpsc::UnboundedSender<ServerMessage>,
    events: usize,
    stop_after: Option<usize>,
}

impl Watcher for Dashboard {
    fn on_connect(&mut self) -> Vec<Bytes> {
        self.subscriptions.resubscribe()
    }

    fn on_message(&mut self, wire: &[u8]) -> Step {
        let message = match decode_server_with(wire, &self.limits) {
            Ok(message) => message,
            Err(e) => return Step::Refuse(e.close_frame()),
        };
        self.subscriptions.handle_message(&message);
        if matches!(message, ServerMessage::Event(_)) {
            self.events += 1;
        }
        let reader_gone = self.sink.send(message).is_err();
        if reader_gone || self.stop_after.is_some_and(|n| self.events >= n) {
            Step::Done
        } else {
            Step::Continue
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
    let mut subscriptions = Subscriptions::default();
    for channel in options.channels {
        // The first connection sends them all through `resubscribe`.
        let _ = subscriptions.subscribe(channel);
    }
    let mut dashboard = Dashboard {
        subscriptions,
        limits: Limits::default(),
        sink,
        events: 0,
        stop_after: options.stop_after_events,
    };
    let url = format!("{}?token={}", options.url, options.token);
    watch(&url, options.backoff, &mut dashboard).await
}
