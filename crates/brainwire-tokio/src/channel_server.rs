//! The brain's side of the channel endpoint (document 004): a [`ChannelHub`] whose
//! events reach each subscribed connection through its own queue.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use brainwire_channel::{ChannelHub, ChannelId, Event, ServerMessage};
use brainwire_close::NamesCloseCode;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderMap, StatusCode, Uri};

#[cfg(feature = "axum")]
use crate::axum_socket::Upgrade;
use crate::brain::AcceptError;
use crate::dashboard::{serve_client, DashboardOptions, Outboxes};
use crate::ws::{close_message, config, send_within, MessageSocket};

/// Serves the channel endpoint: each connection acts for the user its request was
/// authenticated as, subscribes to what the hub's policy allows, and gets the events of
/// its channels ([`publish`](Self::publish)ed, encoded once per channel). A connection too
/// slow to drain [`DashboardOptions::queue_bytes`] is closed with 1013. Cheap to clone:
/// clones serve the same connections.
#[derive(Clone)]
pub struct ChannelServer {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    options: DashboardOptions,
    next_id: AtomicU64,
    /// Told of every subscription change.
    changed: tokio::sync::watch::Sender<()>,
}

struct State {
    hub: ChannelHub<u64>,
    outboxes: Outboxes,
}

impl std::fmt::Debug for ChannelServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelServer").finish_non_exhaustive()
    }
}

