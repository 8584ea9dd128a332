//! The brain's side of the run status stream (document 003): a [`Broadcaster`] whose
//! publications reach every connected client through its own queue.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use brainwire_close::NamesCloseCode;
use brainwire_run::{Body, Broadcaster, StatusDocument};
use tokio::io::{AsyncRead, AsyncWrite};

#[cfg(feature = "axum")]
use crate::axum_socket::Upgrade;
use crate::brain::AcceptError;
use crate::dashboard::{serve_client, DashboardOptions, Outboxes};
use crate::ws::{close_message, config, send_within, text, MessageSocket};

/// Serves the run status stream to any number of clients: each is greeted, gets every
/// [`publish`](Self::publish)ed message (encoded once for all), and has its messages
/// echoed, as document 003 says. A client too slow to drain
/// [`DashboardOptions::queue_bytes`] is closed with 1013 rather than slowing the brain.
/// Cheap to clone: clones serve the same clients.
#[derive(Clone)]
pub struct RunStreamServer {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    options: DashboardOptions,
    next_id: AtomicU64,
}

struct State {
    broadcaster: Broadcaster<u64>,
    outboxes: Outboxes,
}

impl std::fmt::Debug for RunStreamServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunStreamServer")
            .field("connected", &self.connected())
            .finish_non_exhaustive()
    }
}

impl RunStreamServer {
    /// A server publishing through `broadcaster` (its greeting and client cap apply).
    pub fn new(broadcaster: Broadcaster<u64>, options: DashboardOptions) -> Self {
        let outboxes = Outboxes::new(options.queue_bytes);
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    broadcaster,
                    outboxes,
                }),
                options,
                next_id: AtomicU64::new(1),
            }),
        }
    }

    /// Encodes `body` once and queues it for every client; returns how many got it.
    pub fn publish(&self, body: Body) -> usize {
        let bytes = self.encode(body);
        self.publish_encoded(bytes)
    }

    /// Encodes `body` once, stamped now, without queueing it: what a node of a brain on
    /// several nodes publishes on its bus (Redis, NATS, ...) for every node's
    /// [`publish_encoded`](Self::publish_encoded).
    pub fn encode(&self, body: Body) -> bytes::Bytes {
        self.state().broadcaster.encode(body)
    }

    /// Queues `bytes`, an encoded run message from [`encode`](Self::encode) on any node,
    /// for every client of this server, as they are: nothing is decoded or re-encoded.
    /// Returns how many got it.
    pub fn publish_encoded(&self, bytes: bytes::Bytes) -> usize {
        let mut state = self.state();
        let fanout = state.broadcaster.fanout(bytes);
        let dropped = state.outboxes.deliver(&fanout.recipients, &fanout.bytes);
        for slow in &dropped {
            state.broadcaster.leave(slow);
        }
        fanout.recipients.len() - dropped.len()
    }

    /// The status document of `GET /api/brain/status/ws`, naming `endpoint` as the
    /// stream's path.
    pub fn status(&self, endpoint: &str) -> StatusDocument {
        self.state().broadcaster.status(endpoint)
    }

    /// Clients connected now.
    pub fn connected(&self) -> usize {
        self.state().broadcaster.connected()
    }

    /// Upgrades `stream` to a WebSocket (within the handshake timeout, with the message
    /// and buffer limits of the options) and serves it until it ends. Authorize the
    /// client before calling this. Gives the close code sent or received.
    ///
    /// # Errors
    ///
    /// [`AcceptError::Handshake`] or [`AcceptError::HandshakeTimeout`].
    pub async fn accept<S>(&self, stream: S) -> Result<Option<u16>, AcceptError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let options = &self.shared.options;
        let limits = config(options.max_message_bytes, options.buffer_bytes);
        let upgrade = tokio_tungstenite::accept_async_with_config(stream, Some(limits));
        match tokio::time::timeout(options.handshake_timeout, upgrade).await {
            Ok(Ok(socket)) => Ok(self.serve(socket).await),
            Ok(Err(error)) => Err(AcceptError::Handshake(error)),
            Err(_) => Err(AcceptError::HandshakeTimeout),
        }
    }

    /// Serves one upgraded client until it ends.
    pub(crate) async fn serve<W: MessageSocket>(&self, mut socket: W) -> Option<u16> {
        let options = &self.shared.options;
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let joined = {
            let mut state = self.state();
            match state.broadcaster.join(id) {
                Ok(greeting) => Ok((greeting, state.outboxes.open(id))),
                Err(full) => Err(full.close_frame()),
            }
        };
        let (greeting, mut outbox) = match joined {
            Ok(joined) => joined,
            Err(full) => {
                let _ = send_within(&mut socket, close_message(&full), options.write_timeout).await;
                return Some(full.code());
            }
        };
        options.stats.opened();
        let code = match send_within(&mut socket, text(greeting), options.write_timeout).await {
            Ok(()) => {
                serve_client(&mut socket, &mut outbox, options, |received| {
                    // A message that is not JSON within limits gets no echo (document 003).
                    self.state().broadcaster.handle_message(&id, received).ok()
                })
                .await
            }
            Err(_) => None,
        };
        let mut state = self.state();
        state.broadcaster.leave(&id);
        state.outboxes.close(id);
        options.stats.closed(code);
        code
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // Nothing panics while holding the lock; should something, the state is still
        // consistent enough to serve (the worst is a client counted once too often).
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(feature = "axum")]
impl RunStreamServer {
    /// The stream's axum route: `GET` upgrades to a WebSocket with the options' limits
    /// and serves it. Put authorization in front of it as a layer
    /// (`MethodRouter::route_layer`).
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    pub fn route<S: Clone + Send + Sync + 'static>(&self) -> axum::routing::MethodRouter<S> {
        let server = self.clone();
        axum::routing::get(move |upgrade: Upgrade| async move {
            let upgrade = match crate::axum_socket::upgrade_or_answer(upgrade) {
                Ok(upgrade) => upgrade,
                Err(answer) => return answer,
            };
            let options = &server.shared.options;
            crate::axum_socket::limits(upgrade, options.max_message_bytes, options.buffer_bytes)
                .on_upgrade(move |socket| async move {
                    server.serve(crate::axum_socket::AxumSocket(socket)).await;
                })
        })
    }

    /// The status document's axum route: `GET` answers with
    /// [`status`](Self::status)`(endpoint)` as JSON.
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    pub fn status_route<S: Clone + Send + Sync + 'static>(
        &self,
        endpoint: impl Into<String>,
    ) -> axum::routing::MethodRouter<S> {
        let server = self.clone();
        let endpoint: Arc<str> = endpoint.into().into();
        axum::routing::get(move || async move { axum::Json(server.status(&endpoint)) })
    }
}
