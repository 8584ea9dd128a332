//! The brain's side of one v1 connection, without I/O: `hello` first, then frames decoded
//! under limits, `ack` by `seq`, commands matched to their `command_result`, and the
//! document's close codes.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use brainwire_close::v1::CloseCode;
use brainwire_close::{Closing, NamesCloseCode, StandardCode};
use brainwire_core::Limits;
use bytes::Bytes;

use crate::{
    decode_agent_with, encode_brain, Ack, AgentFrame, BrainFrame, Command, CommandResult,
    DecodeError, ErrorFrame, EventBatch, Heartbeat, Hello, ScheduleSnapshot, ScheduleUpdate,
};

/// How a [`BrainSession`] behaves. Each bounds something the agent controls.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionConfig {
    /// How long the agent may take to send `hello`. Default 10 s.
    pub hello_timeout: Duration,
    /// How long the agent may stay silent once connected; document 000 sets no heartbeat
    /// interval, so the default is generous: 120 s.
    pub idle_timeout: Duration,
    /// Most commands waiting for their `command_result` at once. Default 64.
    pub max_pending_commands: usize,
    /// Limits on every frame received (1 MiB, depth 256).
    pub limits: Limits,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            hello_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            max_pending_commands: 64,
            limits: Limits::default(),
        }
    }
}

/// What a session reports to the brain application.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BrainEvent {
    /// The agent's `hello`: the session is established.
    Hello(Box<Hello>),
    /// Task events; answer with [`BrainSession::ack`] once they are stored. A batch sent
    /// again after a reconnect keeps its `seq`.
    EventBatch(EventBatch),
    /// A heartbeat.
    Heartbeat(Heartbeat),
    /// The result of a command this session sent, with that command.
    CommandCompleted {
        /// The command, as sent.
        command: Command,
        /// Its result.
        result: CommandResult,
    },
    /// A `command_result` naming no command this session is waiting for (sent before a
    /// reconnect, or answered twice).
    StrayCommandResult(CommandResult),
    /// The full schedule list of one scheduler.
    ScheduleSnapshot(ScheduleSnapshot),
    /// A change to one scheduler's schedules.
    ScheduleUpdate(ScheduleUpdate),
}

/// Why a session closed its connection. Each names its close code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The bearer token was missing or refused: 4002 (stop: a configuration error).
    #[error("invalid token")]
    Unauthorized,
    /// A frame that is not a valid v1 frame: 4005, or 4001 for a `hello` of another
    /// version. An `error` frame saying why is sent first.
    #[error("frame refused: {0}")]
    Decode(#[source] DecodeError),
    /// A valid frame out of order (anything but `hello` first, a second `hello`): 4005.
    #[error("unexpected {frame_type} frame")]
    Unexpected {
        /// Its type.
        frame_type: &'static str,
    },
    /// No `hello` within [`SessionConfig::hello_timeout`]: 1001 (transient).
    #[error("no hello in time")]
    HelloTimeout,
    /// No frame within [`SessionConfig::idle_timeout`]: 1001 (transient).
    #[error("idle timeout: no frame from the agent")]
    IdleTimeout,
}

impl SessionError {
    /// A stable snake_case name, also the `code` of the `error` frame sent before the
    /// close.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Unauthorized => "invalid_token",
            Self::Decode(e) => e.kind(),
            Self::Unexpected { .. } => "unexpected_frame",
            Self::HelloTimeout => "hello_timeout",
            Self::IdleTimeout => "idle_timeout",
        }
    }
}

impl NamesCloseCode for SessionError {
    type Code = CloseCode;

    /// Document 000's codes: 4002 token, 4005 malformed (4001 for another version);
    /// a silent agent gets 1001, which it retries.
    fn close_code(&self) -> CloseCode {
        match self {
            Self::Unauthorized => CloseCode::InvalidToken,
            Self::Decode(e) => e.close_code(),
            Self::Unexpected { .. } => CloseCode::MalformedFrame,
            Self::HelloTimeout | Self::IdleTimeout => CloseCode::Standard(StandardCode::GoingAway),
        }
    }
}

/// Why the application's request was not carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The agent has not sent `hello` yet, or the connection is closed.
    #[error("the session is not established")]
    NotEstablished,
    /// [`SessionConfig::max_pending_commands`] commands wait for their result already.
    #[error("{pending} commands wait for their result")]
    TooManyPending {
        /// Commands waiting.
        pending: usize,
    },
    /// A command with this `cmd_id` waits already.
    #[error("command {cmd_id} is pending already")]
    DuplicateCommand {
        /// The id.
        cmd_id: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitingHello { deadline: Instant },
    Established { idle_deadline: Instant },
    Closed,
}

