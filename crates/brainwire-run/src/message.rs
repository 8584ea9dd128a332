//! The run stream's message, `{type, data, timestamp}`, and its codec.

use brainwire_close::{NamesCloseCode, StandardCode};
use brainwire_core::check::one;
use brainwire_core::{decode_by_type, JsonValue, Limits, Node, ShapeError};
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::IsoMillis;

/// A task's status; unknown ones are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RunStatus {
    /// `queued`
    Queued,
    /// `in_progress`
    InProgress,
    /// `completed`
    Completed,
    /// `failed`
    Failed,
    /// A status this version does not know, kept as sent.
    Other(String),
}

impl RunStatus {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Queued => "queued",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Other(other) => other,
        }
    }

    /// Whether the task is done: `completed` or `failed`.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Completed | Self::Failed)
    }
}

impl From<&str> for RunStatus {
    fn from(value: &str) -> Self {
        match value {
            "queued" => Self::Queued,
            "in_progress" => Self::InProgress,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl Serialize for RunStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RunStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|s| Self::from(s.as_str()))
    }
}

/// Defines [`RunData`], its wire form and its encoding from one list of fields, so that
/// the three agree on every member.
macro_rules! run_data {
    ($( $field:ident: $ty:ty, $doc:literal; )*) => {
        /// `data` of every run stream message: each member of document 003's interface is
        /// optional. A member the sender wrote as `null` is kept as `null` when the message
        /// is encoded again, an absent one stays absent: a relay changes nothing.
        #[derive(Debug, Clone, PartialEq, Default)]
        #[non_exhaustive]
        pub struct RunData {
            $(
                #[doc = $doc]
                pub $field: Option<$ty>,
            )*
            /// Members received as `null` (`NullBit` masks).
            nulls: u16,
        }

        /// Each field's bit in `RunData::nulls`.
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy)]
        enum NullBit {
            $($field,)*
        }

        impl NullBit {
            const fn mask(self) -> u16 {
                1 << self as u16
            }
        }

        /// `data` as received: `None` absent, `Some(None)` an explicit `null`.
        #[derive(Deserialize)]
        struct RunDataWire {
            $(
                #[serde(default, deserialize_with = "present")]
                $field: Option<Option<$ty>>,
            )*
        }

        impl From<RunDataWire> for RunData {
            fn from(wire: RunDataWire) -> Self {
                let mut data = RunData::default();
                $(
                    match wire.$field {
                        Some(Some(value)) => data.$field = Some(value),
                        Some(None) => data.nulls |= NullBit::$field.mask(),
                        None => {}
                    }
                )*
                data
            }
        }

        impl Serialize for RunData {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(None)?;
                $(
                    match &self.$field {
                        Some(value) => map.serialize_entry(stringify!($field), value)?,
                        None if self.nulls & NullBit::$field.mask() != 0 => {
                            map.serialize_entry(stringify!($field), &())?
                        }
                        None => {}
                    }
                )*
                map.end()
            }
        }
    };
}

run_data! {
    id: String, "The run's id (the board's key).";
    status: RunStatus, "Its status.";
    progress: serde_json::Number, "Progress (steps done), any JSON number, kept exact.";
    task_id: String, "The task.";
    agent: String, "The agent running it.";
    started_at: IsoMillis, "When it started.";
    completed_at: IsoMillis, "When it completed.";
    error: String, "Why it failed.";
    message: String, "A system message (the greeting of `connected`).";
}

impl<'de> Deserialize<'de> for RunData {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        RunDataWire::deserialize(deserializer).map(Self::from)
    }
}

/// A member that is present, `null` included (`Some(None)`).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

impl RunData {
    /// Data for run `id` in `status`; the other members are absent.
    pub fn new(id: impl Into<String>, status: RunStatus) -> Self {
        Self {
            id: Some(id.into()),
            status: Some(status),
            ..Self::default()
        }
    }

    /// Data holding only a system `message`, as `connected` carries it.
    pub fn system_message(message: impl Into<String>) -> Self {
        Self {
            message: Some(message.into()),
            ..Self::default()
        }
    }
}

/// What a message says, by its `type`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Body {
    /// `connected`: the greeting; its text is `data.message` (every member of `data`
    /// is optional, as for the other types).
    Connected(RunData),
    /// `run_update`: a status or progress change.
    RunUpdate(RunData),
    /// `run_complete`: a task completed.
    RunComplete(RunData),
    /// `run_failed`: a task failed.
    RunFailed(RunData),
    /// `echo`: whatever JSON the client sent, unchanged.
    Echo(JsonValue),
}

impl Body {
    /// The run message a task in `data.status` is reported with, as document 003's
    /// server picks it: `run_complete` for `completed`, `run_failed` for `failed`,
    /// `run_update` for every other status or none. Prefer it to naming the variant, which lets
    /// a failed task travel as `run_complete`.
    pub fn for_status(data: RunData) -> Self {
        match data.status {
            Some(RunStatus::Completed) => Self::RunComplete(data),
            Some(RunStatus::Failed) => Self::RunFailed(data),
            _ => Self::RunUpdate(data),
        }
    }

