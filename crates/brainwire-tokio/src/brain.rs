//! The brain's side: a [`BrainSession`] driven over one accepted WebSocket, with a
//! deadline on the upgrade, a cap on message size, a timeout on every write, and the
//! application reached through bounded channels.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use brainwire_close::CloseFrame;
use brainwire_core::Timestamp;
use brainwire_sign::SessionBinding;
use brainwire_v2::{
    AgentAuthority, AgentGrant, BrainConfig, BrainEvent, BrainSession, Command, SendError, Sources,
};
use bytes::Bytes;
use subtle::ConstantTimeEq;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::tungstenite::handshake::server::{
    ErrorResponse, Request as Upgrade, Response,
};
use tokio_tungstenite::tungstenite::Error as WsError;

use crate::driver::{ConnectionHandle, DrivenSession};
use crate::log::{debug, ConnectionSpan};
use crate::stats::Stats;
use crate::tap::FrameTap;
use crate::ws::{close_message, config, send_within, MessageSocket};

/// Limits and timeouts of the brain's agent connections. Each bounds something a peer
/// controls.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BrainOptions {
    /// The sessions' configuration; its `max_frame_size_bytes` (default 1 MiB) is also the
    /// largest WebSocket message taken.
    pub config: BrainConfig,
    /// The configuration of legacy v1 sessions (endpoints that take v1 agents): hello and
    /// idle timeouts, pending commands, frame limits (1 MiB).
    pub v1: brainwire_v1::SessionConfig,
    /// How long the WebSocket upgrade may take. Default 10 s.
    pub handshake_timeout: Duration,
    /// How long one write may wait for the agent to read. Default 10 s.
    pub write_timeout: Duration,
    /// Read and write buffer per connection. Default 16 KiB (tungstenite's default is
    /// 128 KiB, which 1,000 idle agents turn into 128 MB).
    pub buffer_bytes: usize,
    /// Events kept for the application before the connection stops reading. Default 64.
    pub event_queue: usize,
    /// Counters every connection accepted with these options adds to: connections,
    /// frames and bytes each way, closes by code.
    pub stats: Arc<Stats>,
    /// Shown every frame each connection sends and receives (transcripts, debugging).
    /// Default none.
    pub frame_tap: Option<FrameTap>,
    /// Most agent connections `agent_route` (feature `axum`) serves at once; past it,
    /// upgrades are answered 503. Default 10,000. ([`serve`](crate::serve) takes its own
    /// cap, over every connection it accepts.)
    pub max_connections: usize,
}

impl BrainOptions {
    /// Options with `config` and the defaults above.
    pub fn new(config: BrainConfig) -> Self {
        Self {
            config,
            v1: brainwire_v1::SessionConfig::default(),
            handshake_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            buffer_bytes: 16 * 1024,
            event_queue: 64,
            stats: Arc::new(Stats::default()),
            frame_tap: None,
            max_connections: 10_000,
        }
    }

    /// The largest WebSocket message a v2 endpoint takes.
    pub(crate) fn max_message_bytes(&self) -> usize {
        usize::try_from(self.config.max_frame_size_bytes).unwrap_or(usize::MAX)
    }

    /// The largest WebSocket message an endpoint taking `protocols` takes: the larger
    /// cap of the two when it takes both (each session then checks its own).
    pub(crate) fn max_message_bytes_of(&self, protocols: Protocols) -> usize {
        match protocols {
            Protocols::V1 => self.v1.limits.max_bytes,
            Protocols::V2 => self.max_message_bytes(),
            Protocols::Both => self.max_message_bytes().max(self.v1.limits.max_bytes),
        }
    }
}

/// Which protocols an agent endpoint takes (only the axum routes take one alone).
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
pub(crate) enum Protocols {
    V1,
    V2,
    Both,
}

/// Bearer tokens and the grants they open, compared in constant time: every entry is
/// compared, so the time taken does not say which token, or how much of one, matched
/// (only, as ever, how long the presented one is).
#[derive(Clone, Default)]
pub struct AgentTokens {
    entries: Vec<(Vec<u8>, AgentGrant)>,
}

impl AgentTokens {
    /// No tokens.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts `token` for `grant`.
    #[must_use]
    pub fn with(mut self, token: impl Into<String>, grant: AgentGrant) -> Self {
        self.entries.push((token.into().into_bytes(), grant));
        self
    }
}

