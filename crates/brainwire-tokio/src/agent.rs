//! The agent client: one [`AgentSession`] driven over WebSocket connections to a brain,
//! reconnecting per [`ReconnectPolicy`] and failing over between the brain's URLs.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use brainwire_close::{v2, Backoff, Reconnect, ReconnectPolicy, StopReason};
use brainwire_core::{JsonObject, Timestamp};
use brainwire_sign::{Secret, SessionBinding};
use brainwire_v2::{
    AgentConfig, AgentEvent, AgentSession, Command, CommandResult, ErrorReport, Hello, Sources,
};
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_rustls::rustls::ClientConfig;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::Connector;

use zeroize::Zeroizing;

use crate::log::{debug, warn_event, ConnectionSpan};
use crate::stats::{Stats, StatsSnapshot};
use crate::tap::{FrameDirection, FrameTap};
use crate::ws::{close_message, config, send_within, text, Incoming};

/// Answers kept while disconnected, to send after the next handshake.
const MAX_UNSENT_REPLIES: usize = 1024;

/// How an [`Agent`] connects and behaves. Defaults are the reference agent's where it has
/// one.
#[derive(Clone)]
#[non_exhaustive]
pub struct AgentOptions {
    /// The brain's agent endpoints (`wss://HOST/ws/agent`), tried in turn: after a
    /// connection fails or is lost, the next one is tried.
    pub urls: Vec<String>,
    /// The bearer token: never logged nor printed by `Debug`, zeroized when dropped (the
    /// header built from it is marked sensitive).
    pub token: Zeroizing<String>,
    /// The project secret frames are signed with.
    pub secret: Secret,
    /// The session: `hello`, batching, buffers ([`AgentConfig`]).
    pub config: AgentConfig,
    /// Waits between connection attempts. Default: 1 s doubling to 30 s, full jitter.
    pub backoff: Backoff,
    /// Largest message taken from the brain. Default 1 MiB.
    pub max_message_bytes: usize,
    /// How long a connection attempt (TCP, TLS, upgrade) may take. Default 10 s.
    pub connect_timeout: Duration,
    /// How long one write may wait for the brain to read. Default 10 s.
    pub write_timeout: Duration,
    /// Events [`Agent::send_event`] can hand over before it waits. Default 1,024.
    pub event_queue: usize,
    /// Updates ([`Update`]) kept for the application before the least important are
    /// dropped. Default 1,024.
    pub update_queue: usize,
    /// TLS for `wss://` URLs. `None` (the default) trusts the platform's root
    /// certificates; set a [`ClientConfig`] to trust a private CA.
    pub tls: Option<Arc<ClientConfig>>,
    /// Shown every frame sent and received (transcripts, debugging). Default none.
    pub frame_tap: Option<FrameTap>,
}

impl AgentOptions {
    /// Options connecting to `url` with `token` and `secret`, sending `hello`.
    pub fn new(
        url: impl Into<String>,
        token: impl Into<String>,
        secret: Secret,
        hello: Hello,
    ) -> Self {
        Self {
            urls: vec![url.into()],
            token: Zeroizing::new(token.into()),
            secret,
            config: AgentConfig::new(hello),
            backoff: Backoff::default().with_full_jitter(),
            max_message_bytes: 1024 * 1024,
            connect_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            event_queue: 1024,
            update_queue: 1024,
            tls: None,
            frame_tap: None,
        }
    }

    /// Also fails over to `url`.
    #[must_use]
    pub fn with_fallback(mut self, url: impl Into<String>) -> Self {
        self.urls.push(url.into());
        self
    }
}

impl fmt::Debug for AgentOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentOptions")
            .field("urls", &self.urls)
            .field("token", &"[REDACTED]")
            .field("secret", &self.secret)
            .field("backoff", &self.backoff)
            .field("max_message_bytes", &self.max_message_bytes)
            .field("connect_timeout", &self.connect_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("event_queue", &self.event_queue)
            .field("update_queue", &self.update_queue)
            .field("tls", &self.tls.is_some())
            .field("frame_tap", &self.frame_tap)
            .finish_non_exhaustive()
    }
}