    /// The wire `type`.
    pub const fn message_type(&self) -> &'static str {
        match self {
            Self::Connected(_) => "connected",
            Self::RunUpdate(_) => "run_update",
            Self::RunComplete(_) => "run_complete",
            Self::RunFailed(_) => "run_failed",
            Self::Echo(_) => "echo",
        }
    }

    /// The run data of `run_*` messages.
    pub fn run_data(&self) -> Option<&RunData> {
        match self {
            Self::RunUpdate(d) | Self::RunComplete(d) | Self::RunFailed(d) => Some(d),
            _ => None,
        }
    }
}

/// One message of the run stream: `{type, data, timestamp}`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RunMessage {
    /// What it says.
    pub body: Body,
    /// When it was sent.
    pub timestamp: IsoMillis,
}

impl RunMessage {
    /// A message.
    pub fn new(body: Body, timestamp: impl Into<IsoMillis>) -> Self {
        Self {
            body,
            timestamp: timestamp.into(),
        }
    }
}

/// Why a run stream message was refused. Document 003 names no close codes; these map
/// to RFC 6455's 1002 (protocol error), or 1009 past the size limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// What every family refuses: not JSON, not an object, no or an unknown `type`, a
    /// schema mismatch (`data` or `timestamp` missing).
    #[error(transparent)]
    Shape(ShapeError),
}

impl DecodeError {
    /// A stable snake_case name for tools and logs; a schema mismatch is
    /// `invalid_message`.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Shape(ShapeError::Schema(_)) => "invalid_message",
            Self::Shape(e) => e.kind(),
        }
    }
}

impl NamesCloseCode for DecodeError {
    type Code = StandardCode;

    fn close_code(&self) -> StandardCode {
        match self {
            Self::Shape(e) if e.is_too_large() => StandardCode::MessageTooBig,
            Self::Shape(_) => StandardCode::ProtocolError,
        }
    }
}

impl From<ShapeError> for DecodeError {
    fn from(error: ShapeError) -> Self {
        Self::Shape(error)
    }
}

#[derive(Deserialize)]
struct Wire<D> {
    data: D,
    timestamp: IsoMillis,
}

/// Decodes a message under the default [`Limits`].
///
/// # Errors
///
/// [`DecodeError`], each naming its close code.
pub fn decode(wire: &[u8]) -> Result<RunMessage, DecodeError> {
    decode_with(wire, &Limits::default())
}

/// [`decode`] under `limits`.
///
/// # Errors
///
/// As [`decode`].
pub fn decode_with(wire: &[u8], limits: &Limits) -> Result<RunMessage, DecodeError> {
    let (body, timestamp) = decode_by_type(wire, limits, |message_type, root| {
        Ok(match message_type {
            "connected" => run(root, Body::Connected)?,
            "run_update" => run(root, Body::RunUpdate)?,
            "run_complete" => run(root, Body::RunComplete)?,
            "run_failed" => run(root, Body::RunFailed)?,
            "echo" => {
                let w: Wire<JsonValue> = one(root)?;
                (Body::Echo(w.data), w.timestamp)
            }
            other => return Err(DecodeError::from(ShapeError::unknown_type(other))),
        })
    })?;
    Ok(RunMessage { body, timestamp })
}

fn run(root: Node<'_>, wrap: fn(RunData) -> Body) -> Result<(Body, IsoMillis), DecodeError> {
    let w: Wire<RunData> = one(root)?;
    Ok((wrap(w.data), w.timestamp))
}

#[derive(Serialize)]
struct WireOut<'a, D> {
    #[serde(rename = "type")]
    message_type: &'static str,
    data: &'a D,
    timestamp: &'a IsoMillis,
}

/// Encodes a message: `{"type", "data", "timestamp"}` in the document's order.
pub fn encode(message: &RunMessage) -> Bytes {
    fn out<D: Serialize>(t: &'static str, data: &D, timestamp: &IsoMillis) -> Bytes {
        let wire = WireOut {
            message_type: t,
            data,
            timestamp,
        };
        Bytes::from(serde_json::to_vec(&wire).expect("messages serialize to JSON"))
    }
    let t = message.body.message_type();
    match &message.body {
        Body::Connected(d) | Body::RunUpdate(d) | Body::RunComplete(d) | Body::RunFailed(d) => {
            out(t, d, &message.timestamp)
        }
        Body::Echo(v) => out(t, v, &message.timestamp),
    }
}

/// The answer of `GET /api/brain/status/ws`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StatusDocument {
    /// Whether the request succeeded.
    pub success: bool,
    /// The WebSocket service's state.
    pub websocket: WebSocketStatus,
}

/// `websocket` of [`StatusDocument`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebSocketStatus {
    /// Whether the service runs.
    pub active: bool,
    /// Clients connected now.
    pub connected_clients: u64,
    /// The stream's path (`/ws`).
    pub endpoint: String,
}

impl StatusDocument {
    /// A successful status.
    pub fn new(active: bool, connected_clients: u64, endpoint: impl Into<String>) -> Self {
        Self {
            success: true,
            websocket: WebSocketStatus {
                active,
                connected_clients,
                endpoint: endpoint.into(),
            },
        }
    }
}
