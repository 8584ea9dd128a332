//! What an authenticated connection does on both sides: heartbeats, liveness, the ack
//! tracker, and passing application messages through.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use brainwire_close::Closing;
use brainwire_core::{decode_by_type, Limits, WallClock};
use bytes::Bytes;

use crate::{
    encode, is_defined, message::decode_node, Ack, Heartbeat, Message, Nack, SendError,
    SessionError,
};

/// How a client or server session behaves. Defaults follow document 002.
#[derive(Clone)]
#[non_exhaustive]
pub struct SessionConfig {
    /// How often to send `heartbeat`. Default 30 s (document 002).
    pub heartbeat_interval: Duration,
    /// Heartbeat intervals a peer may stay silent before the connection closes (1001).
    /// Default 3.
    pub missed_heartbeats: u32,
    /// How long the handshake may take. Default 10 s.
    pub handshake_timeout: Duration,
    /// How long a tracked message waits for `ack`/`nack` before it is reported for retry.
    /// Default 30 s.
    pub ack_timeout: Duration,
    /// Most tracked messages waiting at once. Default 1024.
    pub max_pending_acks: usize,
    /// Limits on every message received.
    pub limits: Limits,
    /// The wall clock heartbeats carry.
    pub wall: WallClock,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            heartbeat_interval: Duration::from_secs(30),
            missed_heartbeats: 3,
            handshake_timeout: Duration::from_secs(10),
            ack_timeout: Duration::from_secs(30),
            max_pending_acks: 1024,
            limits: Limits::default(),
            wall: WallClock::system(),
        }
    }
}

impl std::fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionConfig")
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("missed_heartbeats", &self.missed_heartbeats)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("ack_timeout", &self.ack_timeout)
            .field("max_pending_acks", &self.max_pending_acks)
            .finish_non_exhaustive()
    }
}

/// What a session reports to the application.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// Client: the server accepted the token.
    Authenticated {
        /// The connection id the server assigned.
        connection_id: String,
        /// The organisation's public alias, if sent.
        org_public_alias: Option<String>,
    },
    /// Server: a client authenticated.
    Accepted {
        /// The connection id given to it.
        connection_id: String,
        /// What it declared.
        request: Box<crate::AuthRequest>,
    },
    /// A tracked message was acknowledged.
    Acked {
        /// Its id.
        message_id: String,
    },
    /// A tracked message was refused by the peer.
    Nacked {
        /// Its id.
        message_id: String,
        /// The peer's reason.
        reason: String,
    },
    /// A tracked message got no answer in time: send it again or give up.
    Unanswered {
        /// Its id.
        message_id: String,
    },
    /// The peer's heartbeat, with its Unix milliseconds.
    Heartbeat(u64),
    /// The peer reported a connection-level error.
    PeerError(crate::ErrorMessage),
    /// A message of the layer above (not one of [`Message::TYPES`](crate::Message::TYPES)), for the application.
    Message {
        /// Its `type`.
        message_type: String,
        /// Its bytes, as received.
        bytes: Bytes,
    },
}

/// The parts both roles share.
pub(crate) struct Core {
    pub(crate) phase: Phase,
    pub(crate) config: SessionConfig,
    pub(crate) transmit: VecDeque<Bytes>,
    pub(crate) events: VecDeque<Event>,
    pub(crate) close: Option<Closing<SessionError>>,
    pub(crate) link: Option<Link>,
}

/// A message received once authenticated: one of [`Message::TYPES`](crate::Message::TYPES), or the application's.
enum Received {
    Defined(Message),
    Application(String),
}

/// Where a connection of either role is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for the other side's half of the handshake until `deadline`.
    Handshaking {
        deadline: Instant,
    },
    Authenticated,
    Closed,
}

/// The timers and ack tracker of an authenticated connection.
pub(crate) struct Link {
    next_heartbeat: Instant,
    last_heard: Instant,
    pending: VecDeque<(String, Instant)>,
}

impl Core {
    /// A connection starting its handshake at `now`.
    pub(crate) fn new(now: Instant, config: SessionConfig) -> Self {
        Self {
            phase: Phase::Handshaking {
                deadline: now + config.handshake_timeout,
            },
            config,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            close: None,
            link: None,
        }
    }

    pub(crate) fn send(&mut self, message: &Message) {
        self.transmit.push_back(encode(message));
    }

    /// Starts the authenticated phase at `now`.
    pub(crate) fn open(&mut self, now: Instant) {
        self.phase = Phase::Authenticated;
        self.link = Some(Link {
            next_heartbeat: now + self.config.heartbeat_interval,
            last_heard: now,
            pending: VecDeque::new(),
        });
    }

