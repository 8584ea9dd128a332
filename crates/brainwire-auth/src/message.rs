//! The messages of document 002 and their codec.

use brainwire_core::check::{self, one};
use brainwire_core::{decode_by_type, Limits, Node, ShapeError};
use bytes::Bytes;
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
    /// Unix time in milliseconds (`1.7e12` is read as the integer it is, as zod does).
    #[serde(deserialize_with = "crate::zod::integer")]
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
    /// The protocol version, a positive integer (currently 1; `1.0` reads as 1).
    #[serde(rename = "protocolVersion", deserialize_with = "crate::zod::integer")]
    pub protocol_version: u32,
    /// What an orchestrator can do; absent for pre-capability orchestrators (`null` is
    /// refused, as the schema's `.optional()` does).
    #[serde(
        default,
        deserialize_with = "crate::zod::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub capabilities: Option<OrchCapabilities>,
}

/// `auth.success`: the server accepted the connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthSuccess {
    /// The connection id the server assigned.
    #[serde(rename = "connectionId")]
    pub connection_id: String,
    /// The public alias (`oal_<12 chars>`) of the orchestrator's organisation; absent or
    /// a string (`null` is refused).
    #[serde(
        rename = "orgPublicAlias",
        default,
        deserialize_with = "crate::zod::present",
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

/// Generates, from one row per message, the [`Message`] enum, its wire names, the
/// decode dispatch and the encoder, so that they cannot disagree.
macro_rules! messages {
    ($( $variant:ident($payload:ident) = $wire:literal; )*) => {
        /// One of the messages this family defines.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Message {
            $(
                #[doc = concat!("`", $wire, "`")]
                $variant($payload),
            )*
        }

        impl Message {
            /// Every message type this family defines, as on the wire.
            pub const TYPES: &'static [&'static str] = &[$($wire),*];

            /// The wire `type`.
            pub const fn message_type(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => $wire,)*
                }
            }
        }

        /// Decodes and validates the message of `message_type` from its parsed document.
        pub(crate) fn decode_node(message_type: &str, root: Node<'_>) -> Result<Message, DecodeError> {
            let message = match message_type {
                $($wire => Message::$variant(one(root)?),)*
                other => return Err(ShapeError::unknown_type(other).into()),
            };
            validate(&message)?;
            Ok(message)
        }

        /// Encodes a message.
        pub fn encode(message: &Message) -> Bytes {
            match message {
                $(Message::$variant(m) => tagged($wire, m),)*
            }
        }
    };
}

// The one list of this family's messages: variant(payload struct) = wire type.
messages! {
    Heartbeat(Heartbeat) = "heartbeat";
    Ack(Ack) = "ack";
    Nack(Nack) = "nack";
    Error(ErrorMessage) = "error";
    AuthRequest(AuthRequest) = "auth.request";
    AuthSuccess(AuthSuccess) = "auth.success";
    AuthFailure(AuthFailure) = "auth.failure";
}

/// Whether `message_type` is one this crate defines ([`Message::TYPES`]); others are the
/// application's messages, which sessions pass through.
pub fn is_defined(message_type: &str) -> bool {
    Message::TYPES.contains(&message_type)
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

fn chars(field: &'static str, value: &str, max: usize) -> Result<(), ShapeError> {
    check::chars(field, value, 0, max)
}

fn validate(message: &Message) -> Result<(), DecodeError> {
    match message {
        Message::Heartbeat(_) => {}
        Message::Ack(a) => chars("messageId", &a.message_id, MAX_ID_CHARS)?,
        Message::Nack(n) => {
            chars("messageId", &n.message_id, MAX_ID_CHARS)?;
            chars("reason", &n.reason, MAX_TEXT_CHARS)?;
        }
        Message::Error(e) => {
            chars("code", &e.code, MAX_ID_CHARS)?;
            chars("message", &e.message, MAX_TEXT_CHARS)?;
        }
        Message::AuthRequest(r) => {
            if r.token.is_empty() {
                return Err(DecodeError::EmptyToken);
            }
            check::entries("token", r.token.chars(), MAX_TOKEN_CHARS)?;
            if r.protocol_version == 0 {
                return Err(DecodeError::InvalidProtocolVersion);
            }
            let flags = r.capabilities.as_ref().map_or(0, |c| {
                c.extra.len() + c.dashboard_writes.as_ref().map_or(0, |w| w.len())
            });
            check::entries("capabilities", flags, MAX_CAPABILITIES)?;
        }
        Message::AuthSuccess(s) => {
            chars("connectionId", &s.connection_id, MAX_ID_CHARS)?;
            check::opt_chars(
                "orgPublicAlias",
                s.org_public_alias.as_deref(),
                MAX_ID_CHARS,
            )?;
        }
        Message::AuthFailure(f) => chars("reason", &f.reason, MAX_TEXT_CHARS)?,
    }
    Ok(())
}

/// A message with its `type` first.
#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "type")]
    message_type: &'static str,
    #[serde(flatten)]
    message: &'a T,
}

fn tagged<T: Serialize>(message_type: &'static str, message: &T) -> Bytes {
    Bytes::from(
        serde_json::to_vec(&Tagged {
            message_type,
            message,
        })
        .expect("messages serialize to JSON"),
    )
}