/// What the agent tells the application, from [`Agent::next_update`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Update {
    /// A session is established.
    Connected {
        /// The brain's URL.
        url: String,
        /// The session's ids.
        binding: SessionBinding,
    },
    /// The connection ended; the agent reconnects unless the policy stops it.
    Disconnected {
        /// The close code, when the brain or the session sent one.
        code: Option<u16>,
    },
    /// A command to run. Answer it once with [`IncomingCommand::complete`].
    Command(IncomingCommand),
    /// An event the session refused (larger than the brain's frame size, or JSON the
    /// signer cannot sign), handed back.
    Refused {
        /// The event.
        event: JsonObject,
        /// Why.
        reason: String,
    },
    /// Events of a batch that could not be signed, handed back (a bug report: see
    /// [`AgentEvent::Unsent`]).
    Unsent {
        /// The events.
        events: Vec<JsonObject>,
        /// Why.
        reason: String,
    },
    /// The brain reported an error.
    BrainError(ErrorReport),
}

/// A command from the brain, answered once: [`complete`](Self::complete) sends the
/// `command_result`; dropping it unanswered sends a failed result, so the brain never
/// waits for an answer that will not come.
#[derive(Debug)]
pub struct IncomingCommand {
    /// The command's id.
    pub command_id: String,
    /// The command.
    pub command: Command,
    replies: mpsc::Sender<(String, CommandResult)>,
    answered: bool,
}

impl IncomingCommand {
    /// Sends `result` as this command's `command_result` (now, or after a reconnect).
    ///
    /// # Errors
    ///
    /// [`AgentClosed`] when the agent has stopped.
    pub async fn complete(mut self, result: CommandResult) -> Result<(), AgentClosed> {
        self.answered = true;
        let id = std::mem::take(&mut self.command_id);
        self.replies
            .send((id, result))
            .await
            .map_err(|_| AgentClosed)
    }
}

impl Drop for IncomingCommand {
    fn drop(&mut self) {
        if !self.answered {
            let result = CommandResult::failed("the agent dropped the command unanswered");
            let _ = self
                .replies
                .try_send((std::mem::take(&mut self.command_id), result));
        }
    }
}

/// The agent has stopped: nothing more can be sent through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the agent has stopped")]
pub struct AgentClosed;

/// Why an agent stopped for good.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// The reconnect policy stopped: a configuration close (4401 bad token, 4426
    /// version, ...), a replaced session, a normal close, or the attempts ran out.
    #[error("stopped reconnecting: {0:?}")]
    Stopped(StopReason),
    /// The driver task panicked or was cancelled.
    #[error("the agent task failed")]
    Task(#[source] tokio::task::JoinError),
    /// [`AgentOptions::urls`] is empty: there is no brain to connect to.
    #[error("no brain URL to connect to")]
    NoUrl,
}

/// What an agent did, when it stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AgentReport {
    /// Events the brain acknowledged.
    pub acked_events: u64,
    /// Of those, events the brain reported accepted (stored). A brain acknowledges a
    /// re-sent batch again without storing it twice, so this can be lower.
    pub accepted_events: u64,
    /// Events still held (not acknowledged) when it stopped.
    pub unacked_events: usize,
    /// Connections, frames, bytes, closes by code, and updates dropped because the
    /// application did not read them (commands are never dropped: they are answered as
    /// failed instead).
    pub stats: StatsSnapshot,
}

/// An agent connected (or connecting) to a brain: a spawned task drives its session.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use brainwire_core::JsonObject;
/// use brainwire_sign::Secret;
/// use brainwire_tokio::{Agent, AgentOptions, Update};
/// use brainwire_v2::{CommandResult, Hello};
///
/// let secret = Secret::new(vec![7; 32])?;
/// let options = AgentOptions::new("ws://127.0.0.1:7400/ws/agent", "token", secret,
///     Hello::new("my-agent/1.0", "bare"));
/// let mut agent = Agent::spawn(options);
/// agent.send_event(JsonObject::from_text(r#"{"task_id":"t-1","kind":"task.started"}"#)?).await?;
/// while let Some(update) = agent.next_update().await {
///     if let Update::Command(command) = update {
///         command.complete(CommandResult::success(None)).await?;
///         break;
///     }
/// }
/// let report = agent.shutdown(std::time::Duration::from_secs(5)).await?;
/// assert_eq!(report.unacked_events, 0);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Agent {
    stats: Arc<Stats>,
    events: mpsc::Sender<JsonObject>,
    updates: mpsc::Receiver<Update>,
    shutdown: Option<oneshot::Sender<Duration>>,
    reconnect: mpsc::Sender<()>,
    driver: JoinHandle<Result<AgentReport, AgentError>>,
}

