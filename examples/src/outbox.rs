//! The queues of the brain's dashboard connections: a publication is handed to each
//! recipient's queue without waiting, and a client too slow to drain its queue is dropped
//! rather than slowing the brain.

use std::collections::HashMap;

use brainwire_close::{CloseFrame, StandardCode};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use crate::http::Upgraded;
use crate::ws::{close_message, next_incoming, Incoming};

/// Messages a client may have waiting before it counts as too slow.
pub(crate) const QUEUE_DEPTH: usize = 256;

/// Each connected client's queue, by connection id.
#[derive(Debug, Default)]
pub(crate) struct Outboxes(HashMap<u64, mpsc::Sender<Bytes>>);

impl Outboxes {
    /// Opens the queue of connection `id`; its task sends what arrives on the receiver.
    pub fn open(&mut self, id: u64) -> mpsc::Receiver<Bytes> {
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        self.0.insert(id, sender);
        receiver
    }

    /// Closes the queue of connection `id`.
    pub fn close(&mut self, id: u64) {
        self.0.remove(&id);
    }

    /// Queues `bytes` for each recipient; returns those dropped because their queue was
    /// full or gone. A dropped client's receiver ends, and its task closes the connection.
    pub fn deliver(&mut self, recipients: &[u64], bytes: &Bytes) -> Vec<u64> {
        let mut dropped = Vec::new();
        for id in recipients {
            let queued = self
                .0
                .get(id)
                .is_some_and(|q| q.try_send(bytes.clone()).is_ok());
            if !queued {
                self.0.remove(id);
                dropped.push(*id);
            }
        }
        dropped
    }
}

/// Runs a dashboard connection: sends it what arrives in `queue` and answers each of its
/// messages with what `answer` returns, until either side ends. A closed queue means the
/// client was dropped as too slow, and it is told so (1013).
pub(crate) async fn pump(
    socket: &mut WebSocketStream<Upgraded>,
    queue: &mut mpsc::Receiver<Bytes>,
    mut answer: impl FnMut(&[u8]) -> Option<Bytes>,
) -> anyhow::Result<()> {
    loop {
        tokio::select! {
            queued = queue.recv() => match queued {
                Some(bytes) => socket.send(text(bytes)?).await?,
                None => {
                    let close = CloseFrame::new(StandardCode::TryAgainLater, "too slow to keep up");
                    return Ok(socket.send(close_message(&close)).await?);
                }
            },
            message = socket.next() => match next_incoming(message) {
                Some(Ok(Incoming::Frame(bytes))) => {
                    if let Some(reply) = answer(&bytes) {
                        socket.send(text(reply)?).await?;
                    }
                }
                Some(Ok(Incoming::Ignore)) => {}
                Some(Ok(Incoming::Closed(_)) | Err(_)) | None => return Ok(()),
            },
        }
    }
}

/// JSON bytes as a text message (browsers hand binary messages over as blobs).
pub(crate) fn text(json: Bytes) -> anyhow::Result<Message> {
    Ok(Message::Text(Utf8Bytes::try_from(json)?))
}
