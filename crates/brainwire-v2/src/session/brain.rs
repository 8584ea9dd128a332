//! The brain's side of a v2 agent connection, without I/O.

use std::time::{Duration, Instant};

use brainwire_close::Closing;
use brainwire_core::{Limits, Timestamp};
use brainwire_sign::{KeyId, Keyring, SessionBinding};
use bytes::Bytes;

use super::link::{Core, Link};
use super::{SendError, SessionError, Sources};
use crate::{
    AgentStatus, Command, CommandResult, ErrorReport, EventBatchAck, Frame, Heartbeat, Hello,
    HelloAck, JsonObject, Payload, RegistryDelta, PROTOCOL_VERSION,
};

/// What a brain knows about an agent whose bearer token it accepted.
#[derive(Debug, Clone)]
pub struct AgentGrant {
    /// The agent's id, bound into every MAC.
    pub agent_id: String,
    /// The agent's project, bound into every MAC.
    pub project_id: String,
    /// The project's secret (and previous ones during a rotation). The brain verifies with
    /// any of them and signs with the one the agent proved
    /// ([`BrainSession::proven_key`]).
    pub keys: Keyring,
}

/// Checks bearer tokens: the brain's agent registry, implemented by the server.
pub trait AgentAuthority {
    /// The grant for `bearer`, or `None` to refuse the connection (4401).
    fn authorize(&self, bearer: &str) -> Option<AgentGrant>;
}

/// How a [`BrainSession`] behaves. Defaults follow the deployed brain.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BrainConfig {
    /// `brain_version` in `hello_ack` (the real agent refuses a `hello_ack` without it).
    pub brain_version: String,
    /// Heartbeat cadence asked of agents. Default 10 s.
    pub heartbeat_interval: Duration,
    /// Largest frame the brain takes (announced in `hello_ack` and enforced on every
    /// frame). Default 1 MiB; `hello_ack` allows 1 KiB to 64 MiB.
    pub max_frame_size_bytes: u64,
    /// How long a connection may wait before its `hello`. Default 10 s.
    pub hello_timeout: Duration,
    /// How long an agent may stay silent before 4408. Default 30 s (three heartbeats).
    pub idle_timeout: Duration,
    /// Most commands waiting for their result. Default 64.
    pub max_pending_commands: usize,
}

impl BrainConfig {
    /// A configuration with `brain_version` and the defaults above.
    pub fn new(brain_version: impl Into<String>) -> Self {
        Self {
            brain_version: brain_version.into(),
            heartbeat_interval: Duration::from_secs(10),
            max_frame_size_bytes: 1_048_576,
            hello_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            max_pending_commands: 64,
        }
    }
}

/// What the brain session reports to the application.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BrainEvent {
    /// The agent said `hello` and got its `hello_ack`.
    Hello {
        /// Its `hello`.
        hello: Box<Hello>,
        /// The session's ids.
        binding: SessionBinding,
    },
    /// A verified batch of events. Answer with [`BrainSession::ack_batch`]; an agent
    /// re-sends unacknowledged batches with the same `batch_id`, so de-duplicate by it.
    EventBatch {
        /// The batch's frame id.
        batch_id: String,
        /// The events.
        events: Vec<JsonObject>,
    },
    /// A verified heartbeat.
    Heartbeat(Heartbeat),
    /// The agent confirmed it received a command.
    CommandAcked {
        /// The command's frame id.
        command_id: String,
    },
    /// The agent reported how a command ended.
    CommandCompleted {
        /// The command's frame id.
        command_id: String,
        /// The result.
        result: CommandResult,
    },
    /// A registry update.
    RegistryDelta(RegistryDelta),
    /// A self-report.
    AgentStatus(Box<AgentStatus>),
    /// The agent reported an error.
    PeerError(ErrorReport),
}

#[derive(Debug)]
struct PendingCommand {
    command_id: String,
    token: String,
    acked: bool,
}

