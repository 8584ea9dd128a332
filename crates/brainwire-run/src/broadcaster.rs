//! The server side of the run stream, without I/O: who is connected, and what each gets.

use std::collections::BTreeSet;

use brainwire_close::{NamesCloseCode, StandardCode};
use brainwire_core::{Fanout, JsonError, JsonValue, Limits, Tape, WallClock};
use bytes::Bytes;

use crate::{encode, Body, RunData, RunMessage, StatusDocument};

/// Why a client message got no echo.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EchoError {
    /// The client is not connected.
    #[error("unknown client")]
    UnknownClient,
    /// The message is not JSON, or over the echo limits.
    #[error("client message refused")]
    Invalid(#[source] JsonError),
}

impl EchoError {
    /// A stable snake_case name for tools and logs: `unknown_client`, or the
    /// [`JsonError`]'s kind.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::UnknownClient => "unknown_client",
            Self::Invalid(e) => e.kind(),
        }
    }
}

impl NamesCloseCode for EchoError {
    type Code = StandardCode;

    /// 1009 past the echo's size limit, 1002 for anything else the client sent, 1011 for
    /// a client the server never joined (its own bug).
    fn close_code(&self) -> StandardCode {
        match self {
            Self::UnknownClient => StandardCode::InternalError,
            Self::Invalid(JsonError::TooLarge { .. }) => StandardCode::MessageTooBig,
            Self::Invalid(_) => StandardCode::ProtocolError,
        }
    }
}

/// Why a client could not join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{connected} clients are connected, the limit")]
pub struct Full {
    /// Clients connected.
    pub connected: usize,
}

impl NamesCloseCode for Full {
    type Code = StandardCode;

    /// 1013 (try again later): the client reconnects with backoff.
    fn close_code(&self) -> StandardCode {
        StandardCode::TryAgainLater
    }
}

/// The run stream's server core: clients join (and get the `connected` greeting) and
/// leave by id; every status change is serialized once and the same [`Bytes`] goes to
/// all; any client message is answered with its `echo`.
///
/// ```
/// use brainwire_core::WallClock;
/// use brainwire_run::{Body, Broadcaster, RunData, RunStatus};
///
/// let mut server = Broadcaster::new("Connected to Cecelia Brain", WallClock::system());
/// let greeting = server.join(1u64)?;
/// assert!(greeting.starts_with(br#"{"type":"connected","data":{"message":"Connected to Cecelia Brain"}"#));
/// server.join(2)?;
///
/// let fanout = server.publish(Body::RunUpdate(RunData::new("task-123", RunStatus::InProgress)));
/// assert_eq!(fanout.recipients, [1, 2]);
/// assert_eq!(server.encodings(), 3); // two greetings and one update, however many clients
///
/// let echo = server.handle_message(&1, br#"{"test":"Hello Brain"}"#)?;
/// assert!(echo.starts_with(br#"{"type":"echo","data":{"test":"Hello Brain"}"#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Broadcaster<C> {
    clients: BTreeSet<C>,
    greeting: String,
    wall: WallClock,
    encodings: u64,
    max_clients: usize,
    echo_limits: Limits,
    /// The parse of client messages, reused so an echo allocates only its result.
    tape: Tape,
}

impl<C> std::fmt::Debug for Broadcaster<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broadcaster")
            .field("clients", &self.clients.len())
            .field("encodings", &self.encodings)
            .finish_non_exhaustive()
    }
}

impl<C: Clone + Ord> Broadcaster<C> {
    /// A broadcaster greeting each client with `greeting`, stamping messages from `wall`.
    /// At most 10,000 clients; echoes of at most 64 KiB.
    pub fn new(greeting: impl Into<String>, wall: WallClock) -> Self {
        Self {
            clients: BTreeSet::new(),
            greeting: greeting.into(),
            wall,
            encodings: 0,
            max_clients: 10_000,
            echo_limits: Limits::default().max_bytes(64 * 1024),
            tape: Tape::new(),
        }
    }

    /// Caps the number of clients.
    #[must_use]
    pub fn max_clients(mut self, max: usize) -> Self {
        self.max_clients = max;
        self
    }

    /// Adds `client`; returns the `connected` greeting to send it.
    ///
    /// # Errors
    ///
    /// [`Full`] at the client limit.
    pub fn join(&mut self, client: C) -> Result<Bytes, Full> {
        if self.clients.len() >= self.max_clients && !self.clients.contains(&client) {
            return Err(Full {
                connected: self.clients.len(),
            });
        }
        self.clients.insert(client);
        Ok(self.encode(Body::Connected(RunData::system_message(
            self.greeting.clone(),
        ))))
    }

    /// Removes `client`; `false` if it was not connected.
    pub fn leave(&mut self, client: &C) -> bool {
        self.clients.remove(client)
    }

    /// Serializes `body` once, stamped now, for every connected client.
    pub fn publish(&mut self, body: Body) -> Fanout<C> {
        let bytes = self.encode(body);
        self.fanout(bytes)
    }

    /// Serializes `body` once, stamped now, without sending it: the bytes a brain on
    /// several nodes publishes on its bus, for every node to [`fanout`](Self::fanout).
    pub fn encode(&mut self, body: Body) -> Bytes {
        self.encodings += 1;
        encode(&RunMessage::new(body, self.wall.read()))
    }

    /// `bytes`, an encoded run message (from [`encode`](Self::encode), here or on another
    /// node), for every connected client, unchanged: nothing is decoded or serialized.
    pub fn fanout(&self, bytes: Bytes) -> Fanout<C> {
        Fanout {
            bytes,
            recipients: self.clients.iter().cloned().collect(),
        }
    }

    /// Answers a message `client` sent with its `echo`: its JSON, unchanged, as `data`.
    ///
    /// # Errors
    ///
    /// [`EchoError`] for an unknown client or a message that is not JSON within limits;
    /// each names its close code.
    pub fn handle_message(&mut self, client: &C, received: &[u8]) -> Result<Bytes, EchoError> {
        if !self.clients.contains(client) {
            return Err(EchoError::UnknownClient);
        }
        let root = self
            .tape
            .parse(received, &self.echo_limits)
            .map_err(EchoError::Invalid)?
            .root();
        // The parse checked the limits; the echo takes its exact text from the same parse.
        let data: JsonValue = root.decode().expect("any JSON is a JsonValue");
        Ok(self.encode(Body::Echo(data)))
    }

    /// The status document of `GET /api/brain/status/ws`.
    pub fn status(&self, endpoint: &str) -> StatusDocument {
        StatusDocument::new(true, self.clients.len() as u64, endpoint)
    }

    /// Clients connected now.
    pub fn connected(&self) -> usize {
        self.clients.len()
    }

    /// Messages serialized so far (one per publish, greeting or echo, never per client).
    pub fn encodings(&self) -> u64 {
        self.encodings
    }
}
