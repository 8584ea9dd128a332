//! The platform of document 002: orchestrators connect up to it, authenticate with
//! `auth.request` (answered `auth.success` or `auth.failure` and a close), exchange
//! heartbeats, and have each application message acknowledged (`ack`) or refused
//! (`nack`). Each connection runs a sans-IO [`brainwire_auth::Server`] through
//! [`link::drive`].

use std::sync::Arc;

use brainwire_auth::{Event, SessionConfig, Token};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::link::{self, LinkRequest};

/// The path orchestrators connect to.
pub const PLATFORM_PATH: &str = "/ws/orchestrator";
/// The application message types this platform handles; it refuses (`nack`) the others.
pub const HANDLED_TYPES: [&str; 3] = ["job.progress", "job.completed", "webhook.received"];
/// Most connections served at once.
const MAX_CONNECTIONS: usize = 1_000;

/// What the platform program is told on its command line.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PlatformOptions {
    /// The token orchestrators authenticate with.
    pub token: Token,
    /// Heartbeats, liveness, handshake deadline, limits.
    pub session: SessionConfig,
}

impl PlatformOptions {
    /// Options accepting `token`, with document 002's defaults.
    pub fn new(token: Token) -> Self {
        Self {
            token,
            session: SessionConfig::default(),
        }
    }
}

/// Serves orchestrators on `listener` until the process ends, writing what happens to
/// `lines`.
pub async fn serve(listener: TcpListener, options: PlatformOptions, lines: mpsc::Sender<String>) {
    let options = Arc::new(options);
    let never = brainwire_tokio::serve(listener, MAX_CONNECTIONS, move |stream, _peer| {
        let (options, lines) = (Arc::clone(&options), lines.clone());
        async move { connection(stream, &options, &lines).await }
    })
    .await;
    match never {}
}

/// One orchestrator connection, from the upgrade to its end.
async fn connection(stream: TcpStream, options: &PlatformOptions, lines: &mpsc::Sender<String>) {
    let token = options.token.clone();
    let session = options.session.clone();
    let accepted = link::accept_server(stream, PLATFORM_PATH, token, "unknown token", session);
    let Some((socket, server)) = accepted.await else {
        return;
    };
    let (requests, requests_rx) = mpsc::channel(64);
    let (events_tx, mut events) = mpsc::channel(64);
    let driver = tokio::spawn(link::drive(server, socket, requests_rx, events_tx));
    let mut connection_id = String::from("-");
    while let Some(event) = events.recv().await {
        let line = match event {
            Event::Accepted {
                connection_id: id,
                request,
            } => {
                connection_id = id;
                let capabilities = request
                    .capabilities
                    .as_ref()
                    .and_then(|c| serde_json::to_string(c).ok())
                    .unwrap_or_else(|| "none".into());
                format!("orchestrator {connection_id} authenticated, capabilities {capabilities}")
            }
            Event::Message {
                message_type,
                bytes,
            } => {
                let Some(message_id) = link::message_id(&bytes) else {
                    let _ = lines
                        .send(format!(
                            "message {message_type} without a messageId, ignored"
                        ))
                        .await;
                    continue;
                };
                let request = if HANDLED_TYPES.contains(&message_type.as_str()) {
                    LinkRequest::Ack(message_id.clone())
                } else {
                    LinkRequest::Nack {
                        message_id: message_id.clone(),
                        reason: format!("unhandled message type {message_type}"),
                    }
                };
                let verdict = match request {
                    LinkRequest::Ack(_) => "acked",
                    _ => "nacked",
                };
                if requests.send(request).await.is_err() {
                    break;
                }
                format!("message {message_type} {message_id} {verdict}")
            }
            Event::PeerError(error) => {
                format!("orchestrator error {}: {}", error.code, error.message)
            }
            _ => continue,
        };
        if lines.send(line).await.is_err() {
            break;
        }
    }
    drop(requests);
    if let Ok(end) = driver.await {
        let code = end.code.map_or("none".to_owned(), |c| c.to_string());
        let line = format!("connection {connection_id} closed ({code}) {}", end.reason);
        let _ = lines.send(line).await;
    }
}