impl Agent {
    /// Starts the agent on the current tokio runtime: it connects, and reconnects, on its
    /// own until [`shutdown`](Self::shutdown) or until the policy stops it.
    pub fn spawn(options: AgentOptions) -> Self {
        let (events_tx, events) = mpsc::channel(options.event_queue.max(1));
        let (updates, updates_rx) = mpsc::channel(options.update_queue.max(1));
        let (replies_tx, replies) = mpsc::channel(1024);
        let (shutdown_tx, shutdown) = oneshot::channel();
        let (reconnect_tx, reconnect) = mpsc::channel(1);
        let prefix = crate::random_id();
        let session = AgentSession::new(
            options.config.clone(),
            options.secret.clone(),
            Sources::system(&prefix[..12]),
        );
        let policy = ReconnectPolicy::new(options.backoff.clone());
        let stats = Arc::new(Stats::default());
        let driver = Driver {
            stats: Arc::clone(&stats),
            acked_events: 0,
            accepted_events: 0,
            reconnect,
            span: ConnectionSpan::none(),
            session,
            policy,
            options,
            events,
            events_open: true,
            updates,
            replies,
            replies_tx,
            unsent_replies: VecDeque::new(),
            shutdown,
            grace_until: None,
        };
        Self {
            stats,
            events: events_tx,
            updates: updates_rx,
            shutdown: Some(shutdown_tx),
            reconnect: reconnect_tx,
            driver: tokio::spawn(ConnectionSpan::agent().instrument(driver.run())),
        }
    }

    /// Hands `event` to the agent, waiting while its buffers are full: a brain that
    /// stops acknowledging slows the sender down, nothing is dropped, nothing grows
    /// without bound.
    ///
    /// # Errors
    ///
    /// [`AgentClosed`] once the agent has stopped or is shutting down.
    pub async fn send_event(&self, event: JsonObject) -> Result<(), AgentClosed> {
        self.events.send(event).await.map_err(|_| AgentClosed)
    }

    /// A handle that sends events to this agent from anywhere (another task, or a
    /// `select!` that also waits on [`next_update`](Self::next_update)), with the same
    /// backpressure as [`send_event`](Self::send_event).
    pub fn event_sender(&self) -> EventSender {
        EventSender(self.events.clone())
    }

    /// Closes the current connection (1001) and connects again at once, to the next URL
    /// of [`AgentOptions::urls`]; what was not acknowledged is re-sent. For moving an
    /// agent to another brain, and for showing that a lost connection loses nothing.
    /// Requests made while one is pending count once.
    pub fn reconnect(&self) {
        let _ = self.reconnect.try_send(());
    }

    /// The agent's counters now: connections, frames and bytes each way, closes by code.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// The next update: commands, connections, refused events. `None` once the agent has
    /// stopped and every update was read.
    pub async fn next_update(&mut self) -> Option<Update> {
        self.updates.recv().await
    }

    /// Stops taking events, sends what is buffered, waits up to `grace` for the brain to
    /// acknowledge it, then closes with 1000.
    ///
    /// # Errors
    ///
    /// [`AgentError`] when the agent had already stopped for good.
    pub async fn shutdown(mut self, grace: Duration) -> Result<AgentReport, AgentError> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(grace);
        }
        (&mut self.driver).await.map_err(AgentError::Task)?
    }

    /// Waits until the agent stops on its own (the reconnect policy gave up).
    ///
    /// # Errors
    ///
    /// The [`AgentError`] it stopped with.
    pub async fn stopped(mut self) -> Result<AgentReport, AgentError> {
        (&mut self.driver).await.map_err(AgentError::Task)?
    }
}

/// Sends events to an [`Agent`] ([`Agent::event_sender`]); clones send to the same agent.
#[derive(Debug, Clone)]
pub struct EventSender(mpsc::Sender<JsonObject>);

impl EventSender {
    /// As [`Agent::send_event`]: waits while the agent's buffers are full.
    ///
    /// # Errors
    ///
    /// [`AgentClosed`] once the agent has stopped or is shutting down.
    pub async fn send_event(&self, event: JsonObject) -> Result<(), AgentClosed> {
        self.0.send(event).await.map_err(|_| AgentClosed)
    }
}

