//! The run status stream client (document 003).

use std::sync::Arc;

use brainwire_close::{CloseFrame, NamesCloseCode};
use brainwire_core::Limits;
use brainwire_run::RunMessage;
use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::stats::{Stats, StatsSnapshot};
use crate::watch::{run, WatchError, WatchOptions, Watcher};

/// A run status stream client: every `connected`, `run_*` and `echo` message, in order,
/// across reconnects. Fold them with `brainwire_run::TaskBoard` for the latest state per
/// task. Dropping it closes the connection with 1000.
#[derive(Debug)]
pub struct RunStream {
    messages: mpsc::Receiver<RunMessage>,
    stats: Arc<Stats>,
    driver: JoinHandle<Result<(), WatchError>>,
    /// Held so that the loop, which ends when its requests close, runs until closed.
    keep_open: mpsc::Sender<()>,
}

struct RunWatcher {
    limits: Limits,
}

impl Watcher for RunWatcher {
    type Item = RunMessage;
    type Request = ();

    fn on_connect(&mut self) -> Vec<Bytes> {
        Vec::new()
    }

    fn on_message(&mut self, wire: &[u8]) -> Result<Option<RunMessage>, CloseFrame> {
        brainwire_run::decode_with(wire, &self.limits)
            .map(Some)
            .map_err(|error| error.close_frame())
    }

    fn on_request(&mut self, (): ()) -> Option<Bytes> {
        None
    }
}

impl RunStream {
    /// Connects to the run stream at `options.url` and keeps following it.
    pub fn spawn(options: WatchOptions) -> Self {
        let (items, messages) = mpsc::channel(options.queue.max(1));
        let (requests, requests_rx) = mpsc::channel(1);
        let stats = Arc::new(Stats::default());
        let limits = Limits::default().max_bytes(options.max_message_bytes);
        let driver = tokio::spawn(run(
            options,
            RunWatcher { limits },
            items,
            requests_rx,
            Arc::clone(&stats),
        ));
        Self {
            messages,
            stats,
            driver,
            keep_open: requests,
        }
    }

    /// The next message; `None` once the client has stopped.
    pub async fn next(&mut self) -> Option<RunMessage> {
        self.messages.recv().await
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
            driver,
            keep_open,
            ..
        } = self;
        drop(messages);
        drop(keep_open);
        driver.await.unwrap_or(Ok(()))
    }
}