enum State {
    /// Authorized, waiting for `hello` until the deadline.
    AwaitingHello {
        grant: AgentGrant,
        deadline: Instant,
    },
    /// Signed traffic.
    Established(Box<Established>),
    /// Closed: the close frame waits in `poll_close`.
    Closed,
}

struct Established {
    link: Link,
    idle_deadline: Instant,
}

/// The brain's side of one agent connection: bearer check, `hello` within a deadline,
/// version check, `hello_ack` with a fresh session id, then every inbound frame verified,
/// batches acknowledged as the application decides, commands signed and matched to their
/// `command_ack` and `command_result`, idle agents closed.
///
/// # Driving it
///
/// [`accept`](Self::accept) once the WebSocket upgrade arrives (with its bearer token);
/// then [`handle_message`](Self::handle_message) for every message, [`handle_timeout`](Self::handle_timeout)
/// when [`poll_timeout`](Self::poll_timeout) has passed, and the application's
/// [`ack_batch`](Self::ack_batch) and [`send_command`](Self::send_command). After each
/// input drain [`poll_transmit`](Self::poll_transmit), [`poll_event`](Self::poll_event)
/// and [`poll_close`](Self::poll_close); once it gave the error and its close frame,
/// send the frame and drop the connection.
pub struct BrainSession {
    config: BrainConfig,
    core: Core<BrainEvent>,
    session_id: String,
    state: State,
    binding: Option<SessionBinding>,
    pending: Vec<PendingCommand>,
}

