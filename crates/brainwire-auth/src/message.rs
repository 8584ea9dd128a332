//! The seven messages and their codec.

use brainwire_core::{decode_by_type, Limits, Node};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{DecodeError, OrchCapabilities, Token};

/// Longest token, in characters.
pub const MAX_TOKEN_CHARS: usize = 4096;
/// Longest `messageId`, `connectionId`, `code` or `orgPublicAlias`, in characters.
pub const MAX_ID_CHARS: usize = 256;
/// Longest `reason` or `message`, in characters.
pub const MAX_TEXT_CHARS: usize = 8192;
/// Most capability flags.
pub const MAX_CAPABILITIES: usize = 256;

/// `heartbeat`: sent every 30 s by both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Heartbeat {
    /// Unix time in milliseconds.
    pub timestamp: u64,
}

/// `ack`: a message was received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Ack {
    /// The acknowledged message's id.
    #[serde(rename = "messageId")]
    pub message_id: String,
}

/// `nack`: a message was received but could not be processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Nack {
    /// The rejected message's id.
    #[serde(rename = "messageId")]
    pub message_id: String,
    /// Why, for people.
    pub reason: String,
}

/// `error`: a connection-level error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorMessage {
    /// An error code.
    pub code: String,
    /// Why, for people.
    pub message: String,
}

/// `auth.request`: the connecting party authenticates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthRequest {
    /// The API key or token (never empty, never in `Debug`).
    pub token: Token,
    /// The protocol version, a positive integer (currently 1).
    #[serde(rename = "protocolVersion")]
    pub protocol_version: u32,
    /// What an orchestrator can do; absent for pre-capability orchestrators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<OrchCapabilities>,
}

/// `auth.success`: the server accepted the connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthSuccess {
    /// The connection id the server assigned.
    #[serde(rename = "connectionId")]
    pub connection_id: String,
    /// The public alias (`oal_<12 chars>`) of the orchestrator's organisation.
    #[serde(
        rename = "orgPublicAlias",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub org_public_alias: Option<String>,
}

/// `auth.failure`: the server refused; it closes the connection right after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthFailure {
    /// Why, for people.
    pub reason: String,
}

impl Heartbeat {
    /// A heartbeat at `timestamp` (Unix milliseconds).
    pub fn new(timestamp: u64) -> Self {
        Self { timestamp }
    }
}

impl Ack {
    /// An ack of `message_id`.
    pub fn new(message_id: impl Into<String>) -> Self {
        Self {
            message_id: message_id.into(),
        }
    }
}

impl Nack {
    /// A nack of `message_id`.
    pub fn new(message_id: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            message_id: message_id.into(),
            reason: reason.into(),
        }
    }
}

