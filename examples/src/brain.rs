//! The brain program: a WebSocket server whose agent connections each run a
//! [`BrainSession`].

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use brainwire_core::Timestamp;
use brainwire_sign::{Keyring, Secret};
use brainwire_v2::{
    AgentAuthority, AgentGrant, BrainConfig, BrainEvent, BrainSession, Command, JsonObject, Sources,
};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::Message;

use crate::transcript::{Side, Transcript};
use crate::ws::{close_message, next_incoming, Incoming};

/// The path of the agent endpoint, as on the deployed brain.
pub const AGENT_PATH: &str = "/ws/agent";

/// What the brain program is told on its command line.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BrainOptions {
    /// The one agent token this brain accepts.
    pub agent_token: String,
    /// The project secret agents sign with.
    pub secret: Secret,
    /// The agent's id, bound into every MAC.
    pub agent_id: String,
    /// The project's id, bound into every MAC.
    pub project_id: String,
    /// Whether to send the agent one `cancel_task` after its first `event_batch`.
    pub send_command: bool,
    /// Heartbeat cadence asked of agents.
    pub heartbeat_interval: Duration,
    /// Counters the brain keeps, for whoever started it.
    pub stats: Arc<BrainStats>,
}

/// What the brain counted.
#[derive(Debug, Default)]
pub struct BrainStats {
    /// Events stored (each batch id once).
    pub stored_events: AtomicUsize,
    /// Events received again in a re-sent batch, acknowledged but not stored.
    pub duplicate_events: AtomicUsize,
    /// Command results received.
    pub command_results: AtomicUsize,
    /// Handshakes completed.
    pub sessions: AtomicUsize,
    /// Signed heartbeats verified.
    pub heartbeats: AtomicUsize,
    /// Signed `agent_status` reports verified.
    pub agent_statuses: AtomicUsize,
}

impl BrainOptions {
    /// Options accepting `agent_token` with `secret`, sending the demo command.
    pub fn new(agent_token: impl Into<String>, secret: Secret) -> Self {
        Self {
            agent_token: agent_token.into(),
            secret,
            agent_id: uuid::Uuid::new_v4().to_string(),
            project_id: uuid::Uuid::new_v4().to_string(),
            send_command: true,
            heartbeat_interval: Duration::from_secs(10),
            stats: Arc::default(),
        }
    }
}

/// What every connection of the brain shares.
struct Shared {
    options: BrainOptions,
    transcript: Transcript,
    /// Batch ids already stored: an agent re-sends unacknowledged batches after a
    /// reconnect with the same ids, so these are acknowledged again but not stored twice.
    stored_batches: Mutex<HashSet<String>>,
    /// Whether the agent acknowledged the one demo command. Until it does, each new
    /// session sends it again: a command in flight on a lost connection is not lost.
    command_acked: Mutex<bool>,
}

impl AgentAuthority for Shared {
    fn authorize(&self, bearer: &str) -> Option<AgentGrant> {
        (bearer == self.options.agent_token).then(|| AgentGrant {
            agent_id: self.options.agent_id.clone(),
            project_id: self.options.project_id.clone(),
            keys: Keyring::new(self.options.secret.clone()),
        })
    }
}

/// Serves the agent endpoint on `listener` until the process ends.
///
/// # Errors
///
/// When accepting connections fails.
pub async fn serve(
    listener: TcpListener,
    options: BrainOptions,
    transcript: Transcript,
) -> anyhow::Result<()> {
    let shared = Arc::new(Shared {
        options,
        transcript,
        stored_batches: Mutex::new(HashSet::new()),
        command_acked: Mutex::new(false),
    });
    loop {
        let (stream, peer) = listener.accept().await?;
        let shared = shared.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(stream, &shared).await {
                shared
                    .transcript
                    .note(Side::Brain, format!("connection from {peer} ended: {e}"))
                    .await;
            }
        });
    }
}

/// The `Authorization: Bearer` token of an upgrade request on the agent path.
// The callback's signature is tungstenite's, large error type included.
#[allow(clippy::result_large_err)]
fn upgrade(
    request: &Request,
    response: Response,
    bearer: &mut Option<String>,
) -> Result<Response, ErrorResponse> {
    if request.uri().path() != AGENT_PATH {
        let mut not_found = ErrorResponse::new(Some("no such endpoint".into()));
        *not_found.status_mut() = StatusCode::NOT_FOUND;
        return Err(not_found);
    }
    *bearer = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    Ok(response)
}