impl fmt::Debug for AgentTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentTokens")
            .field("tokens", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl AgentAuthority for AgentTokens {
    fn authorize(&self, bearer: &str) -> Option<AgentGrant> {
        let mut found = None;
        for (token, grant) in &self.entries {
            if bool::from(token.as_slice().ct_eq(bearer.as_bytes())) {
                found = Some(grant);
            }
        }
        found.cloned()
    }
}

/// Why a connection did not become an agent session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptError {
    /// The WebSocket upgrade did not complete within [`BrainOptions::handshake_timeout`].
    #[error("the WebSocket upgrade timed out")]
    HandshakeTimeout,
    /// The upgrade failed (not a WebSocket request, or the socket failed).
    #[error("the WebSocket upgrade failed")]
    Handshake(#[source] WsError),
    /// The bearer token was missing or refused: the connection was closed with 4401.
    #[error("bearer token refused")]
    Unauthorized,
    /// The TLS handshake failed.
    #[error("the TLS handshake failed")]
    Tls(#[source] std::io::Error),
    /// On an endpoint that tells the protocol by the first frame: the connection ended
    /// (or sent a message over the size cap, answered 1009) before its first frame.
    #[error("the connection ended before its first frame")]
    ClosedBeforeFirstFrame,
}

/// [`accept_agent`] behind TLS: the TLS handshake and the WebSocket upgrade together
/// must finish within [`BrainOptions::handshake_timeout`].
///
/// # Errors
///
/// [`AcceptError`]; the stream is closed.
pub async fn accept_agent_tls<S>(
    stream: S,
    acceptor: &TlsAcceptor,
    authority: &impl AgentAuthority,
    options: &BrainOptions,
) -> Result<AgentConnection, AcceptError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let started = Instant::now();
    let tls = match tokio::time::timeout(options.handshake_timeout, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => return Err(AcceptError::Tls(error)),
        Err(_) => return Err(AcceptError::HandshakeTimeout),
    };
    let mut rest = options.clone();
    rest.handshake_timeout = options.handshake_timeout.saturating_sub(started.elapsed());
    accept_agent(tls, authority, &rest).await
}

/// Upgrades `stream` to a WebSocket, checks its bearer token with `authority`, and
/// starts driving a [`BrainSession`] for it on a spawned task.
///
/// # Errors
///
/// [`AcceptError`]; the stream is closed.
pub async fn accept_agent<S>(
    stream: S,
    authority: &impl AgentAuthority,
    options: &BrainOptions,
) -> Result<AgentConnection, AcceptError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (socket, bearer) = upgrade(stream, options, Protocols::V2).await?;
    start_session(socket, None, bearer.as_deref(), authority, options).await
}

/// Upgrades `stream` to a WebSocket within the handshake timeout, with the message cap
/// of `protocols` and the options' buffers; gives it and its bearer token.
pub(crate) async fn upgrade<S>(
    stream: S,
    options: &BrainOptions,
    protocols: Protocols,
) -> Result<(tokio_tungstenite::WebSocketStream<S>, Option<String>), AcceptError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut bearer = None;
    // tungstenite's callback signature, large error included.
    #[allow(clippy::result_large_err)]
    let capture = |request: &Upgrade, response: Response| -> Result<Response, ErrorResponse> {
        bearer = request
            .headers()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(bearer_token);
        Ok(response)
    };
    let limits = config(
        options.max_message_bytes_of(protocols),
        options.buffer_bytes,
    );
    let upgrade = tokio_tungstenite::accept_hdr_async_with_config(stream, capture, Some(limits));
    match tokio::time::timeout(options.handshake_timeout, upgrade).await {
        Ok(Ok(socket)) => Ok((socket, bearer)),
        Ok(Err(error)) => Err(AcceptError::Handshake(error)),
        Err(_) => Err(AcceptError::HandshakeTimeout),
    }
}

