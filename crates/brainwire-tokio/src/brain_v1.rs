//! Legacy v1 agents on the brain's side (document 000): a [`brainwire_v1::BrainSession`]
//! driven like a v2 one, and endpoints that take both protocols, telling them apart by the
//! first frame ([`brainwire_v1::sniff`]), as a brain does while its fleet migrates.

use std::time::Instant;

use brainwire_close::{CloseFrame, StandardCode};
use brainwire_v1::{sniff, BrainEvent, BrainSession, Command, ProtocolVersion, SendError};
use brainwire_v2::AgentAuthority;
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Error as WsError;

use crate::brain::{
    start_session, upgrade, AcceptError, AgentConnection, BrainOptions, CommandError,
    ConnectionClosed, ConnectionReport, Protocols,
};
use crate::driver::{ConnectionHandle, DrivenSession};
use crate::log::{debug, ConnectionSpan};
use crate::ws::{close_message, send_within, Incoming, MessageSocket};

/// What the application asks of a v1 session.
pub(crate) enum V1Request {
    Ack(u64),
    SendCommand {
        command: Command,
        reply: oneshot::Sender<Result<(), SendError>>,
    },
}

impl DrivenSession for BrainSession {
    type Event = BrainEvent;
    type Request = V1Request;

    fn poll_transmit(&mut self) -> Option<Bytes> {
        BrainSession::poll_transmit(self)
    }

    fn poll_event(&mut self) -> Option<BrainEvent> {
        BrainSession::poll_event(self)
    }

    fn poll_close(&mut self) -> Option<CloseFrame> {
        let closing = BrainSession::poll_close(self)?;
        debug!(error = %closing.error, code = closing.frame.code(), "v1 agent session closed");
        Some(closing.frame)
    }

    fn poll_timeout(&self) -> Option<Instant> {
        BrainSession::poll_timeout(self)
    }

    fn handle_message(&mut self, now: Instant, bytes: &[u8]) {
        BrainSession::handle_message(self, now, bytes);
    }

    fn handle_timeout(&mut self, now: Instant) {
        BrainSession::handle_timeout(self, now);
    }

    fn handle_request(&mut self, request: V1Request) {
        match request {
            V1Request::Ack(seq) => {
                let _ = self.ack(seq);
            }
            V1Request::SendCommand { command, reply } => {
                let _ = reply.send(self.send_command(command));
            }
        }
    }

    fn observe(&self, event: &BrainEvent, _: &ConnectionSpan, _: &mut ConnectionReport) {
        if let BrainEvent::Hello(_) = event {
            debug!("v1 agent session established");
        }
    }
}

/// One legacy v1 agent's connection, driven by a spawned task: read its events,
/// acknowledge its batches by `seq`, send it commands.
#[derive(Debug)]
pub struct V1AgentConnection {
    agent_id: String,
    project_id: String,
    accepted_at: Instant,
    handle: ConnectionHandle<BrainSession>,
}

impl V1AgentConnection {
    /// The agent its bearer token names.
    pub fn agent_id(&self) -> &str {
        &self.agent_id
    }

    /// The project its bearer token names.
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// When the connection was accepted, before its driver started: see
    /// [`AgentConnection::accepted_at`].
    pub fn accepted_at(&self) -> Instant {
        self.accepted_at
    }

    /// The next event; `None` once the connection has ended. Until the application reads,
    /// at most [`BrainOptions::event_queue`] events wait and the connection stops
    /// reading the socket.
    pub async fn next_event(&mut self) -> Option<BrainEvent> {
        self.handle.next_event().await
    }

    /// Acknowledges the `event_batch` numbered `seq`.
    ///
    /// # Errors
    ///
    /// [`ConnectionClosed`].
    pub async fn ack(&self, seq: u64) -> Result<(), ConnectionClosed> {
        self.handle.request(V1Request::Ack(seq)).await
    }

    /// Sends `command`; its result comes as [`BrainEvent::CommandCompleted`].
    ///
    /// # Errors
    ///
    /// [`CommandError::V1Refused`] (not established, too many pending, `cmd_id` pending
    /// already) or [`CommandError::Closed`].
    pub async fn send_command(&self, command: Command) -> Result<(), CommandError> {
        self.handle
            .ask(|reply| V1Request::SendCommand { command, reply })
            .await?
            .map_err(CommandError::V1Refused)
    }

    /// Closes the connection with `frame` (4003 when the agent is revoked, 1001 when the
    /// brain shuts down) and reports it.
    pub async fn close(self, frame: CloseFrame) -> ConnectionReport {
        self.handle.close(frame).await
    }

    /// Waits for the connection to end and reports it. Dropping the connection instead
    /// closes it with 1001.
    pub async fn finished(self) -> ConnectionReport {
        self.handle.finished().await
    }
}

/// An agent connection of either protocol, from an endpoint that takes both.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnyAgentConnection {
    /// A legacy v1 agent (its first frame was a v1 `hello`).
    V1(V1AgentConnection),
    /// A v2 agent (anything else, refused by the v2 session if it is not v2 either).
    V2(AgentConnection),
}