async fn connection(stream: TcpStream, shared: &Arc<Shared>) -> anyhow::Result<()> {
    // Whether this session sent the demo command already.
    let mut command_sent = false;
    let mut bearer = None;
    // The callback's signature is tungstenite's, large error type included.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, resp| upgrade(req, resp, &mut bearer);
    let mut socket = tokio_tungstenite::accept_hdr_async(stream, callback).await?;
    let mut config = BrainConfig::new("brainwire-example-brain/0.1");
    config.heartbeat_interval = shared.options.heartbeat_interval;
    config.idle_timeout = shared.options.heartbeat_interval * 3;
    let session_id = uuid::Uuid::new_v4().to_string();
    let sources = Sources::system(format!("brain-{}", &session_id[..8]));
    let mut session = BrainSession::accept(
        Instant::now(),
        bearer.as_deref(),
        &**shared,
        session_id,
        config,
        sources,
    );
    let transcript = &shared.transcript;

    loop {
        // Outputs first: frames, then events (which may queue more frames), then close.
        while let Some(frame) = session.poll_transmit() {
            transcript.frame(Side::Brain, &frame).await;
            // The deployed brain sends binary messages only; so does this one.
            socket.send(Message::Binary(frame)).await?;
        }
        let mut reacted = false;
        while let Some(event) = session.poll_event() {
            reacted = true;
            react(&mut session, shared, event, &mut command_sent).await;
        }
        if reacted {
            continue;
        }
        if let Some(close) = session.poll_close() {
            transcript
                .note(
                    Side::Brain,
                    format!("closing: {} {}", close.code(), close.reason()),
                )
                .await;
            socket.send(close_message(&close)).await?;
            return Ok(());
        }
        let timeout = session
            .poll_timeout()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            message = socket.next() => match next_incoming(message) {
                Some(Ok(Incoming::Frame(bytes))) => {
                    // A refused frame leaves its close frame in poll_close.
                    let _ = session.handle_frame(Instant::now(), Timestamp::now_utc(), &bytes);
                }
                Some(Ok(Incoming::Ignore)) => {}
                Some(Ok(Incoming::Closed(code))) => {
                    transcript.note(Side::Brain, format!("agent closed ({code:?})")).await;
                    return Ok(());
                }
                Some(Err(e)) => {
                    transcript.note(Side::Brain, format!("connection lost: {e}")).await;
                    return Ok(());
                }
                None => {
                    transcript.note(Side::Brain, "connection lost").await;
                    return Ok(());
                }
            },
            () = tokio::time::sleep_until(timeout.into()) => session.handle_timeout(Instant::now()),
        }
    }
}

/// What the brain application does with each session event.
async fn react(
    session: &mut BrainSession,
    shared: &Shared,
    event: BrainEvent,
    command_sent: &mut bool,
) {
    let transcript = &shared.transcript;
    match event {
        BrainEvent::EventBatch { batch_id, events } => {
            let new = shared
                .stored_batches
                .lock()
                .expect("not poisoned")
                .insert(batch_id.clone());
            let accepted = if new { events.len() as u64 } else { 0 };
            let counter = if new {
                &shared.options.stats.stored_events
            } else {
                &shared.options.stats.duplicate_events
            };
            counter.fetch_add(events.len(), Ordering::SeqCst);
            transcript
                .note(
                    Side::Brain,
                    format!(
                        "batch {batch_id}: {} events, {}",
                        events.len(),
                        if new { "stored" } else { "already stored" }
                    ),
                )
                .await;
            // The session is established while it reports batches, so acking succeeds.
            let _ = session.ack_batch(&batch_id, events.len() as u64, accepted, 0);
            let first_task = events.first().and_then(task_id);
            let acked = *shared.command_acked.lock().expect("not poisoned");
            let send = shared.options.send_command && !acked && !*command_sent;
            if let (true, Some(task)) = (send, first_task) {
                *command_sent = true;
                let target = JsonObject::from_serialize(&serde_json::json!({ "task_id": task }))
                    .expect("an object");
                match session.send_command(Command::new("cancel_task", target)) {
                    Ok(id) => {
                        transcript
                            .note(Side::Brain, format!("sent cancel_task for {task} as {id}"))
                            .await
                    }
                    Err(e) => {
                        transcript
                            .note(Side::Brain, format!("command not sent: {e}"))
                            .await
                    }
                }
            }
        }
        BrainEvent::Heartbeat(_) => {
            shared
                .options
                .stats
                .heartbeats
                .fetch_add(1, Ordering::SeqCst);
        }
        BrainEvent::AgentStatus(_) => {
            shared
                .options
                .stats
                .agent_statuses
                .fetch_add(1, Ordering::SeqCst);
        }
        BrainEvent::Hello { hello, binding } => {
            shared.options.stats.sessions.fetch_add(1, Ordering::SeqCst);
            let text = format!(
                "agent {} ({}) in session {}",
                binding.agent_id, hello.framework, binding.session_id
            );
            transcript.note(Side::Brain, text).await;
        }
        BrainEvent::CommandAcked { command_id } => {
            *shared.command_acked.lock().expect("not poisoned") = true;
            transcript
                .note(Side::Brain, format!("command {command_id} acknowledged"))
                .await;
        }
        BrainEvent::CommandCompleted { command_id, result } => {
            shared
                .options
                .stats
                .command_results
                .fetch_add(1, Ordering::SeqCst);
            let outcome = match (&result.result, &result.error) {
                (Some(r), _) => r.as_str().to_owned(),
                (None, Some(e)) => e.clone(),
                (None, None) => String::new(),
            };
            let text = format!(
                "command {command_id} completed: {:?} {outcome}",
                result.status
            );
            transcript.note(Side::Brain, text).await;
        }
        BrainEvent::PeerError(report) => {
            transcript
                .note(
                    Side::Brain,
                    format!("agent error {}: {}", report.code, report.message),
                )
                .await
        }
        _ => {}
    }
}

fn task_id(event: &JsonObject) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct TaskId {
        task_id: String,
    }
    event.deserialize_as::<TaskId>().ok().map(|t| t.task_id)
}
