//! Subscription messages, events on the wire, and their codec.

use brainwire_close::{NamesCloseCode, StandardCode};
use brainwire_core::{decode_by_type, JsonError, Limits, Node, NodeError};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{ChannelId, ChannelIdError, Event};

/// A message a client sends.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientMessage {
    /// `{"type":"subscribe","channelId":...}`
    Subscribe(ChannelId),
    /// `{"type":"unsubscribe","channelId":...}`
    Unsubscribe(ChannelId),
}

/// An error the server answers a refused or malformed request with:
/// `{"type":"error","code":...,"message":...,"channelId":...}`. Document 004 gives no shape
/// for it; this one follows its other messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorReply {
    /// `forbidden`, `too_many_subscriptions`, `bad_request`, `not_subscribed`.
    pub code: String,
    /// Why, for people.
    pub message: String,
    /// The channel the request named, when it named a valid one.
    #[serde(rename = "channelId", default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<ChannelId>,
}

impl ErrorReply {
    /// An error reply.
    pub fn new(
        code: impl Into<String>,
        message: impl Into<String>,
        channel_id: Option<ChannelId>,
    ) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            channel_id,
        }
    }
}

/// A message a server sends.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ServerMessage {
    /// `{"type":"subscribed","channelId":...}`
    Subscribed(ChannelId),
    /// `{"type":"unsubscribed","channelId":...}`
    Unsubscribed(ChannelId),
    /// `{"type":"error",...}`
    Error(ErrorReply),
    /// `{"type":<event type>,"payload":...}`
    Event(Event),
}

/// Why a channel message was refused. Document 004 names no close codes: 1002
/// (protocol error), or 1009 past the size limit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not JSON brainwire accepts, or over the limits.
    #[error("message is not acceptable JSON")]
    Json(#[source] JsonError),
    /// JSON, but not an object.
    #[error("message is not a JSON object")]
    NotObject,
    /// No string `type`.
    #[error("message has no type")]
    MissingType,
    /// A client message type other than `subscribe` and `unsubscribe`.
    #[error("unknown client message type {found:?}")]
    UnknownType {
        /// The type sent (cut to 64 characters).
        found: String,
    },
    /// A `channelId` that is not a valid channel id.
    #[error("invalid channelId")]
    InvalidChannel(#[source] ChannelIdError),
    /// A field has the wrong JSON type, or is missing.
    #[error("message does not match its schema")]
    Schema(#[source] brainwire_core::NodeError),
}

impl DecodeError {
    /// A stable snake_case name for tools and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Json(e) => e.kind(),
            Self::NotObject => "not_object",
            Self::MissingType => "missing_type",
            Self::UnknownType { .. } => "unknown_type",
            Self::InvalidChannel(e) => e.kind(),
            Self::Schema(_) => "invalid_message",
        }
    }
}

impl NamesCloseCode for DecodeError {
    type Code = StandardCode;

    fn close_code(&self) -> StandardCode {
        match self {
            Self::Json(JsonError::TooLarge { .. }) => StandardCode::MessageTooBig,
            _ => StandardCode::ProtocolError,
        }
    }
}

/// Reads one struct from the parsed message.
pub(crate) fn one<T: DeserializeOwned>(root: Node<'_>) -> Result<T, NodeError> {
    root.decode()
}

#[derive(Deserialize)]
struct ChannelWire {
    #[serde(rename = "channelId")]
    channel_id: String,
}

fn channel(root: Node<'_>) -> Result<ChannelId, DecodeError> {
    let text = one::<ChannelWire>(root)
        .map_err(DecodeError::Schema)?
        .channel_id;
    text.parse().map_err(DecodeError::InvalidChannel)
}

/// Decodes a message a client sent, under `limits`.
///
/// # Errors
///
/// [`DecodeError`], each naming its close code.
pub fn decode_client(wire: &[u8], limits: &Limits) -> Result<ClientMessage, DecodeError> {
    decode_by_type(wire, limits, |message_type, root| match message_type {
        "subscribe" => Ok(ClientMessage::Subscribe(channel(root)?)),
        "unsubscribe" => Ok(ClientMessage::Unsubscribe(channel(root)?)),
        other => Err(DecodeError::UnknownType {
            found: other.chars().take(64).collect(),
        }),
    })
}

/// Decodes a message a server sent, under `limits`. Unknown types are events, kept.
///
/// # Errors
///
/// [`DecodeError`], each naming its close code.
pub fn decode_server(wire: &[u8], limits: &Limits) -> Result<ServerMessage, DecodeError> {
    decode_by_type(wire, limits, |message_type, root| match message_type {
        "subscribed" => Ok(ServerMessage::Subscribed(channel(root)?)),
        "unsubscribed" => Ok(ServerMessage::Unsubscribed(channel(root)?)),
        "error" => Ok(ServerMessage::Error(
            one(root).map_err(DecodeError::Schema)?,
        )),
        event_type => Event::decode(event_type, root)
            .map(ServerMessage::Event)
            .map_err(DecodeError::Schema),
    })
}

#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "type")]
    message_type: &'a str,
    #[serde(flatten)]
    body: T,
}

#[derive(Serialize)]
struct ChannelOut<'a> {
    #[serde(rename = "channelId")]
    channel_id: &'a ChannelId,
}

pub(crate) fn tagged<T: Serialize>(message_type: &str, body: T) -> Bytes {
    Bytes::from(
        serde_json::to_vec(&Tagged { message_type, body }).expect("messages serialize to JSON"),
    )
}

/// Encodes a client message.
pub fn encode_client(message: &ClientMessage) -> Bytes {
    match message {
        ClientMessage::Subscribe(c) => tagged("subscribe", ChannelOut { channel_id: c }),
        ClientMessage::Unsubscribe(c) => tagged("unsubscribe", ChannelOut { channel_id: c }),
    }
}

/// Encodes a server message.
pub fn encode_server(message: &ServerMessage) -> Bytes {
    match message {
        ServerMessage::Subscribed(c) => tagged("subscribed", ChannelOut { channel_id: c }),
        ServerMessage::Unsubscribed(c) => tagged("unsubscribed", ChannelOut { channel_id: c }),
        ServerMessage::Error(e) => tagged("error", e),
        ServerMessage::Event(event) => encode_event(event),
    }
}

/// Encodes an event as `{"type", "payload"}`.
pub fn encode_event(event: &Event) -> Bytes {
    event.encode()
}

impl From<brainwire_core::ShapeError> for DecodeError {
    fn from(error: brainwire_core::ShapeError) -> Self {
        match error {
            brainwire_core::ShapeError::Json(e) => Self::Json(e),
            brainwire_core::ShapeError::NotObject => Self::NotObject,
            _ => Self::MissingType,
        }
    }
}
