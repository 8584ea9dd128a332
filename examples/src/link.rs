//! One document 002 connection driven over a WebSocket, for either side: the sans-IO
//! [`Client`] or [`Server`] of `brainwire-auth` does the protocol (handshake, heartbeats,
//! liveness, the ack tracker); this loop feeds it what arrives, sends what it queues,
//! carries out the program's requests and hands its events over a bounded channel.

use std::time::{Duration, Instant};

use brainwire_auth::{Client, Event, Server};
use brainwire_close::{CloseFrame, StandardCode};
use bytes::Bytes;
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode as WsCloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame as WsCloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// The largest message either side takes: `brainwire_auth`'s default limit (1 MiB).
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// How long one write may wait for the peer to read.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// tungstenite's limits for these connections.
pub fn websocket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES))
}

/// What the program asks of a connection.
#[derive(Debug)]
pub enum LinkRequest {
    /// Send an application message, tracked until its `ack` / `nack` when it has an id.
    Send {
        /// Its `messageId`, if it is to be tracked.
        message_id: Option<String>,
        /// Its bytes.
        bytes: Bytes,
    },
    /// Acknowledge a received message.
    Ack(String),
    /// Refuse a received message.
    Nack {
        /// Its `messageId`.
        message_id: String,
        /// Why.
        reason: String,
    },
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkEnd {
    /// The close code sent or received (`None`: the connection was lost).
    pub code: Option<u16>,
    /// Why, as the session or the peer said.
    pub reason: String,
}

/// The sans-IO session of either side, as the loop drives it.
pub trait LinkSession {
    /// Feeds a received message.
    fn handle_message(&mut self, now: Instant, bytes: &[u8]);
    /// Runs due timers.
    fn handle_timeout(&mut self, now: Instant);
    /// When timers are next due.
    fn poll_timeout(&self) -> Option<Instant>;
    /// The next message to send.
    fn poll_transmit(&mut self) -> Option<Bytes>;
    /// The next event.
    fn poll_event(&mut self) -> Option<Event>;
    /// The close the session decided on, with its reason.
    fn poll_close(&mut self) -> Option<(CloseFrame, String)>;
    /// Carries out a request; gives the reason it was refused.
    fn request(&mut self, now: Instant, request: LinkRequest) -> Result<(), String>;
}

macro_rules! link_session {
    ($session:ty) => {
        impl LinkSession for $session {
            fn handle_message(&mut self, now: Instant, bytes: &[u8]) {
                <$session>::handle_message(self, now, bytes)
            }
            fn handle_timeout(&mut self, now: Instant) {
                <$session>::handle_timeout(self, now)
            }
            fn poll_timeout(&self) -> Option<Instant> {
                <$session>::poll_timeout(self)
            }
            fn poll_transmit(&mut self) -> Option<Bytes> {
                <$session>::poll_transmit(self)
            }
            fn poll_event(&mut self) -> Option<Event> {
                <$session>::poll_event(self)
            }
            fn poll_close(&mut self) -> Option<(CloseFrame, String)> {
                <$session>::poll_close(self).map(|c| (c.frame, c.error.to_string()))
            }
            fn request(&mut self, now: Instant, request: LinkRequest) -> Result<(), String> {
                let result = match request {
                    LinkRequest::Send { message_id, bytes } => {
                        self.send(now, message_id.as_deref(), bytes)
                    }
                    LinkRequest::Ack(id) => self.ack(&id),
                    LinkRequest::Nack { message_id, reason } => self.nack(&message_id, &reason),
                };
                result.map_err(|e| e.to_string())
            }
        }
    };
}

link_session!(Client);
link_session!(Server);

/// Drives `session` over `socket` until the connection ends: events go to `events` (the
/// loop waits while the program is behind: nothing is dropped, nothing grows without
/// bound), requests come from `requests`; dropping the request sender closes with 1001.
pub async fn drive<S, W>(
    mut session: S,
    mut socket: W,
    mut requests: mpsc::Receiver<LinkRequest>,
    events: mpsc::Sender<Event>,
) -> LinkEnd
where
    S: LinkSession,
    W: Stream<Item = Result<Message, WsError>> + Sink<Message, Error = WsError> + Unpin,
{
    loop {
        while let Some(bytes) = session.poll_transmit() {
            let Ok(text) = String::from_utf8(bytes.to_vec()) else {
                continue;
            };
            if send(&mut socket, Message::text(text)).await.is_err() {
                return lost("the peer stopped reading");
            }
        }
        while let Some(event) = session.poll_event() {
            if events.send(event).await.is_err() {
                let gone = CloseFrame::new(StandardCode::GoingAway, "shutting down");
                return close(&mut socket, gone, "the program went away").await;
            }
        }
        if let Some((frame, reason)) = session.poll_close() {
            return close(&mut socket, frame, &reason).await;
        }
        let wake = session
            .poll_timeout()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            message = socket.next() => match message {
                Some(Ok(Message::Text(text))) => session.handle_message(Instant::now(), text.as_bytes()),
                Some(Ok(Message::Binary(data))) => session.handle_message(Instant::now(), &data),
                Some(Ok(Message::Close(frame))) => {
                    return LinkEnd {
                        code: frame.as_ref().map(|f| u16::from(f.code)),
                        reason: frame.map_or_else(String::new, |f| f.reason.to_string()),
                    };
                }
                Some(Ok(_)) => {}
                Some(Err(WsError::Capacity(_))) => {
                    let too_big = CloseFrame::new(StandardCode::MessageTooBig, "message too big");
                    return close(&mut socket, too_big, "message too big").await;
                }
                Some(Err(e)) => return lost(&e.to_string()),
                None => return lost("the connection ended"),
            },
            () = tokio::time::sleep_until(wake.into()) => session.handle_timeout(Instant::now()),
            request = requests.recv() => match request {
                // A refused request (not authenticated yet, too many tracked) is the
                // program's to notice from the events it gets; the connection goes on.
                Some(request) => { let _ = session.request(Instant::now(), request); }
                None => {
                    let gone = CloseFrame::new(StandardCode::GoingAway, "shutting down");
                    return close(&mut socket, gone, "shutting down").await;
                }
            },
        }
    }
}

