//! The agent's side of a v2 connection, without I/O.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use brainwire_close::Closing;
use brainwire_core::{JsonError, Limits, Tape, Timestamp};
use brainwire_sign::{Keyring, Secret, SessionBinding};
use bytes::Bytes;

use super::link::{Core, Link};
use super::{SendError, SessionError, Sources};
use crate::{
    Command, CommandAck, CommandResult, ErrorReport, EventBatch, Frame, Heartbeat, Hello,
    JsonObject, Payload, MAX_EVENTS_PER_BATCH,
};

/// Commands received and not yet answered whose delivery token the session keeps for
/// [`AgentSession::complete_command`]; past this, the oldest token is forgotten (its
/// answer still carries the command's id, which the brain matches first).
const MAX_OPEN_COMMANDS: usize = 1024;

/// Largest frame this side signs: the signer's default [`Limits::max_bytes`] (1 MiB).
/// Batches are cut to the smaller of this and the brain's `max_frame_size_bytes`.
const MAX_SIGNED_FRAME_BYTES: u64 = 1024 * 1024;

/// Bytes an `event_batch` needs besides its events: the envelope, the MAC and the list's
/// punctuation, rounded up generously so a batch never exceeds the brain's frame size.
const BATCH_OVERHEAD_BYTES: usize = 512;

/// How an [`AgentSession`] behaves. Defaults follow the reference agent.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AgentConfig {
    /// The `hello` sent on every connection.
    pub hello: Hello,
    /// Most events per `event_batch`. Default 500, the reference agent's batcher cap.
    pub max_events_per_batch: usize,
    /// How long queued events wait for more before a partial batch goes out. Default
    /// 100 ms.
    pub batch_linger: Duration,
    /// Most batches sent and not yet acknowledged. Default 8.
    pub max_batches_in_flight: usize,
    /// Most events held (queued and in flight) before [`AgentSession::queue_event`]
    /// refuses more. Default 100,000.
    pub max_buffered_events: usize,
    /// How long to wait for `hello_ack`. Default 10 s.
    pub handshake_timeout: Duration,
    /// How long a batch may wait for its `event_batch_ack` before it is sent again on the
    /// same connection. Default 90 s, the reference agent's: the deployed brain now and
    /// then holds an ack back under load, and a batch never re-sent would hold its
    /// in-flight slot for good. Brains de-duplicate the re-send by its batch id.
    pub ack_deadline: Duration,
}

impl AgentConfig {
    /// A configuration sending `hello`, with the defaults above.
    pub fn new(hello: Hello) -> Self {
        Self {
            hello,
            max_events_per_batch: 500,
            batch_linger: Duration::from_millis(100),
            max_batches_in_flight: 8,
            max_buffered_events: 100_000,
            handshake_timeout: Duration::from_secs(10),
            ack_deadline: Duration::from_secs(90),
        }
    }
}

/// What the agent session reports to the application.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AgentEvent {
    /// `hello_ack` arrived; frames are now signed with this session's binding.
    Connected {
        /// The session's ids.
        binding: SessionBinding,
        /// Heartbeat cadence the brain asked for.
        heartbeat_interval: Duration,
        /// Largest frame the brain takes.
        max_frame_size_bytes: u64,
    },
    /// The brain acknowledged a batch; its events are no longer held.
    BatchAcked {
        /// The batch's frame id.
        batch_id: String,
        /// Events the batch held.
        events: usize,
        /// The brain's counts.
        received: u64,
        /// Events newly stored.
        accepted: u64,
        /// Events refused.
        rejected: u64,
    },
    /// A command to run; `command_ack` has already been sent. Answer with
    /// [`AgentSession::complete_command`].
    Command {
        /// The command's id (its frame id), which its answers carry.
        command_id: String,
        /// The command.
        command: Command,
    },
    /// The brain reported an error.
    PeerError(ErrorReport),
    /// Events of a batch that could not be signed, handed back instead of blocking the
    /// batches behind them. `queue_event` refuses what cannot be signed and batches are
    /// cut to the signer's size, so this reports a bug; the events are the application's
    /// to log or re-queue.
    Unsent {
        /// The events, in queue order.
        events: Vec<JsonObject>,
        /// Why signing failed.
        reason: String,
    },
}