    /// Ends the connection for `error`, which waits in `close` with its close frame.
    pub(crate) fn fail(&mut self, error: SessionError) {
        self.phase = Phase::Closed;
        self.close = Some(Closing::new(error));
        self.link = None;
    }

    /// Handles a message once authenticated: the application's ones are events, an
    /// `auth.*` one is unexpected and closes.
    pub(crate) fn handle_authenticated(
        &mut self,
        now: Instant,
        bytes: &[u8],
    ) -> Result<(), SessionError> {
        match self.handle_established(now, bytes)? {
            None => Ok(()),
            Some(auth) => Err(SessionError::Unexpected {
                message_type: auth.message_type().into(),
            }),
        }
    }

    /// Runs the timers due at `now`, the handshake deadline included.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        match self.phase {
            Phase::Handshaking { deadline } if now >= deadline => {
                self.fail(SessionError::HandshakeTimeout);
            }
            Phase::Authenticated => self.on_timeout(now),
            _ => {}
        }
    }

    /// When the timers next need running.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Handshaking { deadline } => Some(deadline),
            Phase::Authenticated => self.next_timeout(),
            Phase::Closed => None,
        }
    }

    /// Decodes a message of the authenticated phase, in one parse. Returns
    /// `Ok(Some(message))` for one of [`Message::TYPES`](crate::Message::TYPES) that the role must handle (the `auth.*`
    /// ones).
    pub(crate) fn handle_established(
        &mut self,
        now: Instant,
        bytes: &[u8],
    ) -> Result<Option<Message>, SessionError> {
        let received = decode_by_type(bytes, &self.config.limits, |message_type, root| {
            if is_defined(message_type) {
                decode_node(message_type, root).map(Received::Defined)
            } else {
                Ok(Received::Application(message_type.to_owned()))
            }
        })
        .map_err(SessionError::Decode)?;
        if let Some(link) = &mut self.link {
            link.last_heard = now;
        }
        let message = match received {
            Received::Defined(message) => message,
            Received::Application(message_type) => {
                self.events.push_back(Event::Message {
                    message_type,
                    bytes: Bytes::copy_from_slice(bytes),
                });
                return Ok(None);
            }
        };
        match message {
            Message::Heartbeat(h) => self.events.push_back(Event::Heartbeat(h.timestamp)),
            Message::Ack(Ack { message_id, .. }) => {
                if self.settle(&message_id) {
                    self.events.push_back(Event::Acked { message_id });
                }
            }
            Message::Nack(Nack {
                message_id, reason, ..
            }) => {
                if self.settle(&message_id) {
                    self.events.push_back(Event::Nacked { message_id, reason });
                }
            }
            Message::Error(e) => self.events.push_back(Event::PeerError(e)),
            auth => return Ok(Some(auth)),
        }
        Ok(None)
    }

    /// Removes `message_id` from the tracker; an ack for an untracked id is dropped.
    fn settle(&mut self, message_id: &str) -> bool {
        let Some(link) = &mut self.link else {
            return false;
        };
        match link.pending.iter().position(|(id, _)| id == message_id) {
            Some(i) => link.pending.remove(i).is_some(),
            None => false,
        }
    }

    /// Sends an application message, tracked until its ack when it has an id.
    pub(crate) fn send_app(
        &mut self,
        now: Instant,
        message_id: Option<&str>,
        bytes: Bytes,
    ) -> Result<(), SendError> {
        let max = self.config.max_pending_acks;
        let deadline = now + self.config.ack_timeout;
        let link = self.link.as_mut().ok_or(SendError::NotAuthenticated)?;
        if let Some(id) = message_id {
            if link.pending.iter().any(|(p, _)| p == id) {
                return Err(SendError::DuplicateId {
                    message_id: id.to_owned(),
                });
            }
            if link.pending.len() >= max {
                return Err(SendError::TooManyPending {
                    pending: link.pending.len(),
                });
            }
            link.pending.push_back((id.to_owned(), deadline));
        }
        self.transmit.push_back(bytes);
        Ok(())
    }

    /// Answers a received application message.
    pub(crate) fn answer(&mut self, message: Message) -> Result<(), SendError> {
        if self.link.is_none() {
            return Err(SendError::NotAuthenticated);
        }
        self.send(&message);
        Ok(())
    }

    /// Heartbeats, liveness and ack deadlines due at `now`.
    pub(crate) fn on_timeout(&mut self, now: Instant) {
        let interval = self.config.heartbeat_interval;
        let missed = self.config.missed_heartbeats;
        let Some(link) = &mut self.link else { return };
        if now.duration_since(link.last_heard) >= interval * missed {
            self.fail(SessionError::PeerSilent { missed });
            return;
        }
        while link
            .pending
            .front()
            .is_some_and(|(_, deadline)| now >= *deadline)
        {
            let (message_id, _) = link.pending.pop_front().expect("front exists");
            self.events.push_back(Event::Unanswered { message_id });
        }
        if now >= link.next_heartbeat {
            link.next_heartbeat = now + interval;
            let millis = self.config.wall.read().unix_micros() / 1000;
            let heartbeat = Message::Heartbeat(Heartbeat::new(u64::try_from(millis).unwrap_or(0)));
            self.send(&heartbeat);
        }
    }

    /// The next instant a timer of the authenticated phase fires.
    pub(crate) fn next_timeout(&self) -> Option<Instant> {
        let link = self.link.as_ref()?;
        let silent =
            link.last_heard + self.config.heartbeat_interval * self.config.missed_heartbeats;
        let ack = link.pending.front().map(|(_, d)| *d);
        Some(
            [Some(link.next_heartbeat), Some(silent), ack]
                .into_iter()
                .flatten()
                .min()
                .expect("two are Some"),
        )
    }
}

