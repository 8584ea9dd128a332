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

/// `data` of `run_update`, `run_complete` and `run_failed`. Absent and `null` read the
/// same; every field but `message` is written, `null` when unset, as the document shows.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunData {
    /// The run's id (the board's key).
    #[serde(default)]
    pub id: Option<String>,
    /// Its status.
    #[serde(default)]
    pub status: Option<RunStatus>,
    /// Progress (steps done), any JSON number, kept exact.
    #[serde(default)]
    pub progress: Option<serde_json::Number>,
    /// The task.
    #[serde(default)]
    pub task_id: Option<String>,
    /// The agent running it.
    #[serde(default)]
    pub agent: Option<String>,
    /// When it started.
    #[serde(default)]
    pub started_at: Option<IsoMillis>,
    /// When it completed.
    #[serde(default)]
    pub completed_at: Option<IsoMillis>,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<String>,
    /// A system message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl RunData {
    /// Data for run `id` in `status`.
    pub fn new(id: impl Into<String>, status: RunStatus) -> Self {
        Self {
            id: Some(id.into()),
            status: Some(status),
            ..Self::default()
        }
    }
}

/// What a message says, by its `type`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Body {
    /// `connected`: the greeting, with its `message`.
    Connected {
        /// The greeting text.
        message: String,
    },
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
            Self::Connected { .. } => "connected",
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

#[derive(Serialize, Deserialize)]
struct ConnectedData {
    message: String,
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
            "connected" => {
                let w: Wire<ConnectedData> = one(root)?;
                (
                    Body::Connected {
                        message: w.data.message,
                    },
                    w.timestamp,
                )
            }
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
        Body::Connected { message: text } => out(
            t,
            &ConnectedData {
                message: text.clone(),
            },
            &message.timestamp,
        ),
        Body::RunUpdate(d) | Body::RunComplete(d) | Body::RunFailed(d) => {
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
