//! Subscription messages, events on the wire, and their codec.

use brainwire_close::{NamesCloseCode, StandardCode};
use brainwire_core::check::one;
use brainwire_core::{decode_by_type, Limits, Node, ShapeError};
use bytes::Bytes;
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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// What every family refuses: not JSON, not an object, no `type`, a client message
    /// type other than `subscribe` and `unsubscribe`, a schema mismatch.
    #[error(transparent)]
    Shape(ShapeError),
    /// A `channelId` that is not a valid channel id.
    #[error("invalid channelId")]
    InvalidChannel(#[source] ChannelIdError),
}

impl DecodeError {
    /// A stable snake_case name for tools and logs; a schema mismatch is
    /// `invalid_message`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Shape(ShapeError::Schema(_)) => "invalid_message",
            Self::Shape(e) => e.kind(),
            Self::InvalidChannel(e) => e.kind(),
        }
    }
}

impl NamesCloseCode for DecodeError {
    type Code = StandardCode;

    fn close_code(&self) -> StandardCode {
        match self {
            Self::Shape(e) if e.is_too_large() => StandardCode::MessageTooBig,
            _ => StandardCode::ProtocolError,
        }
    }
}

impl From<ShapeError> for DecodeError {
    fn from(error: ShapeError) -> Self {
        Self::Shape(error)
    }
}

#[derive(Deserialize)]
struct ChannelWire {
    #[serde(rename = "channelId")]
    channel_id: String,
}

fn channel(root: Node<'_>) -> Result<ChannelId, DecodeError> {
    let text = one::<ChannelWire>(root)?.channel_id;
    text.parse().map_err(DecodeError::InvalidChannel)
}

/// Decodes a message a client sent, under the default [`Limits`].
///
/// # Errors
///
/// [`DecodeError`], each naming its close code.
pub fn decode_client(wire: &[u8]) -> Result<ClientMessage, DecodeError> {
    decode_client_with(wire, &Limits::default())
}

/// [`decode_client`] under `limits`.
///
/// # Errors
///
/// As [`decode_client`].
pub fn decode_client_with(wire: &[u8], limits: &Limits) -> Result<ClientMessage, DecodeError> {
    decode_by_type(wire, limits, |message_type, root| match message_type {
        "subscribe" => Ok(ClientMessage::Subscribe(channel(root)?)),
        "unsubscribe" => Ok(ClientMessage::Unsubscribe(channel(root)?)),
        other => Err(ShapeError::unknown_type(other).into()),
    })
}

/// Decodes a message a server sent, under the default [`Limits`]. Unknown types are
/// events, kept.
///
/// # Errors
///
/// [`DecodeError`], each naming its close code.
pub fn decode_server(wire: &[u8]) -> Result<ServerMessage, DecodeError> {
    decode_server_with(wire, &Limits::default())
}

/// [`decode_server`] under `limits`.
///
/// # Errors
///
/// As [`decode_server`].
pub fn decode_server_with(wire: &[u8], limits: &Limits) -> Result<ServerMessage, DecodeError> {
    decode_by_type(wire, limits, |message_type, root| match message_type {
        "subscribed" => Ok(ServerMessage::Subscribed(channel(root)?)),
        "unsubscribed" => Ok(ServerMessage::Unsubscribed(channel(root)?)),
        "error" => Ok(ServerMessage::Error(one(root)?)),
        event_type => Ok(ServerMessage::Event(Event::decode(event_type, root)?)),
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
