//! The run-watch program: follows the brain's run status stream (`/ws`, document 003),
//! folding it into a [`TaskBoard`] and handing on every message.

use brainwire_close::{Backoff, NamesCloseCode};
use brainwire_run::{decode, RunMessage, TaskBoard};
use bytes::Bytes;
use tokio::sync::mpsc;

use crate::watch::{watch, Step, Watcher};

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

struct RunWatch {
    board: TaskBoard,
    sink: mpsc::UnboundedSender<RunMessage>,
    runs: usize,
    stop_after: Option<usize>,
}

impl Watcher for RunWatch {
    fn on_connect(&mut self) -> Vec<Bytes> {
        Vec::new()
    }

    fn on_message(&mut self, wire: &[u8]) -> Step {
        let message = match decode(wire) {
            Ok(message) => message,
            Err(e) => return Step::Refuse(e.close_frame()),
        };
        if message.body.run_data().is_some() {
            self.runs += 1;
        }
        self.board.apply(&message);
        let reader_gone = self.sink.send(message).is_err();
        if reader_gone || self.stop_after.is_some_and(|n| self.runs >= n) {
            Step::Done
        } else {
            Step::Continue
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
    let mut watcher = RunWatch {
        board: TaskBoard::new(MAX_TASKS),
        sink,
        runs: 0,
        stop_after: options.stop_after_runs,
    };
    watch(&options.url, options.backoff, &mut watcher).await?;
    Ok(watcher.board)
}