/// A WebSocket to a brain, over TCP or TLS.
type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How one connection ended.
enum Ended {
    /// Shut down as asked.
    Finished,
    /// Closed for [`Agent::reconnect`].
    Reconnect,
    /// Closed or lost, with the close code if there was one.
    Lost(Option<u16>),
}

/// The close code of a connection closed by [`Agent::reconnect`] (going away).
const RECONNECT_CODE: u16 = 1001;

/// The task behind an [`Agent`].
struct Driver {
    session: AgentSession,
    policy: ReconnectPolicy,
    options: AgentOptions,
    events: mpsc::Receiver<JsonObject>,
    events_open: bool,
    updates: mpsc::Sender<Update>,
    replies: mpsc::Receiver<(String, CommandResult)>,
    /// For answering commands the application cannot take.
    replies_tx: mpsc::Sender<(String, CommandResult)>,
    /// Answers given while no session was established, sent after the next handshake.
    unsent_replies: VecDeque<(String, CommandResult)>,
    shutdown: oneshot::Receiver<Duration>,
    grace_until: Option<Instant>,
    stats: Arc<Stats>,
    acked_events: u64,
    accepted_events: u64,
    /// Requests from [`Agent::reconnect`].
    reconnect: mpsc::Receiver<()>,
    /// The span of the current connection.
    span: ConnectionSpan,
}

impl Driver {
    async fn run(mut self) -> Result<AgentReport, AgentError> {
        if self.options.urls.is_empty() {
            return Err(AgentError::NoUrl);
        }
        let mut attempt = 0usize;
        loop {
            let url = self.options.urls[attempt % self.options.urls.len()].clone();
            let ended = self.connection(&url).await;
            self.session.handle_disconnect();
            let code = match ended {
                Ended::Finished => return Ok(self.finish()),
                Ended::Lost(code) => code,
                Ended::Reconnect => {
                    self.notify(Update::Disconnected {
                        code: Some(RECONNECT_CODE),
                    });
                    attempt += 1;
                    continue;
                }
            };
            self.notify(Update::Disconnected { code });
            if self.grace_until.is_some_and(|t| Instant::now() >= t) {
                return Ok(self.finish());
            }
            let decision = match code {
                Some(code) => self.policy.on_close(v2::CloseCode::from(code)),
                None => self.policy.on_connection_lost(),
            };
            match decision {
                Reconnect::RetryAfter(delay) => {
                    debug!(url = %url, ?delay, ?code, "reconnecting");
                    attempt += 1;
                    let wait = tokio::time::sleep(delay);
                    tokio::pin!(wait);
                    loop {
                        let deadline = self.grace_until;
                        tokio::select! {
                            () = &mut wait => break,
                            grace = &mut self.shutdown, if deadline.is_none() => {
                                self.begin_shutdown(grace.unwrap_or_default());
                            }
                            () = sleep_until_or_never(deadline) => return Ok(self.finish()),
                        }
                    }
                }
                Reconnect::Stop(reason) => {
                    warn_event!(url = %url, ?reason, "agent stopped reconnecting");
                    return Err(AgentError::Stopped(reason));
                }
            }
        }
    }

    /// Stops taking new events and sets the deadline for the rest to be acknowledged.
    /// An `Agent` dropped without `shutdown` ends here too, with no grace.
    fn begin_shutdown(&mut self, grace: Duration) {
        self.grace_until = Some(Instant::now() + grace);
        self.events.close();
    }

    fn finish(&mut self) -> AgentReport {
        AgentReport {
            acked_events: self.acked_events,
            accepted_events: self.accepted_events,
            unacked_events: self.session.held_events() + self.events.len(),
            stats: self.stats.snapshot(),
        }
    }

    /// Sends an update the application may miss: dropped (and counted) when it does not
    /// read them.
    fn notify(&mut self, update: Update) {
        if self.updates.try_send(update).is_err() {
            self.stats.dropped();
        }
    }

