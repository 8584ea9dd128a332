//! What the brain's two dashboard endpoints share: limits, each client's queue counted in
//! bytes, and the loop that serves one client (its queue out, its messages answered, a
//! ping when it falls quiet, a drop when it stops answering).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use brainwire_close::{CloseFrame, StandardCode};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::stats::Stats;
use crate::ws::{close_message, send_within, text, Incoming, MessageSocket};

/// Limits and timeouts of dashboard connections (run stream and channel endpoints). Each
/// bounds something a client controls.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DashboardOptions {
    /// Largest message a client may send. Default 64 KiB (the run stream echoes at most
    /// that; the channel hub reads at most 4 KiB and refuses more with an `error` reply).
    pub max_message_bytes: usize,
    /// Read and write buffer per connection. Default 4 KiB: dashboards mostly listen,
    /// and 1,000 idle ones should not hold 128 MiB of tungstenite's default buffers.
    pub buffer_bytes: usize,
    /// Bytes a client may have waiting before it counts as too slow and is closed with
    /// 1013. Default 8 MiB. Counted in bytes, not messages: one agent batch of 500
    /// events fans out into 500 to 1,000 messages at once, which a prompt reader drains.
    pub queue_bytes: usize,
    /// How long one write may wait for the client to read. Default 10 s.
    pub write_timeout: Duration,
    /// How long the WebSocket upgrade may take (raw streams; axum has its own). Default
    /// 10 s.
    pub handshake_timeout: Duration,
    /// A client silent this long is sent a ping. Default 30 s. Push-only clients send
    /// nothing, so without pings a vanished one would hold its connection for ever.
    pub ping_interval: Duration,
    /// How long a pinged client has to send anything (its pong) before it is dropped.
    /// Default 30 s.
    pub pong_timeout: Duration,
    /// Counters every connection served with these options adds to.
    pub stats: Arc<Stats>,
}

impl Default for DashboardOptions {
    fn default() -> Self {
        Self {
            max_message_bytes: 64 * 1024,
            buffer_bytes: 4 * 1024,
            queue_bytes: 8 * 1024 * 1024,
            write_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(30),
            pong_timeout: Duration::from_secs(30),
            stats: Arc::new(Stats::default()),
        }
    }
}

/// One client's queue: the messages, and how many bytes they hold.
#[derive(Debug)]
pub(crate) struct Outbox {
    messages: mpsc::UnboundedReceiver<Bytes>,
    queued_bytes: Arc<AtomicUsize>,
}

/// Each connected client's queue, by connection id. The channels are unbounded in
/// messages but bounded in bytes by [`Outboxes::deliver`].
#[derive(Debug)]
pub(crate) struct Outboxes {
    queues: HashMap<u64, (mpsc::UnboundedSender<Bytes>, Arc<AtomicUsize>)>,
    limit_bytes: usize,
}

impl Outboxes {
    /// No queues; each will hold at most `limit_bytes`.
    pub(crate) fn new(limit_bytes: usize) -> Self {
        Self {
            queues: HashMap::new(),
            limit_bytes,
        }
    }

    /// Opens the queue of connection `id`; its task sends what arrives in it.
    pub(crate) fn open(&mut self, id: u64) -> Outbox {
        let (sender, messages) = mpsc::unbounded_channel();
        let queued_bytes = Arc::new(AtomicUsize::new(0));
        self.queues.insert(id, (sender, Arc::clone(&queued_bytes)));
        Outbox {
            messages,
            queued_bytes,
        }
    }

    /// Closes the queue of connection `id`.
    pub(crate) fn close(&mut self, id: u64) {
        self.queues.remove(&id);
    }

    /// Queues `bytes` (one buffer, shared) for each recipient; returns those dropped
    /// because their queue would pass its limit or was gone. A dropped client's queue
    /// ends, and its task closes the connection with 1013.
    pub(crate) fn deliver(&mut self, recipients: &[u64], bytes: &Bytes) -> Vec<u64> {
        let mut dropped = Vec::new();
        for id in recipients {
            let queued = self.queues.get(id).is_some_and(|(sender, queued_bytes)| {
                let before = queued_bytes.fetch_add(bytes.len(), Ordering::Relaxed);
                before + bytes.len() <= self.limit_bytes && sender.send(bytes.clone()).is_ok()
            });
            if !queued {
                self.queues.remove(id);
                dropped.push(*id);
            }
        }
        dropped
    }
}

/// Serves one dashboard client until either side ends: sends what arrives in `outbox`,
/// answers each client message with what `answer` returns, pings the client when it falls
/// quiet and drops it when it does not answer. A closed queue means the client was
/// dropped as too slow, and it is told so (1013). Every write waits at most the write
/// timeout. Returns the close code sent or received.
pub(crate) async fn serve_client<W: MessageSocket>(
    socket: &mut W,
    outbox: &mut Outbox,
    options: &DashboardOptions,
    mut answer: impl FnMut(&[u8]) -> Option<Bytes>,
) -> Option<u16> {
    let stats = &options.stats;
    let mut last_heard = Instant::now();
    let mut pinged = false;
    loop {
        let quiet_until = last_heard
            + if pinged {
                options.pong_timeout
            } else {
                options.ping_interval
            };
        let outgoing = tokio::select! {
            queued = outbox.messages.recv() => match queued {
                Some(bytes) => {
                    outbox.queued_bytes.fetch_sub(bytes.len(), Ordering::Relaxed);
                    stats.sent(bytes.len());
                    text(bytes)
                }
                None => {
                    stats.dropped();
                    let slow = CloseFrame::new(StandardCode::TryAgainLater, "too slow to keep up");
                    return close(socket, &slow, options).await;
                }
            },
            message = socket.next() => {
                last_heard = Instant::now();
                pinged = false;
                match message {
                    Some(Ok(message)) => match Incoming::of(message) {
                        Incoming::Frame(bytes) => {
                            stats.received(bytes.len());
                            match answer(&bytes) {
                                Some(reply) => {
                                    stats.sent(reply.len());
                                    text(reply)
                                }
                                None => continue,
                            }
                        }
                        Incoming::Ignore => continue,
                        Incoming::Closed(code) => return code,
                    },
                    Some(Err(tokio_tungstenite::tungstenite::Error::Capacity(_))) => {
                        let too_big = CloseFrame::new(StandardCode::MessageTooBig, "message too big");
                        return close(socket, &too_big, options).await;
                    }
                    Some(Err(_)) | None => return None,
                }
            }
            () = tokio::time::sleep_until(quiet_until) => {
                if pinged {
                    let gone = CloseFrame::new(StandardCode::GoingAway, "no answer to ping");
                    return close(socket, &gone, options).await;
                }
                pinged = true;
                Message::Ping(Bytes::new())
            }
        };
        if send_within(socket, outgoing, options.write_timeout)
            .await
            .is_err()
        {
            return None;
        }
    }
}

/// Sends `frame` within the write timeout; gives its code.
async fn close<W: MessageSocket>(
    socket: &mut W,
    frame: &CloseFrame,
    options: &DashboardOptions,
) -> Option<u16> {
    let _ = send_within(socket, close_message(frame), options.write_timeout).await;
    Some(frame.code())
}
