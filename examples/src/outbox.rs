//! The queues of the brain's dashboard connections: a publication is handed to each
//! recipient's queue without waiting, and a client too slow to drain its queue is dropped
//! rather than slowing the brain.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use brainwire_close::{CloseFrame, StandardCode};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

use crate::http::Upgraded;
use crate::ws::{close_message, next_incoming, Incoming};

/// Bytes a client may have waiting before it counts as too slow. Counted in bytes, not
/// messages: one agent batch of 500 events fans out into 500 to 1,000 messages at once,
/// which a prompt reader drains, but which a cap of a few hundred messages would take for
/// slowness.
pub(crate) const QUEUE_BYTES: usize = 8 * 1024 * 1024;

/// How long one write to a dashboard may wait: a client that stops reading is dropped,
/// it does not keep its task (and socket) waiting for ever.
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// One client's queue: the messages, and how many bytes they hold.
#[derive(Debug)]
pub(crate) struct Outbox {
    messages: mpsc::UnboundedReceiver<Bytes>,
    queued_bytes: Arc<AtomicUsize>,
}

/// Each connected client's queue, by connection id.
#[derive(Debug, Default)]
pub(crate) struct Outboxes(HashMap<u64, (mpsc::UnboundedSender<Bytes>, Arc<AtomicUsize>)>);

impl Outboxes {
    /// Opens the queue of connection `id`; its task sends what arrives in it.
    pub fn open(&mut self, id: u64) -> Outbox {
        let (sender, messages) = mpsc::unbounded_channel();
        let queued_bytes = Arc::new(AtomicUsize::new(0));
        self.0.insert(id, (sender, Arc::clone(&queued_bytes)));
        Outbox {
            messages,
            queued_bytes,
        }
    }

    /// Closes the queue of connection `id`.
    pub fn close(&mut self, id: u64) {
        self.0.remove(&id);
    }

    /// Queues `bytes` for each recipient; returns those dropped because their queue held
    /// [`QUEUE_BYTES`] already or was gone. A dropped client's queue ends, and its task
    /// closes the connection.
    pub fn deliver(&mut self, recipients: &[u64], bytes: &Bytes) -> Vec<u64> {
        let mut dropped = Vec::new();
        for id in recipients {
            let queued = self.0.get(id).is_some_and(|(sender, queued_bytes)| {
                let before = queued_bytes.fetch_add(bytes.len(), Ordering::Relaxed);
                before + bytes.len() <= QUEUE_BYTES && sender.send(bytes.clone()).is_ok()
            });
            if !queued {
                self.0.remove(id);
                dropped.push(*id);
            }
        }
        dropped
    }
}

/// Runs a dashboard connection: sends it what arrives in `outbox` and answers each of
/// its messages with what `answer` returns, until either side ends. A closed queue means
/// the client was dropped as too slow, and it is told so (1013). Every write waits at
/// most [`WRITE_TIMEOUT`].
pub(crate) async fn pump(
    socket: &mut WebSocketStream<Upgraded>,
    outbox: &mut Outbox,
    mut answer: impl FnMut(&[u8]) -> Option<Bytes>,
) -> anyhow::Result<()> {
    loop {
        tokio::select! {
            queued = outbox.messages.recv() => match queued {
                Some(bytes) => {
                    outbox.queued_bytes.fetch_sub(bytes.len(), Ordering::Relaxed);
                    send(socket, text(bytes)?).await?;
                }
                None => {
                    let close = CloseFrame::new(StandardCode::TryAgainLater, "too slow to keep up");
                    return send(socket, close_message(&close)).await;
                }
            },
            message = socket.next() => match next_incoming(message) {
                Some(Ok(Incoming::Frame(bytes))) => {
                    if let Some(reply) = answer(&bytes) {
                        send(socket, text(reply)?).await?;
                    }
                }
                Some(Ok(Incoming::Ignore)) => {}
                Some(Ok(Incoming::Closed(_)) | Err(_)) | None => return Ok(()),
            },
        }
    }
}

/// Sends `message`, giving up after [`WRITE_TIMEOUT`].
pub(crate) async fn send(
    socket: &mut WebSocketStream<Upgraded>,
    message: Message,
) -> anyhow::Result<()> {
    tokio::time::timeout(WRITE_TIMEOUT, socket.send(message))
        .await
        .map_err(|_| anyhow::anyhow!("write timed out: the client stopped reading"))??;
    Ok(())
}

/// JSON bytes as a text message (browsers hand binary messages over as blobs).
pub(crate) fn text(json: Bytes) -> anyhow::Result<Message> {
    Ok(Message::Text(Utf8Bytes::try_from(json)?))
}
