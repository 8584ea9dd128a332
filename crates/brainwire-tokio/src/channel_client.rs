//! The channel events client (document 004): subscriptions replayed after every
//! reconnect.

use std::sync::Arc;

use brainwire_channel::{decode_server_with, ChannelId, ServerMessage, Subscriptions};
use brainwire_close::{CloseFrame, NamesCloseCode};
use brainwire_core::Limits;
use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::stats::{Stats, StatsSnapshot};
use crate::watch::{run, WatchError, WatchOptions, Watcher};

/// A channel events client: subscribes to its channels on every connection, so a
/// reconnect loses no subscription; gives every server message (subscription replies and
/// events). Dropping it closes the connection with 1000.
#[derive(Debug)]
pub struct ChannelClient {
    messages: mpsc::Receiver<ServerMessage>,
    requests: mpsc::Sender<Subscription>,
    stats: Arc<Stats>,
    driver: JoinHandle<Result<(), WatchError>>,
}

/// A change of subscription asked of a running [`ChannelClient`].
#[derive(Debug)]
enum Subscription {
    Subscribe(ChannelId),
    Unsubscribe(ChannelId),
}

struct ChannelWatcher {
    subscriptions: Subscriptions,
    limits: Limits,
}

impl Watcher for ChannelWatcher {
    type Item = ServerMessage;
    type Request = Subscription;

    fn on_connect(&mut self) -> Vec<Bytes> {
        self.subscriptions.resubscribe()
    }

    fn on_message(&mut self, wire: &[u8]) -> Result<Option<ServerMessage>, CloseFrame> {
        let message =
            decode_server_with(wire, &self.limits).map_err(|error| error.close_frame())?;
        self.subscriptions.handle_message(&message);
        Ok(Some(message))
    }

    fn on_request(&mut self, request: Subscription) -> Option<Bytes> {
        match request {
            Subscription::Subscribe(channel) => self.subscriptions.subscribe(channel),
            Subscription::Unsubscribe(channel) => self.subscriptions.unsubscribe(&channel),
        }
    }
}

/// The client has stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the client has stopped")]
pub struct ClientClosed;

impl ChannelClient {
    /// Connects to the channel endpoint at `options.url` and subscribes to `channels`.
    pub fn spawn(options: WatchOptions, channels: impl IntoIterator<Item = ChannelId>) -> Self {
        let mut subscriptions = Subscriptions::default();
        for channel in channels {
            // The first connection sends them all through `resubscribe`.
            let _ = subscriptions.subscribe(channel);
        }
        let (items, messages) = mpsc::channel(options.queue.max(1));
        let (requests, requests_rx) = mpsc::channel(64);
        let stats = Arc::new(Stats::default());
        let limits = Limits::default().max_bytes(options.max_message_bytes);
        let watcher = ChannelWatcher {
            subscriptions,
            limits,
        };
        let driver = tokio::spawn(run(
            options,
            watcher,
            items,
            requests_rx,
            Arc::clone(&stats),
        ));
        Self {
            messages,
            requests,
            stats,
            driver,
        }
    }

    /// The next message from the brain; `None` once the client has stopped.
    pub async fn next(&mut self) -> Option<ServerMessage> {
        self.messages.recv().await
    }

    /// Subscribes to `channel`, now and after every reconnect.
    ///
    /// # Errors
    ///
    /// [`ClientClosed`].
    pub async fn subscribe(&self, channel: ChannelId) -> Result<(), ClientClosed> {
        self.requests
            .send(Subscription::Subscribe(channel))
            .await
            .map_err(|_| ClientClosed)
    }

    /// Unsubscribes from `channel`.
    ///
    /// # Errors
    ///
    /// [`ClientClosed`].
    pub async fn unsubscribe(&self, channel: ChannelId) -> Result<(), ClientClosed> {
        self.requests
            .send(Subscription::Unsubscribe(channel))
            .await
            .map_err(|_| ClientClosed)
    }

    /// Connections, messages and bytes, closes by code.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Closes the connection with 1000 and waits for the client to stop.
    ///
    /// # Errors
    ///
    /// The [`WatchError`] it had stopped with, if it stopped on its own.
    pub async fn close(self) -> Result<(), WatchError> {
        let Self {
            messages,
            requests,
            driver,
            ..
        } = self;
        drop(messages);
        drop(requests);
        driver.await.unwrap_or(Ok(()))
    }
}