    /// One connection: connect, then drive the session over it until it ends.
    async fn connection(&mut self, url: &str) -> Ended {
        // Owned, so that the attempt borrows nothing the shutdown below changes.
        let attempt = connect(self.options.clone(), url.to_owned());
        tokio::pin!(attempt);
        let socket = loop {
            let deadline = self.grace_until;
            tokio::select! {
                socket = &mut attempt => break socket,
                grace = &mut self.shutdown, if deadline.is_none() => {
                    self.begin_shutdown(grace.unwrap_or_default());
                }
                () = sleep_until_or_never(deadline) => return Ended::Finished,
            }
        };
        let Some(socket) = socket else {
            return Ended::Lost(None);
        };
        self.stats.opened();
        // The session's ids join the span once `hello_ack` arrives.
        self.span = ConnectionSpan::brain_connection(url);
        let span = self.span.clone();
        let ended = span.instrument(self.drive(socket, url)).await;
        self.stats.closed(match ended {
            Ended::Finished => Some(1000),
            Ended::Reconnect => Some(RECONNECT_CODE),
            Ended::Lost(code) => code,
        });
        ended
    }

    /// Drives the session over `socket` until the connection ends.
    async fn drive(&mut self, mut socket: Socket, url: &str) -> Ended {
        self.session.connect(Instant::now(), Timestamp::now_utc());
        loop {
            while let Some(frame) = self.session.poll_transmit() {
                self.stats.sent(frame.len());
                if let Some(tap) = &self.options.frame_tap {
                    tap.see(FrameDirection::Sent, &frame);
                }
                if send_within(&mut socket, text(frame), self.options.write_timeout)
                    .await
                    .is_err()
                {
                    return Ended::Lost(None);
                }
            }
            if self.take_session_events(url) {
                continue;
            }
            if let Some(closing) = self.session.poll_close() {
                debug!(error = %closing.error, code = closing.frame.code(), "session closed");
                let _ = send_within(
                    &mut socket,
                    close_message(&closing.frame),
                    self.options.write_timeout,
                )
                .await;
                return Ended::Lost(Some(closing.frame.code()));
            }
            if let Some(grace_until) = self.grace_until {
                let drained = !self.events_open && self.session.held_events() == 0;
                if drained || Instant::now() >= grace_until {
                    let bye = brainwire_close::CloseFrame::new(
                        brainwire_close::StandardCode::Normal,
                        "agent shutting down",
                    );
                    let _ =
                        send_within(&mut socket, close_message(&bye), self.options.write_timeout)
                            .await;
                    return Ended::Finished;
                }
            }
            let wake = self
                .session
                .poll_timeout()
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            let wake = self.grace_until.map_or(wake, |g| wake.min(g));
            let room = self.session.held_events() < self.options.config.max_buffered_events;
            tokio::select! {
                message = socket.next() => match message {
                    Some(Ok(message)) => match Incoming::of(message) {
                        Incoming::Frame(bytes) => {
                            self.stats.received(bytes.len());
                            if let Some(tap) = &self.options.frame_tap {
                                tap.see(FrameDirection::Received, &bytes);
                            }
                            self.session.handle_message(Instant::now(), Timestamp::now_utc(), &bytes);
                        }
                        Incoming::Closed(code) => return Ended::Lost(code),
                        Incoming::Ignore => {}
                    },
                    Some(Err(_)) | None => return Ended::Lost(None),
                },
                () = tokio::time::sleep_until(wake.into()) => self.session.handle_timeout(Instant::now()),
                Some((id, result)) = self.replies.recv() => self.answer(id, result),
                event = self.events.recv(), if room && self.events_open => match event {
                    Some(event) => {
                        self.queue(event);
                        // Take what else is waiting (up to a batch) in this turn rather
                        // than one event per turn of the loop.
                        for _ in 1..self.options.config.max_events_per_batch {
                            if self.session.held_events() >= self.options.config.max_buffered_events {
                                break;
                            }
                            match self.events.try_recv() {
                                Ok(event) => self.queue(event),
                                Err(_) => break,
                            }
                        }
                        if self.grace_until.is_some() {
                            self.session.flush(Instant::now());
                        }
                    }
                    None => self.events_open = false,
                },
                grace = &mut self.shutdown, if self.grace_until.is_none() => {
                    self.begin_shutdown(grace.unwrap_or_default());
                    self.session.flush(Instant::now());
                }
                Some(()) = self.reconnect.recv() => {
                    let bye = brainwire_close::CloseFrame::new(
                        brainwire_close::StandardCode::GoingAway,
                        "agent reconnecting",
                    );
                    let _ = send_within(&mut socket, close_message(&bye), self.options.write_timeout).await;
                    return Ended::Reconnect;
                }
            }
        }
    }