/// The bearer token of an `Authorization` header.
pub(crate) fn bearer_token(value: &str) -> Option<String> {
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// Starts a [`BrainSession`] on an upgraded `socket` presenting `bearer`: refuses it
/// (4401) when `authority` does not know the token, else spawns its driver.
pub(crate) async fn start_session<W: MessageSocket>(
    mut socket: W,
    first: Option<Bytes>,
    bearer: Option<&str>,
    authority: &impl AgentAuthority,
    options: &BrainOptions,
) -> Result<AgentConnection, AcceptError> {
    let session_id = crate::random_uuid();
    let accepted_at = Instant::now();
    let mut session = BrainSession::accept(
        accepted_at,
        bearer,
        authority,
        session_id.clone(),
        options.config.clone(),
        Sources::system(&session_id[..12]),
    );
    if let Some(closing) = session.poll_close() {
        debug!(code = closing.frame.code(), "agent refused at accept");
        let _ = send_within(
            &mut socket,
            close_message(&closing.frame),
            options.write_timeout,
        )
        .await;
        return Err(AcceptError::Unauthorized);
    }
    // The agent's ids join the span once its `hello` is accepted.
    let span = ConnectionSpan::agent_connection(&session_id);
    let handle = ConnectionHandle::spawn(session, socket, first, span, options);
    Ok(AgentConnection {
        session_id,
        accepted_at,
        handle,
    })
}

/// The v2 agent endpoint as an axum route: `GET` upgrades to a WebSocket with the
/// options' limits (message size at the session's `max_frame_size_bytes`, small buffers),
/// checks the `Authorization: Bearer` token with `authority` (4401 when refused, as the
/// deployed brain does; constant time with [`AgentTokens`]) and hands each connection to
/// `on_connection`, on the connection's own task. Past
/// [`BrainOptions::max_connections`] open connections, upgrades are answered 503.
/// [`any_agent_route`](crate::any_agent_route) takes legacy v1 agents too.
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub fn agent_route<S, A, H, F>(
    authority: A,
    options: BrainOptions,
    on_connection: H,
) -> axum::routing::MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    A: AgentAuthority + Clone + Send + Sync + 'static,
    H: Fn(AgentConnection) -> F + Clone + Send + Sync + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    upgrade_route(options, Protocols::V2, move |socket, bearer, options| {
        let authority = authority.clone();
        let on_connection = on_connection.clone();
        async move {
            if let Ok(connection) =
                start_session(socket, None, bearer.as_deref(), &authority, &options).await
            {
                on_connection(connection).await;
            }
        }
    })
}

/// An agent endpoint's axum route: answers what is not an upgrade, 503 past
/// [`BrainOptions::max_connections`], upgrades with the options' limits, and runs
/// `serve(socket, bearer, options)` on the connection's task.
#[cfg(feature = "axum")]
pub(crate) fn upgrade_route<S, H, F>(
    options: BrainOptions,
    protocols: Protocols,
    serve: H,
) -> axum::routing::MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    H: Fn(crate::axum_socket::AxumSocket, Option<String>, Arc<BrainOptions>) -> F
        + Clone
        + Send
        + Sync
        + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    use axum::response::IntoResponse;
    let permits = Arc::new(tokio::sync::Semaphore::new(options.max_connections));
    let options = Arc::new(options);
    axum::routing::get(
        move |upgrade: crate::axum_socket::Upgrade, headers: axum::http::HeaderMap| async move {
            let upgrade = match crate::axum_socket::upgrade_or_answer(upgrade) {
                Ok(upgrade) => upgrade,
                Err(answer) => return answer,
            };
            let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
                return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
            };
            let bearer = headers
                .get("authorization")
                .and_then(|value| value.to_str().ok())
                .and_then(bearer_token);
            let upgrade = crate::axum_socket::limits(
                upgrade,
                options.max_message_bytes_of(protocols),
                options.buffer_bytes,
            );
            upgrade.on_upgrade(move |socket| async move {
                serve(crate::axum_socket::AxumSocket(socket), bearer, options).await;
                drop(permit);
            })
        },
    )
}

/// What happened on a connection, once it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionReport {
    /// The session's binding, if `hello` was accepted.
    pub binding: Option<SessionBinding>,
    /// The close code sent or received, if any.
    pub close_code: Option<u16>,
    /// Frames received.
    pub frames_in: u64,
    /// Frames sent.
    pub frames_out: u64,
    /// Bytes of frames received.
    pub bytes_in: u64,
    /// Bytes of frames sent.
    pub bytes_out: u64,
}

/// The connection has ended; requests to it are not carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the agent connection has ended")]
pub struct ConnectionClosed;

