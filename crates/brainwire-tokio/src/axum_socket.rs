//! axum's WebSocket seen as tungstenite's messages, so the connection drivers serve axum
//! routes and raw tokio-tungstenite streams with the same code. axum wraps the same
//! tungstenite (0.29), so the conversions move buffers; only text is checked for UTF-8
//! again, as on every text message sent.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::ws::{self, WebSocket};
use bytes::Bytes;
use futures_util::{Sink, Stream};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

/// An axum [`WebSocket`] as a stream and sink of tungstenite [`Message`]s.
pub(crate) struct AxumSocket(pub(crate) WebSocket);

/// axum's error as the tungstenite error inside it (a message over the size limit stays
/// `Capacity`, which the drivers answer with 1009).
fn from_axum_error(error: axum::Error) -> WsError {
    match error.into_inner().downcast::<WsError>() {
        Ok(error) => *error,
        Err(other) => WsError::Io(std::io::Error::other(other)),
    }
}

fn from_axum(message: ws::Message) -> Message {
    match message {
        ws::Message::Text(text) => crate::ws::text(Bytes::from(text)),
        ws::Message::Binary(data) => Message::Binary(data),
        ws::Message::Ping(data) => Message::Ping(data),
        ws::Message::Pong(data) => Message::Pong(data),
        ws::Message::Close(frame) => Message::Close(frame.map(|frame| CloseFrame {
            code: CloseCode::from(frame.code),
            reason: Utf8Bytes::from(frame.reason.as_str()),
        })),
    }
}

fn to_axum(message: Message) -> ws::Message {
    match message {
        Message::Text(text) => {
            // Always UTF-8 (tungstenite checked it); binary is the fallback a type needs.
            let bytes = Bytes::from(text);
            ws::Utf8Bytes::try_from(bytes.clone())
                .map_or(ws::Message::Binary(bytes), ws::Message::Text)
        }
        Message::Binary(data) => ws::Message::Binary(data),
        Message::Ping(data) => ws::Message::Ping(data),
        Message::Pong(data) => ws::Message::Pong(data),
        Message::Close(frame) => ws::Message::Close(frame.map(|frame| ws::CloseFrame {
            code: u16::from(frame.code),
            reason: ws::Utf8Bytes::from(frame.reason.as_str()),
        })),
        // Raw frames are only for tungstenite's own use; the drivers never send them.
        Message::Frame(frame) => ws::Message::Binary(Bytes::copy_from_slice(frame.payload())),
    }
}

impl Stream for AxumSocket {
    type Item = Result<Message, WsError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.0)
            .poll_next(cx)
            .map(|next| next.map(|item| item.map(from_axum).map_err(from_axum_error)))
    }
}

impl Sink<Message> for AxumSocket {
    type Error = WsError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Pin::new(&mut self.0)
            .poll_ready(cx)
            .map_err(from_axum_error)
    }

    fn start_send(mut self: Pin<&mut Self>, message: Message) -> Result<(), WsError> {
        Pin::new(&mut self.0)
            .start_send(to_axum(message))
            .map_err(from_axum_error)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Pin::new(&mut self.0)
            .poll_flush(cx)
            .map_err(from_axum_error)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        Pin::new(&mut self.0)
            .poll_close(cx)
            .map_err(from_axum_error)
    }
}

/// axum's upgrade with the limits [`config`](crate::ws::config) gives tungstenite
/// streams: messages of at most `max_message_bytes`, buffers of `buffer_bytes`.
pub(crate) fn limits(
    upgrade: axum::extract::WebSocketUpgrade,
    max_message_bytes: usize,
    buffer_bytes: usize,
) -> axum::extract::WebSocketUpgrade {
    let config = crate::ws::config(max_message_bytes, buffer_bytes);
    upgrade
        .max_message_size(max_message_bytes)
        .max_frame_size(max_message_bytes)
        .read_buffer_size(config.read_buffer_size)
        .write_buffer_size(config.write_buffer_size)
        .max_write_buffer_size(config.max_write_buffer_size)
}

/// An upgrade as route handlers extract it, refusals included.
pub(crate) type Upgrade =
    Result<axum::extract::WebSocketUpgrade, ws::rejection::WebSocketUpgradeRejection>;

/// The upgrade, or the answer to a request that is not one: 426 with `Upgrade:
/// websocket` for a plain request (RFC 9110 §15.5.22: it says what to upgrade to),
/// axum's own answer for the rest (405 for a method other than GET, 400 for a
/// malformed upgrade).
// Both sides are as large as axum makes them, and the result is matched at once.
#[allow(clippy::result_large_err)]
pub(crate) fn upgrade_or_answer(
    upgrade: Upgrade,
) -> Result<axum::extract::WebSocketUpgrade, axum::response::Response> {
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    use ws::rejection::WebSocketUpgradeRejection as Rejection;
    match upgrade {
        Ok(upgrade) => Ok(upgrade),
        Err(Rejection::InvalidConnectionHeader(_) | Rejection::InvalidUpgradeHeader(_)) => Err((
            StatusCode::UPGRADE_REQUIRED,
            [
                (header::UPGRADE, "websocket"),
                (header::CONNECTION, "Upgrade"),
            ],
        )
            .into_response()),
        Err(other) => Err(other.into_response()),
    }
}
