//! The run status stream on `/ws` (document 003): a [`Broadcaster`] and each client's
//! queue.

use brainwire_close::NamesCloseCode;
use brainwire_core::WallClock;
use brainwire_run::{Body, Broadcaster};
use tokio::net::TcpStream;

use super::{Shared, RUN_PATH};
use crate::http::upgrade;
use crate::outbox::{pump, send, text, Outboxes};
use crate::ws::close_message;

/// Largest message a run stream client may send (the broadcaster echoes at most 64 KiB).
const MAX_CLIENT_MESSAGE: usize = 64 * 1024;

/// Who is connected to the run stream, and their queues.
#[derive(Debug)]
pub(super) struct RunStream {
    broadcaster: Broadcaster<u64>,
    outboxes: Outboxes,
}

impl RunStream {
    pub fn new() -> Self {
        Self {
            broadcaster: Broadcaster::new(
                "Connected to brainwire example brain",
                WallClock::system(),
            ),
            outboxes: Outboxes::default(),
        }
    }

    /// Serializes `body` once and queues it for every client.
    pub fn publish(&mut self, body: Body) {
        let fanout = self.broadcaster.publish(body);
        for slow in self.outboxes.deliver(&fanout.recipients, &fanout.bytes) {
            self.broadcaster.leave(&slow);
        }
    }

    /// The JSON of `GET /api/brain/status/ws`.
    pub fn status_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.broadcaster.status(RUN_PATH)).expect("serializable")
    }
}

/// Runs one run stream client whose request head (`read`) was read: greets it, sends it
/// every publication, and echoes what it sends.
pub(super) async fn connection(
    stream: TcpStream,
    read: Vec<u8>,
    shared: &Shared,
) -> anyhow::Result<()> {
    let mut socket = upgrade(stream, read, MAX_CLIENT_MESSAGE, 4 * 1024).await?;
    let id = shared.connection_id();
    let joined = {
        let mut run = shared.run_stream.lock().expect("not poisoned");
        run.broadcaster
            .join(id)
            .map(|greeting| (greeting, run.outboxes.open(id)))
    };
    let (greeting, mut queue) = match joined {
        Ok(joined) => joined,
        Err(full) => return send(&mut socket, close_message(&full.close_frame())).await,
    };
    let result = async {
        send(&mut socket, text(greeting)?).await?;
        pump(&mut socket, &mut queue, |received| {
            let mut run = shared.run_stream.lock().expect("not poisoned");
            // A message that is not JSON within limits gets no echo, as in document 003.
            run.broadcaster.handle_message(&id, received).ok()
        })
        .await
    }
    .await;
    let mut run = shared.run_stream.lock().expect("not poisoned");
    run.broadcaster.leave(&id);
    run.outboxes.close(id);
    result
}