/// The brain's side of one v1 agent connection (document 000), without I/O.
///
/// [`accept`](Self::accept) takes the bearer token's verdict; feed every received message
/// to [`handle_message`](Self::handle_message) and call
/// [`handle_timeout`](Self::handle_timeout) at [`poll_timeout`](Self::poll_timeout); after
/// each, drain [`poll_transmit`](Self::poll_transmit), [`poll_event`](Self::poll_event)
/// and [`poll_close`](Self::poll_close).
///
/// ```
/// use std::time::Instant;
/// use brainwire_v1::{BrainEvent, BrainSession, SessionConfig};
///
/// let now = Instant::now();
/// let mut session = BrainSession::accept(now, true, SessionConfig::default());
/// session.handle_message(now, br#"{"type":"hello","protocol":"v1","agent_name":"web-1",
///   "framework":"bare","framework_version":"1","engines":[],"schedulers":[],
///   "capabilities":{},"metadata":{"hostname":"h","pid":1}}"#);
/// assert!(matches!(session.poll_event(), Some(BrainEvent::Hello(_))));
/// session.handle_message(now, br#"{"type":"event_batch","seq":1,"events":[]}"#);
/// let Some(BrainEvent::EventBatch(batch)) = session.poll_event() else { panic!() };
/// session.ack(batch.seq).unwrap();
/// assert_eq!(&session.poll_transmit().unwrap()[..], br#"{"type":"ack","seq":1}"#);
/// assert!(session.poll_close().is_none());
/// ```
#[derive(Debug)]
pub struct BrainSession {
    phase: Phase,
    config: SessionConfig,
    pending_commands: HashMap<String, Command>,
    transmit: VecDeque<Bytes>,
    events: VecDeque<BrainEvent>,
    close: Option<Closing<SessionError>>,
}

impl BrainSession {
    /// A session for a connection opened at `now` whose bearer token was checked by the
    /// brain's store: when `authorized` is false, the session closes at once with 4002.
    pub fn accept(now: Instant, authorized: bool, config: SessionConfig) -> Self {
        let mut session = Self {
            phase: Phase::AwaitingHello {
                deadline: now + config.hello_timeout,
            },
            config,
            pending_commands: HashMap::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            close: None,
        };
        if !authorized {
            session.fail(SessionError::Unauthorized);
        }
        session
    }

    /// Whether the agent's `hello` was taken and the connection is open.
    pub fn is_established(&self) -> bool {
        matches!(self.phase, Phase::Established { .. })
    }

    /// Feeds a message received at `now`. A frame that ends the connection leaves an
    /// `error` frame in [`poll_transmit`](Self::poll_transmit) and its close in
    /// [`poll_close`](Self::poll_close); a message fed once closed is ignored.
    pub fn handle_message(&mut self, now: Instant, bytes: &[u8]) {
        if self.phase == Phase::Closed {
            return;
        }
        let frame = match decode_agent_with(bytes, &self.config.limits) {
            Ok(frame) => frame,
            Err(error) => return self.fail(SessionError::Decode(error)),
        };
        let idle_deadline = now + self.config.idle_timeout;
        let event = match (self.phase, frame) {
            (Phase::AwaitingHello { .. }, AgentFrame::Hello(hello)) => {
                BrainEvent::Hello(Box::new(hello))
            }
            (Phase::AwaitingHello { .. }, other) | (_, other @ AgentFrame::Hello(_)) => {
                return self.fail(SessionError::Unexpected {
                    frame_type: other.frame_type(),
                })
            }
            (_, AgentFrame::EventBatch(batch)) => BrainEvent::EventBatch(batch),
            (_, AgentFrame::Heartbeat(heartbeat)) => BrainEvent::Heartbeat(heartbeat),
            (_, AgentFrame::CommandResult(result)) => {
                match self.pending_commands.remove(&result.cmd_id) {
                    Some(command) => BrainEvent::CommandCompleted { command, result },
                    None => BrainEvent::StrayCommandResult(result),
                }
            }
            (_, AgentFrame::ScheduleSnapshot(snapshot)) => BrainEvent::ScheduleSnapshot(snapshot),
            (_, AgentFrame::ScheduleUpdate(update)) => BrainEvent::ScheduleUpdate(update),
        };
        self.phase = Phase::Established { idle_deadline };
        self.events.push_back(event);
    }