/// Why an event was not queued; the event is handed back.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// The event alone is larger than the brain's frame size allows.
    #[error("event of {size} bytes cannot fit in a frame of {max} bytes")]
    TooLarge {
        /// The event.
        event: JsonObject,
        /// Its size.
        size: usize,
        /// The largest frame.
        max: u64,
    },
    /// [`AgentConfig::max_buffered_events`] events are held already.
    #[error("{held} events are held already")]
    Full {
        /// The event.
        event: JsonObject,
        /// Events held.
        held: usize,
    },
    /// The event is JSON the signer refuses (a duplicate key, a lone surrogate, a
    /// non-finite number, too deep): no batch holding it could ever be signed.
    #[error("event cannot be signed")]
    Unsignable {
        /// The event.
        event: JsonObject,
        /// Why.
        #[source]
        error: JsonError,
    },
}

/// A batch sent and not yet acknowledged.
#[derive(Debug, Clone)]
struct InFlight {
    id: String,
    events: Vec<JsonObject>,
    /// When it was last sent (a batch waiting to be re-sent keeps its old time).
    sent_at: Instant,
}

#[derive(Debug)]
enum State {
    /// No connection: waiting for [`AgentSession::connect`].
    Disconnected,
    /// `hello` sent, waiting for `hello_ack` until the deadline.
    Handshaking { deadline: Instant },
    /// Signed traffic.
    Established(Box<Established>),
    /// A fatal error: the close frame waits in `poll_close`.
    Closed,
}

struct Established {
    link: Link,
    heartbeat_interval: Duration,
    next_heartbeat: Instant,
    max_frame_size: u64,
}

impl std::fmt::Debug for Established {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Established")
            .field("binding", self.link.binding())
            .field("heartbeat_interval", &self.heartbeat_interval)
            .finish_non_exhaustive()
    }
}

/// The agent's side of a v2 connection: handshake, signed traffic, event batching with
/// acknowledgements, commands and heartbeats, and re-sending after a reconnect.
///
/// # Driving it
///
/// Inputs, each with the current `Instant` (and wall-clock time where frames are
/// verified):
/// - [`connect`](Self::connect) when a socket opens; [`handle_disconnect`](Self::handle_disconnect)
///   when it drops;
/// - [`handle_message`](Self::handle_message) for every message received (text or binary);
/// - [`handle_timeout`](Self::handle_timeout) once [`poll_timeout`](Self::poll_timeout)'s
///   instant has passed;
/// - [`queue_event`](Self::queue_event) and [`complete_command`](Self::complete_command)
///   from the application.
///
/// After any input, drain the outputs: [`poll_transmit`](Self::poll_transmit) (frames to
/// send, in order), [`poll_event`](Self::poll_event), [`poll_close`](Self::poll_close)
/// (a fatal error and its close frame, once), then sleep until
/// [`poll_timeout`](Self::poll_timeout).
///
/// Events are held until the `event_batch_ack` naming their batch arrives. After a
/// reconnect, unacknowledged batches are re-sent first, in order, with their original
/// batch ids (so a brain can de-duplicate), signed under the new session.
pub struct AgentSession {
    config: AgentConfig,
    secret: Secret,
    core: Core<AgentEvent>,
    state: State,
    queued: VecDeque<JsonObject>,
    queued_bytes: usize,
    oldest_queued_at: Option<Instant>,
    /// The parse buffer of `queue_event`'s check, kept between events.
    check: Tape,
    in_flight: VecDeque<InFlight>,
    resend: VecDeque<InFlight>,
    /// Delivery tokens of commands received and not yet answered, by command id.
    open_commands: VecDeque<(String, Option<String>)>,
}