/// Why a command was not sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The session refused it (not established yet, too many pending).
    #[error("the session refused the command")]
    Refused(#[source] SendError),
    /// A v1 session refused it (not established yet, too many pending, `cmd_id` pending
    /// already).
    #[error("the session refused the command")]
    V1Refused(#[source] brainwire_v1::SendError),
    /// The connection has ended.
    #[error(transparent)]
    Closed(#[from] ConnectionClosed),
}

/// What the application asks of a v2 session.
pub(crate) enum V2Request {
    AckBatch {
        batch_id: String,
        counts: (u64, u64, u64),
    },
    SendCommand {
        command: Command,
        reply: oneshot::Sender<Result<String, SendError>>,
    },
}

/// One agent's connection, driven by a spawned task: read its events, acknowledge its
/// batches, send it commands.
#[derive(Debug)]
pub struct AgentConnection {
    session_id: String,
    accepted_at: Instant,
    handle: ConnectionHandle<BrainSession>,
}

impl AgentConnection {
    /// The session id given to this connection (bound into every MAC).
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// When the connection was accepted, before its driver started (so before its
    /// `hello`). Each connection's handler runs on its own task, and a busy runtime may
    /// run a newer connection's handler first: a registry that keeps one connection per
    /// agent orders them by this instant, not by when it sees their
    /// [`BrainEvent::Hello`], or a stale connection replaces the live one.
    pub fn accepted_at(&self) -> Instant {
        self.accepted_at
    }

    /// The next event; `None` once the connection has ended. Until the application reads,
    /// at most [`BrainOptions::event_queue`] events wait and the connection stops
    /// reading the socket.
    pub async fn next_event(&mut self) -> Option<BrainEvent> {
        self.handle.next_event().await
    }

    /// Acknowledges the batch `batch_id` with the application's counts.
    ///
    /// # Errors
    ///
    /// [`ConnectionClosed`].
    pub async fn ack_batch(
        &self,
        batch_id: impl Into<String>,
        received: u64,
        accepted: u64,
        rejected: u64,
    ) -> Result<(), ConnectionClosed> {
        self.handle
            .request(V2Request::AckBatch {
                batch_id: batch_id.into(),
                counts: (received, accepted, rejected),
            })
            .await
    }

    /// Signs and sends `command`; gives its id, which `CommandAcked` and
    /// `CommandCompleted` carry.
    ///
    /// # Errors
    ///
    /// [`CommandError`].
    pub async fn send_command(&self, command: Command) -> Result<String, CommandError> {
        self.handle
            .ask(|reply| V2Request::SendCommand { command, reply })
            .await?
            .map_err(CommandError::Refused)
    }

    /// Closes the connection with `frame` (for example 1001 when the brain shuts down)
    /// and reports it.
    pub async fn close(self, frame: CloseFrame) -> ConnectionReport {
        self.handle.close(frame).await
    }

    /// Waits for the connection to end and reports it. Dropping the connection instead
    /// closes it with 1001.
    pub async fn finished(self) -> ConnectionReport {
        self.handle.finished().await
    }
}

impl DrivenSession for BrainSession {
    type Event = BrainEvent;
    type Request = V2Request;

    fn poll_transmit(&mut self) -> Option<Bytes> {
        BrainSession::poll_transmit(self)
    }

    fn poll_event(&mut self) -> Option<BrainEvent> {
        BrainSession::poll_event(self)
    }

    fn poll_close(&mut self) -> Option<CloseFrame> {
        let closing = BrainSession::poll_close(self)?;
        debug!(error = %closing.error, code = closing.frame.code(), "agent session closed");
        Some(closing.frame)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        BrainSession::poll_timeout(self)
    }

    fn handle_message(&mut self, now: Instant, bytes: &[u8]) {
        BrainSession::handle_message(self, now, Timestamp::now_utc(), bytes);
    }

    fn handle_timeout(&mut self, now: Instant) {
        BrainSession::handle_timeout(self, now);
    }

    fn handle_request(&mut self, request: V2Request) {
        match request {
            V2Request::AckBatch {
                batch_id,
                counts: (received, accepted, rejected),
            } => {
                let _ = self.ack_batch(&batch_id, received, accepted, rejected);
            }
            V2Request::SendCommand { command, reply } => {
                let _ = reply.send(self.send_command(command));
            }
        }
    }

    fn observe(&self, event: &BrainEvent, span: &ConnectionSpan, report: &mut ConnectionReport) {
        if let BrainEvent::Hello { binding, .. } = event {
            span.record_binding(binding);
            debug!("agent session established");
            report.binding = Some(binding.clone());
        }
    }
}