    /// Runs the deadline due at `now`: `hello` (1001) or idle (1001).
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.phase {
            Phase::AwaitingHello { deadline } if now >= deadline => {
                self.fail(SessionError::HelloTimeout)
            }
            Phase::Established { idle_deadline } if now >= idle_deadline => {
                self.fail(SessionError::IdleTimeout)
            }
            _ => {}
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) should next run.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::AwaitingHello { deadline } => Some(deadline),
            Phase::Established { idle_deadline } => Some(idle_deadline),
            Phase::Closed => None,
        }
    }

    /// Acknowledges the `event_batch` numbered `seq`, once the application has stored it.
    ///
    /// # Errors
    ///
    /// [`SendError::NotEstablished`].
    pub fn ack(&mut self, seq: u64) -> Result<(), SendError> {
        self.established()?;
        self.transmit
            .push_back(encode_brain(&BrainFrame::Ack(Ack::new(seq))));
        Ok(())
    }

    /// Sends `command`; its `command_result` comes back as
    /// [`BrainEvent::CommandCompleted`] with the command.
    ///
    /// # Errors
    ///
    /// [`SendError`]: not established, too many pending, or its `cmd_id` pending already.
    pub fn send_command(&mut self, command: Command) -> Result<(), SendError> {
        self.established()?;
        let pending = self.pending_commands.len();
        if pending >= self.config.max_pending_commands {
            return Err(SendError::TooManyPending { pending });
        }
        if self.pending_commands.contains_key(&command.cmd_id) {
            return Err(SendError::DuplicateCommand {
                cmd_id: command.cmd_id,
            });
        }
        self.transmit
            .push_back(encode_brain(&BrainFrame::Command(command.clone())));
        self.pending_commands
            .insert(command.cmd_id.clone(), command);
        Ok(())
    }

    /// Commands sent and not yet answered (lost with the connection if it ends: send them
    /// again on the agent's next one).
    pub fn pending_commands(&self) -> impl Iterator<Item = &Command> {
        self.pending_commands.values()
    }

    /// The next frame to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmit.pop_front()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<BrainEvent> {
        self.events.pop_front()
    }

    /// The error that ended the connection and the close frame to send for it, once,
    /// after the last transmitted frame.
    #[must_use]
    pub fn poll_close(&mut self) -> Option<Closing<SessionError>> {
        self.close.take()
    }

    fn established(&self) -> Result<(), SendError> {
        if self.is_established() {
            Ok(())
        } else {
            Err(SendError::NotEstablished)
        }
    }

    /// Ends the session for `error`: an `error` frame first for what the agent sent
    /// wrong (document 000: "fatal protocol error; brain will close the socket").
    fn fail(&mut self, error: SessionError) {
        if matches!(
            error,
            SessionError::Decode(_) | SessionError::Unexpected { .. }
        ) {
            let frame = ErrorFrame::new(error.kind(), error.to_string());
            self.transmit
                .push_back(encode_brain(&BrainFrame::Error(frame)));
        }
        self.phase = Phase::Closed;
        self.close = Some(Closing::new(error));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode_brain, CommandVerb};
    use brainwire_core::JsonObject;

    const HELLO: &[u8] = br#"{"type":"hello","protocol":"v1","agent_name":"web-1","framework":"bare","framework_version":"1","engines":["celery"],"schedulers":[],"capabilities":{},"metadata":{"hostname":"h","pid":1}}"#;

    fn established(now: Instant) -> BrainSession {
        let mut session = BrainSession::accept(now, true, SessionConfig::default());
        session.handle_message(now, HELLO);
        let Some(BrainEvent::Hello(hello)) = session.poll_event() else {
            panic!("hello expected");
        };
        assert_eq!(hello.agent_name, "web-1");
        session
    }

    fn closed_with(session: &mut BrainSession) -> (u16, String) {
        let closing = session.poll_close().expect("closed");
        (closing.frame.code(), closing.error.kind().to_owned())
    }

    #[test]
    fn a_refused_token_closes_with_4002_before_anything_is_read() {
        let now = Instant::now();
        let mut session = BrainSession::accept(now, false, SessionConfig::default());
        assert_eq!(closed_with(&mut session), (4002, "invalid_token".into()));
        session.handle_message(now, HELLO);
        assert_eq!(session.poll_event(), None);
        assert_eq!(session.poll_transmit(), None);
    }

    #[test]
    fn a_first_frame_other_than_hello_gets_an_error_frame_and_4005() {
        let now = Instant::now();
        let mut session = BrainSession::accept(now, true, SessionConfig::default());
        session.handle_message(now, br#"{"type":"heartbeat","ts":"2026-02-06T01:30:00Z"}"#);
        let BrainFrame::Error(error) = decode_brain(&session.poll_transmit().unwrap()).unwrap()
        else {
            panic!("error frame expected");
        };
        assert_eq!(error.code, "unexpected_frame");
        assert_eq!(closed_with(&mut session), (4005, "unexpected_frame".into()));
    }

    #[test]
    fn a_hello_for_another_version_closes_with_4001() {
        let now = Instant::now();
        let mut session = BrainSession::accept(now, true, SessionConfig::default());
        let v2 = String::from_utf8(HELLO.to_vec())
            .unwrap()
            .replace(r#""v1""#, r#""v9""#);
        session.handle_message(now, v2.as_bytes());
        assert!(session.poll_transmit().is_some());
        assert_eq!(
            closed_with(&mut session),
            (4001, "protocol_mismatch".into())
        );
    }

    #[test]
    fn malformed_frames_and_a_second_hello_close_with_4005() {
        let now = Instant::now();
        for bad in [&b"{not json"[..], br#"{"type":"ack","seq":1}"#, HELLO] {
            let mut session = established(now);
            session.handle_message(now, bad);
            assert!(session.poll_transmit().is_some(), "error frame first");
            assert_eq!(closed_with(&mut session).0, 4005);
            assert!(!session.is_established());
        }
    }

    #[test]
    fn batches_are_acked_by_seq_and_commands_matched_to_their_result() {
        let now = Instant::now();
        let mut session = established(now);
        assert_eq!(session.ack(3), Ok(()), "acks are the application's to give");
        assert_eq!(
            &session.poll_transmit().unwrap()[..],
            br#"{"type":"ack","seq":3}"#
        );
        let command = Command::new("c-1", CommandVerb::CancelTask, JsonObject::default());
        session.send_command(command.clone()).unwrap();
        assert_eq!(
            session.send_command(command.clone()),
            Err(SendError::DuplicateCommand {
                cmd_id: "c-1".into()
            })
        );
        assert!(session
            .poll_transmit()
            .unwrap()
            .starts_with(br#"{"type":"command","cmd_id":"c-1""#));
        session.handle_message(
            now,
            br#"{"type":"command_result","cmd_id":"c-1","ok":true}"#,
        );
        assert!(matches!(
            session.poll_event(),
            Some(BrainEvent::CommandCompleted { command: c, result }) if c == command && result.ok
        ));
        session.handle_message(
            now,
            br#"{"type":"command_result","cmd_id":"c-1","ok":true}"#,
        );
        assert!(matches!(
            session.poll_event(),
            Some(BrainEvent::StrayCommandResult(_))
        ));
        assert!(session.poll_close().is_none());
    }

    #[test]
    fn pending_commands_are_bounded() {
        let now = Instant::now();
        let config = SessionConfig {
            max_pending_commands: 2,
            ..SessionConfig::default()
        };
        let mut session = BrainSession::accept(now, true, config);
        let command = |id: &str| Command::new(id, CommandVerb::QueryState, JsonObject::default());
        assert_eq!(
            session.send_command(command("a")),
            Err(SendError::NotEstablished)
        );
        session.handle_message(now, HELLO);
        session.send_command(command("a")).unwrap();
        session.send_command(command("b")).unwrap();
        assert_eq!(
            session.send_command(command("c")),
            Err(SendError::TooManyPending { pending: 2 })
        );
        assert_eq!(session.pending_commands().count(), 2);
    }

    #[test]
    fn a_silent_agent_is_closed_with_1001_and_each_frame_restarts_the_wait() {
        let start = Instant::now();
        let config = SessionConfig::default();
        let mut waiting = BrainSession::accept(start, true, config.clone());
        assert_eq!(waiting.poll_timeout(), Some(start + config.hello_timeout));
        waiting.handle_timeout(start + config.hello_timeout);
        assert_eq!(closed_with(&mut waiting), (1001, "hello_timeout".into()));

        let mut session = established(start);
        let later = start + config.idle_timeout / 2;
        session.handle_message(
            later,
            br#"{"type":"heartbeat","ts":"2026-02-06T01:30:00Z"}"#,
        );
        session.handle_timeout(start + config.idle_timeout);
        assert!(
            session.poll_close().is_none(),
            "the heartbeat restarted the wait"
        );
        assert_eq!(session.poll_timeout(), Some(later + config.idle_timeout));
        session.handle_timeout(later + config.idle_timeout);
        assert_eq!(closed_with(&mut session), (1001, "idle_timeout".into()));
        assert_eq!(session.poll_timeout(), None);
    }
}
