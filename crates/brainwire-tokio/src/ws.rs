//! What both sides do with WebSocket messages: classify what arrives, send with a
//! deadline, close with a brainwire close frame.

use std::time::Duration;

use brainwire_close::CloseFrame;
use bytes::Bytes;
use futures_util::{Sink, SinkExt, Stream};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame as WsCloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// A WebSocket carrying tungstenite's messages, whoever upgraded it: a tokio-tungstenite
/// stream, or an axum socket through `AxumSocket` (feature `axum`). The drivers take any.
pub(crate) trait MessageSocket:
    Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin + Send + 'static
{
}

impl<T> MessageSocket for T where
    T: Stream<Item = Result<Message, WsError>>
        + Sink<Message, Error = WsError>
        + Unpin
        + Send
        + 'static
{
}

/// What a received WebSocket message means to a session.
pub(crate) enum Incoming {
    /// A frame's bytes (brains send binary or text: both count).
    Frame(Bytes),
    /// The peer closed, with a code or without one.
    Closed(Option<u16>),
    /// A control message the WebSocket layer answers itself.
    Ignore,
}

impl Incoming {
    pub(crate) fn of(message: Message) -> Self {
        match message {
            Message::Text(text) => Self::Frame(Bytes::from(text)),
            Message::Binary(data) => Self::Frame(data),
            Message::Close(frame) => Self::Closed(frame.map(|f| u16::from(f.code))),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Self::Ignore,
        }
    }
}

/// A brainwire close frame as tungstenite's.
pub(crate) fn close_message(frame: &CloseFrame) -> Message {
    Message::Close(Some(WsCloseFrame {
        code: WsCloseCode::from(frame.code()),
        reason: frame.reason().into(),
    }))
}

/// A frame as a text message (v2 frames are JSON text; the clone shares the buffer).
pub(crate) fn text(frame: Bytes) -> Message {
    match tokio_tungstenite::tungstenite::Utf8Bytes::try_from(frame.clone()) {
        Ok(text) => Message::Text(text),
        Err(_) => Message::Binary(frame),
    }
}

/// Sends `message`, giving up after `timeout`: a peer that stops reading must not hold a
/// connection (and its task) forever.
pub(crate) async fn send_within<S>(
    socket: &mut S,
    message: Message,
    timeout: Duration,
) -> Result<(), SendFailed>
where
    S: Sink<Message, Error = WsError> + Unpin,
{
    match tokio::time::timeout(timeout, socket.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(SendFailed::Socket(error)),
        Err(_) => Err(SendFailed::TimedOut),
    }
}

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendFailed {
    #[error("socket error")]
    Socket(#[source] WsError),
    #[error("write timed out")]
    TimedOut,
}

/// tungstenite's configuration for messages of at most `max_message_bytes`, with read and
/// write buffers of `buffer_bytes`.
pub(crate) fn config(max_message_bytes: usize, buffer_bytes: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(max_message_bytes))
        .max_frame_size(Some(max_message_bytes))
        .read_buffer_size(buffer_bytes)
        .write_buffer_size(buffer_bytes)
        .max_write_buffer_size(max_message_bytes.saturating_mul(2).max(buffer_bytes * 2))
}
