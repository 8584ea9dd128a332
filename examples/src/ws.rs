//! What the programs share about WebSocket messages.

use brainwire_close::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame as WsCloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// What a received message means to a session.
pub(crate) enum Incoming {
    /// A frame's bytes (the real brain sends binary, peers may send text: both count).
    Frame(bytes::Bytes),
    /// The peer closed, with a code or without one.
    Closed(Option<u16>),
    /// A control message the WebSocket layer answers itself.
    Ignore,
}

fn classify(message: Message) -> Incoming {
    match message {
        Message::Text(text) => Incoming::Frame(bytes::Bytes::from(text)),
        Message::Binary(data) => Incoming::Frame(data),
        Message::Close(frame) => Incoming::Closed(frame.map(|f| u16::from(f.code))),
        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Incoming::Ignore,
    }
}

/// What the next item of a WebSocket stream means: a message, a failure, or the end.
pub(crate) fn next_incoming(
    next: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
) -> Option<Result<Incoming, tokio_tungstenite::tungstenite::Error>> {
    match next? {
        Ok(message) => Some(Ok(classify(message))),
        Err(e) => Some(Err(e)),
    }
}

/// A brainwire close frame as tungstenite's.
pub(crate) fn close_message(frame: &CloseFrame) -> Message {
    Message::Close(Some(WsCloseFrame {
        code: WsCloseCode::from(frame.code()),
        reason: frame.reason().into(),
    }))
}