impl std::fmt::Debug for BrainSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrainSession")
            .field("session_id", &self.session_id)
            .field("binding", &self.binding)
            .field("pending_commands", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl BrainSession {
    /// Accepts a connection carrying `bearer` (the `Authorization: Bearer` value) at `now`.
    /// `session_id` must be fresh (a UUID); it is bound into every MAC of the session.
    ///
    /// A missing or refused token gives a session that is already closed: its
    /// [`poll_close`](Self::poll_close) holds [`SessionError::Unauthorized`] and 4401.
    pub fn accept(
        now: Instant,
        bearer: Option<&str>,
        authority: &impl AgentAuthority,
        session_id: impl Into<String>,
        config: BrainConfig,
        sources: Sources,
    ) -> Self {
        let grant = bearer.and_then(|token| authority.authorize(token));
        let mut session = Self {
            state: State::Closed,
            session_id: session_id.into(),
            binding: None,
            pending: Vec::new(),
            core: Core::new(sources),
            config,
        };
        match grant {
            Some(grant) => {
                session.state = State::AwaitingHello {
                    grant,
                    deadline: now + session.config.hello_timeout,
                };
            }
            None => session.fail(SessionError::Unauthorized),
        }
        session
    }

    /// The session's binding, once `hello_ack` was sent.
    pub fn binding(&self) -> Option<&SessionBinding> {
        self.binding.as_ref()
    }

    /// Which key of the grant's keyring the agent signs with, once its first signed frame
    /// verified; `None` before. The brain signs with this key too, so an agent still on a
    /// previous key keeps working during a rotation; until the agent proves a key, frames
    /// the brain sends (commands) wait, unless the keyring holds a single key.
    pub fn proven_key(&self) -> Option<KeyId> {
        match &self.state {
            State::Established(session) => session.link.proven_key(),
            _ => None,
        }
    }

    /// The limits of every frame the agent sends: `max_frame_size_bytes` from the config.
    fn frame_limits(&self) -> Limits {
        Limits::default()
            .max_bytes(usize::try_from(self.config.max_frame_size_bytes).unwrap_or(usize::MAX))
    }

    /// Whether the session still runs.
    pub fn is_open(&self) -> bool {
        !matches!(self.state, State::Closed)
    }

    /// Feeds a message received at `now` (wall-clock `wall`). A message that ends the
    /// connection leaves its error and close frame in [`poll_close`](Self::poll_close);
    /// a message fed once the session is closed is ignored.
    pub fn handle_message(&mut self, now: Instant, wall: Timestamp, bytes: &[u8]) {
        if let Err(error) = self.receive(now, wall, bytes) {
            self.fail(error);
        }
    }

    fn receive(&mut self, now: Instant, wall: Timestamp, bytes: &[u8]) -> Result<(), SessionError> {
        match std::mem::replace(&mut self.state, State::Closed) {
            State::Closed => Ok(()),
            State::AwaitingHello { grant, .. } => {
                let frame = crate::decode_with(bytes, &self.frame_limits())
                    .map_err(SessionError::Decode)?;
                let Payload::Hello(hello) = frame.payload else {
                    let frame_type = frame.payload.frame_type().as_str();
                    return Err(SessionError::Unexpected { frame_type });
                };
                if hello.protocol_version != PROTOCOL_VERSION {
                    let version = hello.protocol_version.chars().take(40).collect();
                    return Err(SessionError::UnsupportedProtocol { version });
                }
                self.establish(now, wall, grant, Box::new(hello));
                Ok(())
            }
            State::Established(mut session) => {
                let frame = self.core.verify(&mut session.link, bytes, wall)?;
                session.idle_deadline = now + self.config.idle_timeout;
                self.state = State::Established(session);
                self.dispatch(frame)
            }
        }
    }

    fn establish(&mut self, now: Instant, wall: Timestamp, grant: AgentGrant, hello: Box<Hello>) {
        let binding =
            SessionBinding::new(grant.agent_id, grant.project_id, self.session_id.clone());
        let mut ack = HelloAck::new(
            self.config.brain_version.clone(),
            binding.agent_id.clone(),
            binding.project_id.clone(),
            binding.session_id.clone(),
        );
        ack.heartbeat_interval_seconds =
            self.config.heartbeat_interval.as_secs().clamp(1, 3600) as u32;
        ack.max_frame_size_bytes = self.config.max_frame_size_bytes;
        self.core
            .send_unsigned("hello-ack", Payload::HelloAck(ack), wall);

        let link = self
            .core
            .link(grant.keys, binding.clone(), self.frame_limits());
        self.state = State::Established(Box::new(Established {
            link,
            idle_deadline: now + self.config.idle_timeout,
        }));
        self.binding = Some(binding.clone());
        self.core.push_event(BrainEvent::Hello { hello, binding });
    }

    fn dispatch(&mut self, frame: Frame) -> Result<(), SessionError> {
        let event = match frame.payload {
            Payload::EventBatch(batch) => BrainEvent::EventBatch {
                batch_id: frame.id,
                events: batch.events,
            },
            Payload::Heartbeat(heartbeat) => BrainEvent::Heartbeat(heartbeat),
            Payload::CommandAck(ack) => {
                match self.match_pending(&frame.id, ack.delivery_claim_token.as_deref(), false) {
                    Some(command_id) => BrainEvent::CommandAcked { command_id },
                    None => return Ok(()),
                }
            }
            Payload::CommandResult(result) => {
                match self.match_pending(&frame.id, result.delivery_claim_token.as_deref(), true) {
                    Some(command_id) => BrainEvent::CommandCompleted { command_id, result },
                    None => return Ok(()),
                }
            }
            Payload::RegistryDelta(delta) => BrainEvent::RegistryDelta(delta),
            Payload::AgentStatus(status) => BrainEvent::AgentStatus(Box::new(status)),
            Payload::Error(report) => BrainEvent::PeerError(report),
            other => {
                let frame_type = other.frame_type().as_str();
                return Err(SessionError::Unexpected { frame_type });
            }
        };
        self.core.push_event(event);
        Ok(())
    }

    /// The command a `command_ack` (or, with `complete`, a `command_result`) answers: the
    /// reference agent gives its answers the command's frame id; failing that, the echoed
    /// delivery token. An answer matching neither, and a late or duplicate one, matches
    /// nothing and is dropped: guessing would complete a command that never ran.
    fn match_pending(
        &mut self,
        frame_id: &str,
        token: Option<&str>,
        complete: bool,
    ) -> Option<String> {
        let pos = self
            .pending
            .iter()
            .position(|p| p.command_id == frame_id || token.is_some_and(|t| p.token == t))?;
        if complete {
            Some(self.pending.remove(pos).command_id)
        } else if self.pending[pos].acked {
            None
        } else {
            self.pending[pos].acked = true;
            Some(self.pending[pos].command_id.clone())
        }
    }

    /// Acknowledges the batch `batch_id` with the application's counts.
    ///
    /// # Errors
    ///
    /// [`SendError::NotEstablished`] when the session is not (or no longer) running.
    pub fn ack_batch(
        &mut self,
        batch_id: &str,
        received: u64,
        accepted: u64,
        rejected: u64,
    ) -> Result<(), SendError> {
        let ack = EventBatchAck::new(batch_id, received, accepted, rejected);
        self.send_signed(Payload::EventBatchAck(ack), "ack")
            .map(drop)
    }

    /// Signs and sends `command`, giving it a fresh delivery token unless it has one.
    /// Returns the command's frame id, which [`BrainEvent::CommandAcked`] and
    /// [`BrainEvent::CommandCompleted`] name.
    ///
    /// # Errors
    ///
    /// [`SendError::TooManyPending`] past [`BrainConfig::max_pending_commands`],
    /// [`SendError::NotEstablished`], or [`SendError::Encode`] for a command that breaks a cap.
    pub fn send_command(&mut self, mut command: Command) -> Result<String, SendError> {
        if self.pending.len() >= self.config.max_pending_commands {
            return Err(SendError::TooManyPending {
                pending: self.pending.len(),
            });
        }
        let token = command
            .delivery_claim_token
            .get_or_insert_with(|| self.core.next_id("claim"))
            .clone();
        let command_id = self.send_signed(Payload::Command(command), "cmd")?;
        self.pending.push(PendingCommand {
            command_id: command_id.clone(),
            token,
            acked: false,
        });
        Ok(command_id)
    }

    /// Runs timers due at `now`: the `hello` deadline (4400) and the idle timeout (4408).
    pub fn handle_timeout(&mut self, now: Instant) {
        let expired = match &self.state {
            State::AwaitingHello { deadline, .. } if now >= *deadline => {
                Some(SessionError::HandshakeTimeout)
            }
            State::Established(session) if now >= session.idle_deadline => {
                Some(SessionError::IdleTimeout)
            }
            _ => None,
        };
        if let Some(error) = expired {
            self.fail(error);
        }
    }

    /// The next frame to send, in order.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.core.poll_transmit()
    }

    /// The next thing the application should know.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<BrainEvent> {
        self.core.poll_event()
    }

    /// The error that ended the connection and the close frame to send for it, once,
    /// after the frames [`poll_transmit`](Self::poll_transmit) gives; after it the
    /// connection is done.
    #[must_use]
    pub fn poll_close(&mut self) -> Option<Closing<SessionError>> {
        self.core.poll_close()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next run.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            State::AwaitingHello { deadline, .. } => Some(*deadline),
            State::Established(session) => Some(session.idle_deadline),
            State::Closed => None,
        }
    }

    fn send_signed(&mut self, payload: Payload, kind: &str) -> Result<String, SendError> {
        let State::Established(session) = &mut self.state else {
            return Err(SendError::NotEstablished);
        };
        let id = self.core.next_id(kind);
        self.core.send_signed(&mut session.link, &id, &payload)?;
        Ok(id)
    }

    /// Ends the connection for `error`, which waits in `poll_close` with its close frame.
    fn fail(&mut self, error: SessionError) {
        self.state = State::Closed;
        self.core.fail(error);
    }
}
