//! The run-watch program: follows the brain's run status stream (`/ws`, document 003),
//! folding it into a [`TaskBoard`] and handing on every message.

use brainwire_close::Backoff;
use brainwire_run::{RunMessage, TaskBoard};
use brainwire_tokio::{RunStream, WatchOptions};
use tokio::sync::mpsc;

/// Most tasks the board keeps.
const MAX_TASKS: usize = 100_000;

/// What the run-watch program is told on its command line.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunWatchOptions {
    /// The run stream, `ws://HOST:PORT/ws`.
    pub url: String,
    /// Stop after this many `run_*` messages; `None` watches until the brain goes away.
    pub stop_after_runs: Option<usize>,
    /// Backoff between connection attempts (document 003: five retries).
    pub backoff: Backoff,
}

impl RunWatchOptions {
    /// Options following the stream at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            stop_after_runs: None,
            backoff: Backoff::default().with_max_attempts(5),
        }
    }
}

/// Follows the stream, sending every message to `sink`, until enough `run_*` messages
/// arrived or `sink`'s reader is gone; returns the board of every task's latest state.
///
/// # Errors
///
/// When the brain refuses the connection or the reconnect policy gives up.
pub async fn run(
    options: RunWatchOptions,
    sink: mpsc::UnboundedSender<RunMessage>,
) -> anyhow::Result<TaskBoard> {
    let mut watch = WatchOptions::new(options.url);
    watch.backoff = options.backoff;
    let mut stream = RunStream::spawn(watch);
    let mut board = TaskBoard::new(MAX_TASKS);
    let mut runs = 0;
    while let Some(message) = stream.next().await {
        if message.body.run_data().is_some() {
            runs += 1;
        }
        board.apply(&message);
        let reader_gone = sink.send(message).is_err();
        if reader_gone || options.stop_after_runs.is_some_and(|n| runs >= n) {
            break;
        }
    }
    // Closes with 1000, or reports why the stream had stopped on its own.
    stream.close().await?;
    Ok(board)
}