impl std::fmt::Debug for AgentSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentSession")
            .field("state", &self.state)
            .field("queued", &self.queued.len())
            .field("in_flight", &self.in_flight.len())
            .finish_non_exhaustive()
    }
}

impl AgentSession {
    /// A disconnected session that signs with `secret` once a `hello_ack` binds it.
    ///
    /// `sources` supplies the wall clock and nonces of the signer, and the prefix of
    /// frame ids (unique per agent process; the reference uses UUIDs).
    pub fn new(config: AgentConfig, secret: Secret, sources: Sources) -> Self {
        Self {
            config,
            secret,
            core: Core::new(sources),
            state: State::Disconnected,
            queued: VecDeque::new(),
            queued_bytes: 0,
            oldest_queued_at: None,
            check: Tape::new(),
            in_flight: VecDeque::new(),
            resend: VecDeque::new(),
            open_commands: VecDeque::new(),
        }
    }

    /// Whether `hello_ack` has arrived on the current connection.
    pub fn is_established(&self) -> bool {
        matches!(self.state, State::Established(_))
    }

    /// Events held: queued plus in flight (those count until acknowledged).
    pub fn held_events(&self) -> usize {
        self.queued.len()
            + self
                .in_flight
                .iter()
                .chain(&self.resend)
                .map(|b| b.events.len())
                .sum::<usize>()
    }

    /// A socket opened at `now` (wall-clock `wall`, stamped on `hello`): sends `hello`
    /// and starts the handshake timer. Batches left unacknowledged by an earlier
    /// connection will be re-sent once `hello_ack` arrives.
    pub fn connect(&mut self, now: Instant, wall: Timestamp) {
        self.handle_disconnect();
        self.core.reset_connection();
        let hello = Payload::Hello(self.config.hello.clone());
        self.core.send_unsigned("hello", hello, wall);
        self.state = State::Handshaking {
            deadline: now + self.config.handshake_timeout,
        };
    }

    /// The socket closed or failed. In-flight batches wait to be re-sent; a fatal error
    /// not yet taken stays in [`poll_close`](Self::poll_close) until the next `connect`.
    pub fn handle_disconnect(&mut self) {
        // Earlier re-sends stay first, then what was in flight on this connection.
        self.resend.extend(self.in_flight.drain(..));
        self.core.drop_unsent();
        self.state = State::Disconnected;
    }

    /// Queues one task event. It is sent in an `event_batch` once enough events are
    /// queued or [`AgentConfig::batch_linger`] has passed.
    ///
    /// # Errors
    ///
    /// [`QueueError`], handing the event back, when it cannot fit in a frame or the
    /// buffer is full.
    pub fn queue_event(&mut self, now: Instant, event: JsonObject) -> Result<(), QueueError> {
        let held = self.held_events();
        if held >= self.config.max_buffered_events {
            return Err(QueueError::Full { event, held });
        }
        let max = self.max_frame_size();
        let size = event.as_str().len();
        if (size + BATCH_OVERHEAD_BYTES) as u64 > max {
            return Err(QueueError::TooLarge { event, size, max });
        }
        // Checked here, once, under the signer's limits: a refused event would otherwise
        // make its whole batch unsignable later, with nobody to hand it back to.
        if let Err(error) = self
            .check
            .parse(event.as_str().as_bytes(), &Limits::default())
        {
            return Err(QueueError::Unsignable { event, error });
        }
        self.queued_bytes += size + 1;
        self.queued.push_back(event);
        self.oldest_queued_at.get_or_insert(now);
        self.send_batches(now, false);
        Ok(())
    }