    /// Queues `event` in the session; a refused one goes back to the application.
    fn queue(&mut self, event: JsonObject) {
        if let Err(error) = self.session.queue_event(Instant::now(), event) {
            let reason = error.to_string();
            if let Some(event) = refused_event(error) {
                self.notify(Update::Refused { event, reason });
            }
        }
    }

    /// Handles what the session reports; `true` if it reported anything.
    fn take_session_events(&mut self, url: &str) -> bool {
        let mut any = false;
        while let Some(event) = self.session.poll_event() {
            any = true;
            match event {
                AgentEvent::Connected { binding, .. } => {
                    self.policy.on_connected();
                    self.span.record_binding(&binding);
                    debug!("session established");
                    for (id, result) in std::mem::take(&mut self.unsent_replies) {
                        self.answer(id, result);
                    }
                    self.notify(Update::Connected {
                        url: url.to_owned(),
                        binding,
                    });
                }
                AgentEvent::BatchAcked {
                    events, accepted, ..
                } => {
                    self.acked_events += events as u64;
                    self.accepted_events += accepted;
                }
                AgentEvent::Command {
                    command_id,
                    command,
                } => {
                    let incoming = IncomingCommand {
                        command_id,
                        command,
                        replies: self.replies_tx.clone(),
                        answered: false,
                    };
                    if let Err(error) = self.updates.try_send(Update::Command(incoming)) {
                        // The application is not keeping up: answer rather than drop.
                        if let Update::Command(mut incoming) = error.into_inner() {
                            incoming.answered = true;
                            let id = std::mem::take(&mut incoming.command_id);
                            self.answer(id, CommandResult::failed("the agent is busy"));
                        }
                    }
                }
                AgentEvent::PeerError(report) => self.notify(Update::BrainError(report)),
                AgentEvent::Unsent { events, reason } => {
                    self.notify(Update::Unsent { events, reason })
                }
                _ => {}
            }
        }
        any
    }

    /// Sends the answer to command `id` now, or keeps it for the next session.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    fn answer(&mut self, id: String, result: CommandResult) {
        if !self.session.is_established() {
            if self.unsent_replies.len() >= MAX_UNSENT_REPLIES {
                warn_event!("too many answers wait for a connection; dropping the oldest");
                self.unsent_replies.pop_front();
            }
            self.unsent_replies.push_back((id, result));
        } else if let Err(error) = self.session.complete_command(&id, result) {
            // The session signs its own frames; only a bug gets here.
            warn_event!(%error, "a command result could not be sent");
        }
    }
}

/// The event a refusal hands back.
fn refused_event(error: brainwire_v2::QueueError) -> Option<JsonObject> {
    match error {
        brainwire_v2::QueueError::TooLarge { event, .. }
        | brainwire_v2::QueueError::Full { event, .. }
        | brainwire_v2::QueueError::Unsignable { event, .. } => Some(event),
        _ => None,
    }
}

/// Connects to `url` (TCP, TLS, upgrade) within the connect timeout.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
async fn connect(options: AgentOptions, url: String) -> Option<Socket> {
    let Ok(mut request) = url.as_str().into_client_request() else {
        warn_event!(url = %url, "not a WebSocket URL");
        return None;
    };
    let header = Zeroizing::new(format!("Bearer {}", options.token.as_str()));
    let Ok(mut bearer) = HeaderValue::from_str(&header) else {
        warn_event!("the token cannot travel in a header");
        return None;
    };
    bearer.set_sensitive(true);
    request.headers_mut().insert("authorization", bearer);
    let limits = config(options.max_message_bytes, 16 * 1024);
    let tls = options.tls.clone().map(Connector::Rustls);
    // Nagle off: a frame is written whole, and held back it waits for the peer's delayed
    // ACK (tens of milliseconds) behind the batch before it.
    let connect =
        tokio_tungstenite::connect_async_tls_with_config(request, Some(limits), true, tls);
    match tokio::time::timeout(options.connect_timeout, connect).await {
        Ok(Ok((socket, _))) => Some(socket),
        Ok(Err(error)) => {
            debug!(url = %url, %error, "connect failed");
            None
        }
        Err(_) => {
            debug!(url = %url, "connect timed out");
            None
        }
    }
}

/// Sleeps until `deadline`, or for ever without one.
async fn sleep_until_or_never(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
        None => std::future::pending().await,
    }
}