fn lost(reason: &str) -> LinkEnd {
    LinkEnd {
        code: None,
        reason: reason.to_owned(),
    }
}

async fn send<W>(socket: &mut W, message: Message) -> Result<(), ()>
where
    W: Sink<Message, Error = WsError> + Unpin,
{
    match tokio::time::timeout(WRITE_TIMEOUT, socket.send(message)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

async fn close<W>(socket: &mut W, frame: CloseFrame, reason: &str) -> LinkEnd
where
    W: Sink<Message, Error = WsError> + Unpin,
{
    let message = Message::Close(Some(WsCloseFrame {
        code: WsCloseCode::from(frame.code()),
        reason: frame.reason().into(),
    }));
    let _ = send(socket, message).await;
    LinkEnd {
        code: Some(frame.code()),
        reason: reason.to_owned(),
    }
}

/// How long a connecting party may take to upgrade to a WebSocket.
pub const UPGRADE_TIMEOUT: Duration = Duration::from_secs(10);

/// The server's side of one accepted TCP connection: the WebSocket upgrade at `path`
/// (404 elsewhere) within [`UPGRADE_TIMEOUT`], and a [`Server`] session accepting only
/// `token` (compared in constant time: `Token`'s equality), refusing others with
/// `refusal` in `auth.failure`. `None` when the upgrade failed.
pub async fn accept_server(
    stream: tokio::net::TcpStream,
    path: &'static str,
    token: brainwire_auth::Token,
    refusal: &'static str,
    config: brainwire_auth::SessionConfig,
) -> Option<(
    tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    Server,
)> {
    use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
    // tungstenite's callback signature, large error included.
    #[allow(clippy::result_large_err)]
    let check_path = |request: &Request, response: Response| -> Result<Response, ErrorResponse> {
        if request.uri().path() == path {
            Ok(response)
        } else {
            let mut refused = ErrorResponse::new(Some("no such endpoint".into()));
            *refused.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::NOT_FOUND;
            Err(refused)
        }
    };
    let upgrade = tokio_tungstenite::accept_hdr_async_with_config(
        stream,
        check_path,
        Some(websocket_config()),
    );
    let Ok(Ok(socket)) = tokio::time::timeout(UPGRADE_TIMEOUT, upgrade).await else {
        return None;
    };
    let verifier = move |request: &brainwire_auth::AuthRequest| {
        if request.token == token {
            Ok(brainwire_auth::Grant::new())
        } else {
            Err(refusal.to_owned())
        }
    };
    let ids = Box::new(|| uuid::Uuid::new_v4().to_string());
    let server = Server::accept(Instant::now(), std::sync::Arc::new(verifier), ids, config);
    Some((socket, server))
}

/// The `messageId` of an application message, if it has one (document 002's `ack` and
/// `nack` name it).
pub fn message_id(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Id {
        #[serde(rename = "messageId")]
        message_id: String,
    }
    serde_json::from_slice::<Id>(bytes)
        .ok()
        .map(|id| id.message_id)
        .filter(|id| !id.is_empty() && id.chars().count() <= brainwire_auth::MAX_ID_CHARS)
}
