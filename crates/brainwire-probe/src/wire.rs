//! One probe connection to a brain: connect with a bearer token, send text or binary,
//! and see what comes back within a deadline (a frame, a close code, or silence). Every
//! step goes to a [`Transcript`] for the report.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// What the brain did next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// A message (text or binary), as text.
    Frame(String),
    /// It closed the connection, with this code (`None`: no close frame).
    Closed(Option<u16>),
    /// Nothing within the deadline.
    Silent,
    /// The WebSocket upgrade was refused with this HTTP status.
    Refused(u16),
    /// The connection failed.
    Failed(String),
}

impl Seen {
    /// How a report shows it.
    pub fn describe(&self) -> String {
        match self {
            Self::Frame(text) => {
                let kind = serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v["type"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| "?".to_owned());
                format!("frame {kind}")
            }
            Self::Closed(Some(code)) => format!("close {code}"),
            Self::Closed(None) => "closed without a code".to_owned(),
            Self::Silent => "nothing".to_owned(),
            Self::Refused(status) => format!("upgrade refused with HTTP {status}"),
            Self::Failed(error) => format!("connection failed: {error}"),
        }
    }
}

/// What the probe sent and saw, in order, across a check's connections.
#[derive(Debug, Clone, Default)]
pub struct Transcript(Arc<Mutex<Vec<String>>>);

/// Most bytes of one frame a transcript keeps (a 1 MiB frame is cut).
const TRANSCRIPT_FRAME_BYTES: usize = 2048;

impl Transcript {
    fn push(&self, line: String) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line);
    }

    /// A frame sent (`>`) or received (`<`), cut to its first 2 KiB.
    fn frame(&self, arrow: &str, text: &str) {
        let line = match text.char_indices().nth(TRANSCRIPT_FRAME_BYTES) {
            Some((cut, _)) if text.len() > TRANSCRIPT_FRAME_BYTES => {
                format!("{arrow} {}… ({} bytes)", &text[..cut], text.len())
            }
            _ => format!("{arrow} {text}"),
        };
        self.push(line);
    }

    /// The lines so far, leaving the transcript empty.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Most bytes of one message the probe reads from a brain.
const MAX_MESSAGE_BYTES: usize = 4 << 20;

/// A connection to the brain under test.
pub struct Connection {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// How long the brain has to answer each step.
    pub deadline: Duration,
    transcript: Transcript,
}

impl Connection {
    /// Connects to `url` with `bearer` as `Authorization: Bearer`, noting each step in
    /// `transcript`.
    pub async fn open(
        url: &str,
        bearer: &str,
        deadline: Duration,
        transcript: Transcript,
    ) -> Result<Self, Seen> {
        transcript.push(format!("connect {url}"));
        let opened = Self::connect(url, bearer, deadline).await;
        match &opened {
            Ok(_) => transcript.push("= connected".to_owned()),
            Err(seen) => transcript.push(format!("= {}", seen.describe())),
        }
        opened.map(|socket| Self {
            socket,
            deadline,
            transcript,
        })
    }

    async fn connect(
        url: &str,
        bearer: &str,
        deadline: Duration,
    ) -> Result<WebSocketStream<MaybeTlsStream<TcpStream>>, Seen> {
        let mut request = url
            .into_client_request()
            .map_err(|e| Seen::Failed(e.to_string()))?;
        let header = HeaderValue::from_str(&format!("Bearer {bearer}"))
            .map_err(|e| Seen::Failed(e.to_string()))?;
        request.headers_mut().insert("authorization", header);
        // A brain's frames fit in its advertised max_frame_size_bytes (1 MiB deployed);
        // past a few times that, the probe reports the connection failed rather than
        // buffering what the brain sends.
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE_BYTES))
            .max_frame_size(Some(MAX_MESSAGE_BYTES));
        let connect = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
        match tokio::time::timeout(deadline, connect).await {
            Ok(Ok((socket, _))) => Ok(socket),
            Ok(Err(WsError::Http(response))) => Err(Seen::Refused(response.status().as_u16())),
            Ok(Err(e)) => Err(Seen::Failed(e.to_string())),
            Err(_) => Err(Seen::Failed("connect timed out".to_owned())),
        }
    }

    /// Sends `text` as a text message.
    pub async fn send_text(&mut self, text: impl Into<String>) -> Result<(), Seen> {
        let text = text.into();
        self.transcript.frame(">", &text);
        self.send(Message::text(text)).await
    }

    /// Sends `text` as a binary message.
    pub async fn send_binary(&mut self, text: String) -> Result<(), Seen> {
        self.transcript.frame("> (binary)", &text);
        self.send(Message::Binary(text.into_bytes().into())).await
    }

    async fn send(&mut self, message: Message) -> Result<(), Seen> {
        match tokio::time::timeout(self.deadline, self.socket.send(message)).await {
            Ok(Ok(())) => Ok(()),
            // The brain may have closed already: what it sent says why.
            Ok(Err(_)) => Err(self.next(self.deadline).await),
            Err(_) => Err(Seen::Failed("write timed out".to_owned())),
        }
    }

    /// The next thing the brain does within `deadline` (pings are skipped).
    pub async fn next(&mut self, deadline: Duration) -> Seen {
        let seen = self.next_unrecorded(deadline).await;
        match &seen {
            Seen::Frame(text) => self.transcript.frame("<", text),
            other => self.transcript.push(format!("= {}", other.describe())),
        }
        seen
    }

    async fn next_unrecorded(&mut self, deadline: Duration) -> Seen {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            match tokio::time::timeout_at(until, self.socket.next()).await {
                Err(_) => return Seen::Silent,
                Ok(None) => return Seen::Closed(None),
                Ok(Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed))) => {
                    return Seen::Closed(None)
                }
                Ok(Some(Err(e))) => return Seen::Failed(e.to_string()),
                Ok(Some(Ok(message))) => match message {
                    Message::Text(text) => return Seen::Frame(text.to_string()),
                    Message::Binary(data) => {
                        return Seen::Frame(String::from_utf8_lossy(&data).into_owned())
                    }
                    Message::Close(frame) => return Seen::Closed(frame.map(|f| u16::from(f.code))),
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                },
            }
        }
    }

    /// The next frame that is not of one of the `skipped` types (heartbeat answers,
    /// commands), or whatever else the brain does.
    ///
    /// One deadline covers them all: a brain sending skipped frames without end cannot
    /// hold the probe.
    pub async fn next_frame_except(&mut self, skipped: &[&str]) -> Seen {
        let until = tokio::time::Instant::now() + self.deadline;
        loop {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            let seen = self.next(left).await;
            if let Seen::Frame(text) = &seen {
                let kind = serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v["type"].as_str().map(str::to_owned));
                if kind.is_some_and(|k| skipped.contains(&k.as_str())) {
                    continue;
                }
            }
            return seen;
        }
    }
}