    /// Answers the command `command_id` (from [`AgentEvent::Command`]) with `result`.
    /// As the reference agent does, the `command_result` frame carries the command's id
    /// as its own id and echoes the command's `delivery_claim_token`, which the session
    /// kept: that is how the deployed brain matches the two.
    ///
    /// # Errors
    ///
    /// [`SendError::NotEstablished`] without a live session; the application keeps the
    /// result and answers again after reconnecting.
    pub fn complete_command(
        &mut self,
        command_id: &str,
        mut result: CommandResult,
    ) -> Result<(), SendError> {
        let open = self
            .open_commands
            .iter()
            .position(|(id, _)| id == command_id);
        result.delivery_claim_token = open.and_then(|pos| self.open_commands[pos].1.clone());
        self.send_signed_as(command_id, Payload::CommandResult(result))?;
        if let Some(pos) = open {
            self.open_commands.remove(pos);
        }
        Ok(())
    }

    /// Feeds a message received at `now` (wall-clock `wall`). A frame fatal to the
    /// connection ends it: the error and its close frame wait in
    /// [`poll_close`](Self::poll_close). A message fed while no connection is open is
    /// ignored.
    pub fn handle_message(&mut self, now: Instant, wall: Timestamp, bytes: &[u8]) {
        if let Err(error) = self.receive(now, wall, bytes) {
            self.fail(error);
        }
    }

    fn receive(&mut self, now: Instant, wall: Timestamp, bytes: &[u8]) -> Result<(), SessionError> {
        match &mut self.state {
            State::Disconnected | State::Closed => Ok(()),
            State::Handshaking { .. } => {
                let frame = crate::decode(bytes).map_err(SessionError::Decode)?;
                let Payload::HelloAck(ack) = frame.payload else {
                    return Err(SessionError::Unexpected {
                        frame_type: frame.payload.frame_type().as_str(),
                    });
                };
                let binding = SessionBinding::new(ack.agent_id, ack.project_id, ack.session_id);
                let heartbeat_interval =
                    Duration::from_secs(u64::from(ack.heartbeat_interval_seconds));
                let link = self.core.link(
                    Keyring::new(self.secret.clone()),
                    binding.clone(),
                    Limits::default(),
                );
                self.state = State::Established(Box::new(Established {
                    link,
                    heartbeat_interval,
                    next_heartbeat: now + heartbeat_interval,
                    // The brain may announce up to 64 MiB; batches are cut to what this
                    // side's signer takes too.
                    max_frame_size: ack.max_frame_size_bytes.min(MAX_SIGNED_FRAME_BYTES),
                }));
                self.core.push_event(AgentEvent::Connected {
                    binding,
                    heartbeat_interval,
                    max_frame_size_bytes: ack.max_frame_size_bytes,
                });
                self.send_batches(now, false);
                Ok(())
            }
            State::Established(session) => {
                let frame = self.core.verify(&mut session.link, bytes, wall)?;
                self.dispatch(now, frame)
            }
        }
    }

    fn dispatch(&mut self, now: Instant, frame: Frame) -> Result<(), SessionError> {
        match frame.payload {
            Payload::EventBatchAck(ack) => {
                // An ack for a batch we no longer hold (a duplicate) is harmless.
                if let Some(pos) = self.in_flight.iter().position(|b| b.id == ack.acked_id) {
                    let batch = self.in_flight.remove(pos).expect("position is in range");
                    self.core.push_event(AgentEvent::BatchAcked {
                        batch_id: batch.id,
                        events: batch.events.len(),
                        received: ack.received,
                        accepted: ack.accepted,
                        rejected: ack.rejected,
                    });
                }
                self.send_batches(now, false);
                Ok(())
            }
            Payload::Command(command) => {
                // The ack carries the command's id as its own, as the reference agent's.
                let token = command.delivery_claim_token.clone();
                let ack = CommandAck::new(token.clone());
                self.send_signed_as(&frame.id, Payload::CommandAck(ack))
                    .map_err(SessionError::Send)?;
                if self.open_commands.len() == MAX_OPEN_COMMANDS {
                    self.open_commands.pop_front();
                }
                self.open_commands.push_back((frame.id.clone(), token));
                self.core.push_event(AgentEvent::Command {
                    command_id: frame.id,
                    command,
                });
                Ok(())
            }
            Payload::Error(report) => {
                let fatal = report.fatal;
                self.core.push_event(AgentEvent::PeerError(report));
                if fatal {
                    self.state = State::Closed;
                }
                Ok(())
            }
            other => Err(SessionError::Unexpected {
                frame_type: other.frame_type().as_str(),
            }),
        }
    }