/// The methods both roles share: the authenticated phase's messages, the timers, sending
/// tracked application messages, answering received ones, and draining outputs. Both hold
/// their [`Core`] in `core`.
macro_rules! shared_link_methods {
    () => {
        /// Whether the handshake succeeded and the connection is open.
        pub fn is_authenticated(&self) -> bool {
            self.core.phase == crate::link::Phase::Authenticated
        }

        /// Feeds a message received at `now`. A message that ends the connection leaves
        /// its error and close frame in [`poll_close`](Self::poll_close); a message fed
        /// once the connection is closed is ignored.
        pub fn handle_message(&mut self, now: std::time::Instant, bytes: &[u8]) {
            if let Err(error) = self.receive(now, bytes) {
                self.core.fail(error);
            }
        }

        /// Runs timers due at `now`: the handshake deadline (1008), heartbeats, liveness
        /// (1001), ack waits.
        pub fn handle_timeout(&mut self, now: std::time::Instant) {
            self.core.handle_timeout(now);
        }

        /// When [`handle_timeout`](Self::handle_timeout) should next run.
        #[must_use]
        pub fn poll_timeout(&self) -> Option<std::time::Instant> {
            self.core.poll_timeout()
        }

        /// Sends an application message; with a `message_id` it is tracked until its `ack`
        /// or `nack` (or reported [`Event::Unanswered`](crate::Event::Unanswered)).
        ///
        /// # Errors
        ///
        /// [`SendError`](crate::SendError) when not authenticated, or the id is already
        /// waiting, or too many wait.
        pub fn send(
            &mut self,
            now: std::time::Instant,
            message_id: Option<&str>,
            bytes: bytes::Bytes,
        ) -> Result<(), crate::SendError> {
            self.core.send_app(now, message_id, bytes)
        }

        /// Acknowledges a received message.
        ///
        /// # Errors
        ///
        /// [`SendError::NotAuthenticated`](crate::SendError::NotAuthenticated).
        pub fn ack(&mut self, message_id: &str) -> Result<(), crate::SendError> {
            self.core
                .answer(crate::Message::Ack(crate::Ack::new(message_id)))
        }

        /// Refuses a received message.
        ///
        /// # Errors
        ///
        /// [`SendError::NotAuthenticated`](crate::SendError::NotAuthenticated).
        pub fn nack(&mut self, message_id: &str, reason: &str) -> Result<(), crate::SendError> {
            self.core
                .answer(crate::Message::Nack(crate::Nack::new(message_id, reason)))
        }

        /// The next message to send (an `auth.failure` comes before the close).
        #[must_use]
        pub fn poll_transmit(&mut self) -> Option<bytes::Bytes> {
            self.core.transmit.pop_front()
        }

        /// The next event.
        #[must_use]
        pub fn poll_event(&mut self) -> Option<crate::Event> {
            self.core.events.pop_front()
        }

        /// The error that ended the connection and the close frame to send for it, once,
        /// after the last transmitted message.
        #[must_use]
        pub fn poll_close(&mut self) -> Option<brainwire_close::Closing<crate::SessionError>> {
            self.core.close.take()
        }
    };
}

pub(crate) use shared_link_methods;