impl ChannelServer {
    /// A server over `hub` (its subscription policy and caps apply).
    pub fn new(hub: ChannelHub<u64>, options: DashboardOptions) -> Self {
        let outboxes = Outboxes::new(options.queue_bytes);
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State { hub, outboxes }),
                options,
                next_id: AtomicU64::new(1),
                changed: tokio::sync::watch::Sender::new(()),
            }),
        }
    }

    /// Encodes `event` once and queues it for the subscribers of `channel`; returns how
    /// many got it.
    pub fn publish(&self, event: &Event, channel: &ChannelId) -> usize {
        let bytes = self.encode(event);
        self.publish_encoded(channel, bytes)
    }

    /// Encodes `event` once without queueing it: what a node of a brain on several nodes
    /// publishes on its bus for every node's [`publish_encoded`](Self::publish_encoded).
    pub fn encode(&self, event: &Event) -> bytes::Bytes {
        self.state().hub.encode(event)
    }

    /// Queues `bytes`, an encoded event from [`encode`](Self::encode) on any node, for the
    /// subscribers of `channel` on this server, as they are: nothing is decoded or
    /// re-encoded. Returns how many got it.
    pub fn publish_encoded(&self, channel: &ChannelId, bytes: bytes::Bytes) -> usize {
        let mut state = self.state();
        let fanout = state.hub.fanout(channel, bytes);
        let dropped = state.outboxes.deliver(&fanout.recipients, &fanout.bytes);
        for slow in &dropped {
            state.hub.leave(slow);
        }
        fanout.recipients.len() - dropped.len()
    }

    /// Connections subscribed to `channel` now.
    pub fn subscribers(&self, channel: &ChannelId) -> usize {
        self.state().hub.subscribers(channel)
    }

    /// The channels some connection of this server watches now: what a node of a
    /// multi-node brain subscribes to on its bus.
    pub fn subscribed_channels(&self) -> Vec<ChannelId> {
        self.state().hub.channels().cloned().collect()
    }

    /// Changes each time a connection subscribes, unsubscribes or leaves: wait on it
    /// (`changed().await`), then read [`subscribed_channels`](Self::subscribed_channels).
    pub fn subscriptions_changed(&self) -> tokio::sync::watch::Receiver<()> {
        self.shared.changed.subscribe()
    }

    /// Upgrades `stream` to a WebSocket (within the handshake timeout, with the options'
    /// limits) if `authenticate` names the user its request acts for, answering 401
    /// otherwise, and serves it until it ends. Gives the close code sent or received.
    ///
    /// # Errors
    ///
    /// [`AcceptError::Unauthorized`] (401 sent), [`AcceptError::Handshake`] or
    /// [`AcceptError::HandshakeTimeout`].
    pub async fn accept<S>(
        &self,
        stream: S,
        authenticate: impl FnOnce(&Uri, &HeaderMap) -> Option<String> + Unpin,
    ) -> Result<Option<u16>, AcceptError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let options = &self.shared.options;
        let mut user = None;
        // tungstenite's callback signature, large error included.
        #[allow(clippy::result_large_err)]
        let check = |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
            user = authenticate(request.uri(), request.headers());
            if user.is_some() {
                Ok(response)
            } else {
                let mut refusal = ErrorResponse::new(None);
                *refusal.status_mut() = StatusCode::UNAUTHORIZED;
                Err(refusal)
            }
        };
        let limits = config(options.max_message_bytes, options.buffer_bytes);
        let upgrade = tokio_tungstenite::accept_hdr_async_with_config(stream, check, Some(limits));
        let socket = match tokio::time::timeout(options.handshake_timeout, upgrade).await {
            Ok(Ok(socket)) => socket,
            Ok(Err(_)) if user.is_none() => return Err(AcceptError::Unauthorized),
            Ok(Err(error)) => return Err(AcceptError::Handshake(error)),
            Err(_) => return Err(AcceptError::HandshakeTimeout),
        };
        let user = user.unwrap_or_default();
        Ok(self.serve(socket, user).await)
    }

    /// Serves one upgraded connection of `user` until it ends.
    pub(crate) async fn serve<W: MessageSocket>(&self, mut socket: W, user: String) -> Option<u16> {
        let options = &self.shared.options;
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let joined = {
            let mut state = self.state();
            match state.hub.join(id, user) {
                Ok(()) => Ok(state.outboxes.open(id)),
                Err(refused) => Err(refused.close_frame()),
            }
        };
        let mut outbox = match joined {
            Ok(outbox) => outbox,
            Err(refused) => {
                let _ =
                    send_within(&mut socket, close_message(&refused), options.write_timeout).await;
                return Some(refused.code());
            }
        };
        options.stats.opened();
        let code = serve_client(&mut socket, &mut outbox, options, |received| {
            let reply = self.state().hub.handle_message(&id, received);
            if matches!(
                reply.message,
                ServerMessage::Subscribed(_) | ServerMessage::Unsubscribed(_)
            ) {
                self.shared.changed.send_replace(());
            }
            Some(reply.bytes)
        })
        .await;
        let mut state = self.state();
        state.hub.leave(&id);
        state.outboxes.close(id);
        drop(state);
        self.shared.changed.send_replace(());
        options.stats.closed(code);
        code
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // Nothing panics while holding the lock; should something, the hub is still
        // consistent enough to serve.
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(feature = "axum")]
impl ChannelServer {
    /// The endpoint's axum route: `GET` answers 401 unless `authenticate` names the user
    /// the request acts for (from its `?token=`, a cookie, a verified JWT, ...), else
    /// upgrades to a WebSocket with the options' limits and serves it.
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    pub fn route<S, A>(&self, authenticate: A) -> axum::routing::MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
        A: Fn(&Uri, &HeaderMap) -> Option<String> + Clone + Send + Sync + 'static,
    {
        use axum::response::IntoResponse;
        let server = self.clone();
        axum::routing::get(
            move |upgrade: Upgrade, uri: Uri, headers: HeaderMap| async move {
                let upgrade = match crate::axum_socket::upgrade_or_answer(upgrade) {
                    Ok(upgrade) => upgrade,
                    Err(answer) => return answer,
                };
                let Some(user) = authenticate(&uri, &headers) else {
                    return StatusCode::UNAUTHORIZED.into_response();
                };
                let options = &server.shared.options;
                crate::axum_socket::limits(upgrade, options.max_message_bytes, options.buffer_bytes)
                    .on_upgrade(move |socket| async move {
                        server
                            .serve(crate::axum_socket::AxumSocket(socket), user)
                            .await;
                    })
            },
        )
    }
}