    /// Runs timers due at `now`: the handshake deadline, heartbeats, the batch linger,
    /// re-sending batches past [`AgentConfig::ack_deadline`].
    pub fn handle_timeout(&mut self, now: Instant) {
        self.resend_overdue(now);
        match &mut self.state {
            State::Handshaking { deadline } if now >= *deadline => {
                self.fail(SessionError::HelloAckTimeout);
            }
            State::Established(session) if now >= session.next_heartbeat => {
                session.next_heartbeat = now + session.heartbeat_interval;
                let held = self.held_events() as u64;
                let heartbeat = Heartbeat {
                    buffer_size: held.min(10_000_000),
                    ..Heartbeat::default()
                };
                let _ = self.send_signed(Payload::Heartbeat(heartbeat), "hb");
                self.send_batches(now, false);
            }
            State::Established(_) => self.send_batches(now, false),
            _ => {}
        }
    }

    /// Sends every queued event now, in as many batches as the in-flight window allows,
    /// without waiting for the linger.
    pub fn flush(&mut self, now: Instant) {
        self.send_batches(now, true);
    }

    /// The next frame to send, in order.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.core.poll_transmit()
    }

    /// The next thing the application should know.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<AgentEvent> {
        self.core.poll_event()
    }

    /// The error that ended the connection and the close frame to send for it, once,
    /// after the frames [`poll_transmit`](Self::poll_transmit) gives.
    #[must_use]
    pub fn poll_close(&mut self) -> Option<Closing<SessionError>> {
        self.core.poll_close()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next run.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            State::Handshaking { deadline } => Some(*deadline),
            State::Established(session) => {
                let linger = self.oldest_queued_at.map(|t| t + self.config.batch_linger);
                let overdue = self
                    .in_flight
                    .front()
                    .map(|b| b.sent_at + self.config.ack_deadline);
                [linger, overdue]
                    .into_iter()
                    .flatten()
                    .chain([session.next_heartbeat])
                    .min()
            }
            State::Disconnected | State::Closed => None,
        }
    }

    fn max_frame_size(&self) -> u64 {
        match &self.state {
            State::Established(session) => session.max_frame_size,
            _ => 1_048_576,
        }
    }

    /// Signs and queues a frame; fails without a live session.
    fn send_signed(&mut self, payload: Payload, kind: &str) -> Result<(), SendError> {
        let id = self.core.next_id(kind);
        self.send_signed_as(&id, payload)
    }

    /// Signs and queues a frame with the given id.
    fn send_signed_as(&mut self, id: &str, payload: Payload) -> Result<(), SendError> {
        let State::Established(session) = &mut self.state else {
            return Err(SendError::NotEstablished);
        };
        self.core.send_signed(&mut session.link, id, &payload)
    }

    /// Sends re-sends first, then full batches, then (when `force` or the linger has
    /// passed) a partial one, while the in-flight window has room.
    fn send_batches(&mut self, now: Instant, force: bool) {
        if !self.is_established() {
            return;
        }
        while self.in_flight.len() < self.config.max_batches_in_flight {
            if let Some(batch) = self.resend.pop_front() {
                if batch_bytes(&batch.events) > self.batch_budget() {
                    // Cut for a brain that took larger frames: its events go back to the
                    // front of the queue to be cut again (a brain that did receive the
                    // old batch may see some of them twice, as after any lost ack).
                    self.requeue_front(now, batch.events);
                    continue;
                }
                self.transmit_batch(now, batch);
                continue;
            }
            if self.queued.is_empty() {
                break;
            }
            let lingered = self
                .oldest_queued_at
                .is_some_and(|t| now >= t + self.config.batch_linger);
            let budget = self.batch_budget();
            let full = self.queued.len() >= self.batch_limit() || self.queued_bytes >= budget;
            if !(full || lingered || force) {
                break;
            }
            let events = self.cut_batch(budget);
            let id = self.core.next_id("batch");
            self.transmit_batch(
                now,
                InFlight {
                    id,
                    events,
                    sent_at: now,
                },
            );
        }
    }

    /// Most bytes of events one batch may hold.
    fn batch_budget(&self) -> usize {
        usize::try_from(self.max_frame_size())
            .unwrap_or(usize::MAX)
            .saturating_sub(BATCH_OVERHEAD_BYTES)
    }

    /// Puts `events` back at the front of the queue, in order (they leave with the next
    /// batch once the linger has passed, like any queued event).
    fn requeue_front(&mut self, now: Instant, events: Vec<JsonObject>) {
        self.queued_bytes += batch_bytes(&events);
        self.oldest_queued_at.get_or_insert(now);
        for event in events.into_iter().rev() {
            self.queued.push_front(event);
        }
    }

    fn batch_limit(&self) -> usize {
        self.config
            .max_events_per_batch
            .clamp(1, MAX_EVENTS_PER_BATCH)
    }

    /// Takes the queued events that fit in one batch.
    fn cut_batch(&mut self, budget: usize) -> Vec<JsonObject> {
        let mut events = Vec::new();
        let mut bytes = 0;
        while let Some(event) = self.queued.front() {
            let size = event.as_str().len() + 1;
            if events.len() == self.batch_limit() || (!events.is_empty() && bytes + size > budget) {
                break;
            }
            bytes += size;
            events.push(self.queued.pop_front().expect("front exists"));
        }
        self.queued_bytes -= bytes;
        if self.queued.is_empty() {
            self.oldest_queued_at = None;
        }
        events
    }

    /// Signs and queues `batch`. A batch that cannot be signed (which `queue_event`'s
    /// checks and the size cap leave to a bug) is handed back to the application as
    /// [`AgentEvent::Unsent`] rather than retried, so it never blocks the batches behind
    /// it.
    fn transmit_batch(&mut self, now: Instant, mut batch: InFlight) {
        batch.sent_at = now;
        let State::Established(session) = &mut self.state else {
            self.resend.push_front(batch);
            return;
        };
        let payload = Payload::EventBatch(EventBatch::new(batch.events.clone()));
        match self
            .core
            .send_signed(&mut session.link, &batch.id, &payload)
        {
            Ok(()) => self.in_flight.push_back(batch),
            Err(error) => self.core.push_event(AgentEvent::Unsent {
                events: batch.events,
                reason: error.to_string(),
            }),
        }
    }

    /// Moves batches sent before `now - ack_deadline` and still unacknowledged to the front
    /// of the re-send queue, oldest first (in-flight batches are in the order sent).
    fn resend_overdue(&mut self, now: Instant) {
        let deadline = self.config.ack_deadline;
        let overdue = self
            .in_flight
            .iter()
            .take_while(|b| now >= b.sent_at + deadline)
            .count();
        for batch in self.in_flight.drain(..overdue).rev() {
            self.resend.push_front(batch);
        }
    }

    /// Ends the connection for `error`: in-flight batches wait to be re-sent, and the
    /// error with its close frame waits in `poll_close`.
    fn fail(&mut self, error: SessionError) {
        self.resend.extend(self.in_flight.drain(..));
        self.state = State::Closed;
        self.core.fail(error);
    }
}

/// Bytes `events` count for in a batch (each with its separating comma).
fn batch_bytes(events: &[JsonObject]) -> usize {
    events.iter().map(|e| e.as_str().len() + 1).sum()
}