/// Starts a v1 session on `socket`, `first` fed first: closes it with 4002 when
/// `authority` does not know `bearer`, else spawns its driver.
async fn start_v1_session<W: MessageSocket>(
    mut socket: W,
    first: Option<Bytes>,
    bearer: Option<&str>,
    authority: &impl AgentAuthority,
    options: &BrainOptions,
) -> Result<V1AgentConnection, AcceptError> {
    let grant = bearer.and_then(|bearer| authority.authorize(bearer));
    let accepted_at = Instant::now();
    let mut session = BrainSession::accept(accepted_at, grant.is_some(), options.v1.clone());
    let Some(grant) = grant else {
        if let Some(closing) = session.poll_close() {
            debug!(code = closing.frame.code(), "v1 agent refused at accept");
            let message = close_message(&closing.frame);
            let _ = send_within(&mut socket, message, options.write_timeout).await;
        }
        return Err(AcceptError::Unauthorized);
    };
    let span = ConnectionSpan::agent_connection(&crate::random_uuid());
    span.record_agent(&grant.agent_id, &grant.project_id);
    Ok(V1AgentConnection {
        agent_id: grant.agent_id,
        project_id: grant.project_id,
        accepted_at,
        handle: ConnectionHandle::spawn(session, socket, first, span, options),
    })
}

/// Reads the first frame of an upgraded `socket` within the hello timeouts, tells its
/// protocol, and starts that protocol's session with it. A token `authority` does not
/// know is refused at once, before anything is read, with v2's 4401 (the deployed
/// brain's answer on `/ws/agent`). Then a v1 `hello` starts a v1 session; anything else
/// goes to a v2 session, which refuses what is not v2 with its own codes (4400, 4426).
async fn start_any_session<W: MessageSocket>(
    socket: W,
    bearer: Option<&str>,
    authority: &impl AgentAuthority,
    options: &BrainOptions,
) -> Result<AnyAgentConnection, AcceptError> {
    if bearer
        .and_then(|bearer| authority.authorize(bearer))
        .is_none()
    {
        return start_session(socket, None, bearer, authority, options)
            .await
            .map(AnyAgentConnection::V2);
    }
    let mut socket = socket;
    let wait = options.config.hello_timeout.min(options.v1.hello_timeout);
    let deadline = tokio::time::Instant::now() + wait;
    let first = loop {
        let next = tokio::time::timeout_at(deadline, socket.next()).await;
        match next {
            Ok(Some(Ok(message))) => match Incoming::of(message) {
                Incoming::Frame(bytes) => break bytes,
                Incoming::Closed(_) => return Err(AcceptError::ClosedBeforeFirstFrame),
                Incoming::Ignore => {}
            },
            Ok(Some(Err(WsError::Capacity(_)))) => {
                let too_big = CloseFrame::new(StandardCode::MessageTooBig, "message too big");
                let _ =
                    send_within(&mut socket, close_message(&too_big), options.write_timeout).await;
                return Err(AcceptError::ClosedBeforeFirstFrame);
            }
            Ok(Some(Err(_)) | None) => return Err(AcceptError::ClosedBeforeFirstFrame),
            Err(_) => {
                let late = CloseFrame::new(StandardCode::GoingAway, "no frame in time");
                let _ = send_within(&mut socket, close_message(&late), options.write_timeout).await;
                return Err(AcceptError::HandshakeTimeout);
            }
        }
    };
    if sniff(&first) == ProtocolVersion::V1 {
        start_v1_session(socket, Some(first), bearer, authority, options)
            .await
            .map(AnyAgentConnection::V1)
    } else {
        start_session(socket, Some(first), bearer, authority, options)
            .await
            .map(AnyAgentConnection::V2)
    }
}

/// Upgrades `stream` to a WebSocket, reads its first frame and starts the session of the
/// protocol it speaks: v1 ([`V1AgentConnection`]) or v2 ([`AgentConnection`]). The bearer
/// token is checked by `authority` first: an unknown one is refused at once with 4401, as
/// on the deployed brain's `/ws/agent` (the v1-only endpoint,
/// [`v1_agent_route`](crate::v1_agent_route), answers 4002 as document 000 says).
///
/// # Errors
///
/// [`AcceptError`]; the stream is closed.
pub async fn accept_any_agent<S>(
    stream: S,
    authority: &impl AgentAuthority,
    options: &BrainOptions,
) -> Result<AnyAgentConnection, AcceptError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (socket, bearer) = upgrade(stream, options, Protocols::Both).await?;
    start_any_session(socket, bearer.as_deref(), authority, options).await
}

/// An agent endpoint taking both protocols as an axum route, as
/// [`agent_route`](crate::agent_route) is for v2 alone: the same limits, the bearer token
/// checked by `authority`, each connection told apart by its first frame and handed to
/// `on_connection` on its own task.
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub fn any_agent_route<S, A, H, F>(
    authority: A,
    options: BrainOptions,
    on_connection: H,
) -> axum::routing::MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    A: AgentAuthority + Clone + Send + Sync + 'static,
    H: Fn(AnyAgentConnection) -> F + Clone + Send + Sync + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    crate::brain::upgrade_route(options, Protocols::Both, move |socket, bearer, options| {
        let authority = authority.clone();
        let on_connection = on_connection.clone();
        async move {
            if let Ok(connection) =
                start_any_session(socket, bearer.as_deref(), &authority, &options).await
            {
                on_connection(connection).await;
            }
        }
    })
}

/// The legacy v1 agent endpoint alone (document 000) as an axum route: the same limits
/// as [`agent_route`](crate::agent_route), 4002 for a token `authority` refuses, each
/// connection handed to `on_connection` on its own task.
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub fn v1_agent_route<S, A, H, F>(
    authority: A,
    options: BrainOptions,
    on_connection: H,
) -> axum::routing::MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
    A: AgentAuthority + Clone + Send + Sync + 'static,
    H: Fn(V1AgentConnection) -> F + Clone + Send + Sync + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    crate::brain::upgrade_route(options, Protocols::V1, move |socket, bearer, options| {
        let authority = authority.clone();
        let on_connection = on_connection.clone();
        async move {
            if let Ok(connection) =
                start_v1_session(socket, None, bearer.as_deref(), &authority, &options).await
            {
                on_connection(connection).await;
            }
        }
    })
}