impl ErrorMessage {
    /// An error.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

impl AuthRequest {
    /// A request without capabilities.
    pub fn new(token: Token, protocol_version: u32) -> Self {
        Self {
            token,
            protocol_version,
            capabilities: None,
        }
    }
}

impl AuthSuccess {
    /// A success without an alias.
    pub fn new(connection_id: impl Into<String>) -> Self {
        Self {
            connection_id: connection_id.into(),
            org_public_alias: None,
        }
    }
}

impl AuthFailure {
    /// A failure.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

/// One of the seven messages this family defines.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant is named after its message
pub enum Message {
    Heartbeat(Heartbeat),
    Ack(Ack),
    Nack(Nack),
    Error(ErrorMessage),
    AuthRequest(AuthRequest),
    AuthSuccess(AuthSuccess),
    AuthFailure(AuthFailure),
}

impl Message {
    /// The wire `type`.
    pub const fn message_type(&self) -> &'static str {
        match self {
            Self::Heartbeat(_) => "heartbeat",
            Self::Ack(_) => "ack",
            Self::Nack(_) => "nack",
            Self::Error(_) => "error",
            Self::AuthRequest(_) => "auth.request",
            Self::AuthSuccess(_) => "auth.success",
            Self::AuthFailure(_) => "auth.failure",
        }
    }
}

/// Whether `message_type` is one of the seven this crate defines (others are the
/// application's messages, which sessions pass through).
pub fn is_defined(message_type: &str) -> bool {
    matches!(
        message_type,
        "heartbeat" | "ack" | "nack" | "error" | "auth.request" | "auth.success" | "auth.failure"
    )
}

/// The `type` of a message, after checking size, UTF-8, depth and duplicates.
///
/// # Errors
///
/// [`DecodeError`] when the bytes are not a JSON object with a string `type`.
pub fn peek_type(wire: &[u8], limits: &Limits) -> Result<String, DecodeError> {
    Ok(brainwire_core::peek_type(wire, limits)?)
}

/// Decodes one message under the default [`Limits`].
///
/// # Errors
///
/// [`DecodeError`], each naming its close code.
pub fn decode(wire: &[u8]) -> Result<Message, DecodeError> {
    decode_with(wire, &Limits::default())
}

/// [`decode`] under `limits`.
///
/// # Errors
///
/// As [`decode`].
pub fn decode_with(wire: &[u8], limits: &Limits) -> Result<Message, DecodeError> {
    decode_by_type(wire, limits, decode_node)
}

/// Decodes and validates the message of `message_type` from its parsed document.
pub(crate) fn decode_node(message_type: &str, root: Node<'_>) -> Result<Message, DecodeError> {
    let message = match message_type {
        "heartbeat" => Message::Heartbeat(one(root)?),
        "ack" => Message::Ack(one(root)?),
        "nack" => Message::Nack(one(root)?),
        "error" => Message::Error(one(root)?),
        "auth.request" => Message::AuthRequest(one(root)?),
        "auth.success" => Message::AuthSuccess(one(root)?),
        "auth.failure" => Message::AuthFailure(one(root)?),
        other => {
            return Err(DecodeError::UnknownType {
                found: other.chars().take(64).collect(),
            })
        }
    };
    validate(&message)?;
    Ok(message)
}

fn one<T: DeserializeOwned>(root: Node<'_>) -> Result<T, DecodeError> {
    root.decode().map_err(DecodeError::Schema)
}

fn chars(field: &'static str, value: &str, max: usize) -> Result<(), DecodeError> {
    let len = if value.len() <= max {
        return Ok(());
    } else {
        value.chars().count()
    };
    if len > max {
        Err(DecodeError::TooLong { field, len, max })
    } else {
        Ok(())
    }
}

fn validate(message: &Message) -> Result<(), DecodeError> {
    match message {
        Message::Heartbeat(_) => Ok(()),
        Message::Ack(a) => chars("messageId", &a.message_id, MAX_ID_CHARS),
        Message::Nack(n) => {
            chars("messageId", &n.message_id, MAX_ID_CHARS)?;
            chars("reason", &n.reason, MAX_TEXT_CHARS)
        }
        Message::Error(e) => {
            chars("code", &e.code, MAX_ID_CHARS)?;
            chars("message", &e.message, MAX_TEXT_CHARS)
        }
        Message::AuthRequest(r) => {
            if r.token.is_empty() {
                return Err(DecodeError::EmptyToken);
            }
            if r.token.chars() > MAX_TOKEN_CHARS {
                return Err(DecodeError::TooLong {
                    field: "token",
                    len: r.token.chars(),
                    max: MAX_TOKEN_CHARS,
                });
            }
            if r.protocol_version == 0 {
                return Err(DecodeError::InvalidProtocolVersion);
            }
            let flags = r.capabilities.as_ref().map_or(0, |c| {
                c.extra.len() + c.dashboard_writes.as_ref().map_or(0, |w| w.len())
            });
            if flags > MAX_CAPABILITIES {
                return Err(DecodeError::TooLong {
                    field: "capabilities",
                    len: flags,
                    max: MAX_CAPABILITIES,
                });
            }
            Ok(())
        }
        Message::AuthSuccess(s) => {
            chars("connectionId", &s.connection_id, MAX_ID_CHARS)?;
            s.org_public_alias
                .as_deref()
                .map_or(Ok(()), |a| chars("orgPublicAlias", a, MAX_ID_CHARS))
        }
        Message::AuthFailure(f) => chars("reason", &f.reason, MAX_TEXT_CHARS),
    }
}

/// A message with its `type` first.
#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "type")]
    message_type: &'static str,
    #[serde(flatten)]
    message: &'a T,
}

/// Encodes a message.
pub fn encode(message: &Message) -> Bytes {
    fn tagged<T: Serialize>(message_type: &'static str, message: &T) -> Bytes {
        Bytes::from(
            serde_json::to_vec(&Tagged {
                message_type,
                message,
            })
            .expect("messages serialize to JSON"),
        )
    }
    let t = message.message_type();
    match message {
        Message::Heartbeat(m) => tagged(t, m),
        Message::Ack(m) => tagged(t, m),
        Message::Nack(m) => tagged(t, m),
        Message::Error(m) => tagged(t, m),
        Message::AuthRequest(m) => tagged(t, m),
        Message::AuthSuccess(m) => tagged(t, m),
        Message::AuthFailure(m) => tagged(t, m),
    }
}
