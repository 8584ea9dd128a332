//! The agent endpoint: each connection runs a [`BrainSession`].

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use brainwire_core::{JsonObject, Timestamp};
use brainwire_sign::Keyring;
use brainwire_tokio::AgentTokens;
use brainwire_v2::{AgentGrant, BrainConfig, BrainEvent, BrainSession, Command, Sources};
use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use super::feed::Reporter;
use super::Shared;
use crate::http::upgrade;
use crate::outbox::send;
use crate::transcript::Side;
use crate::ws::{close_message, next_incoming, Incoming};

/// Largest WebSocket message taken from an agent: the session refuses frames over its
/// `max_frame_size_bytes` (1 MiB) with a close code; past twice that the socket stops
/// reading.
const MAX_AGENT_MESSAGE: usize = 2 * 1024 * 1024;

/// The `brain_version` of `hello_ack`. The deployed agent compares its major.minor with
/// its own and warns on a mismatch, so this names the z4j release whose wire protocol the
/// example speaks, with brainwire as semver build metadata.
const BRAIN_VERSION: &str = "1.13.0+brainwire-example";

/// The one agent token of `options` and its grant, compared in constant time.
pub(super) fn agent_tokens(options: &super::BrainOptions) -> AgentTokens {
    AgentTokens::new().with(
        options.agent_token.clone(),
        AgentGrant {
            agent_id: options.agent_id.clone(),
            project_id: options.project_id.clone(),
            keys: Keyring::new(options.secret.clone()),
        },
    )
}

/// Runs one agent connection whose request head (`read`, with its bearer token) was read.
pub(super) async fn connection(
    stream: TcpStream,
    read: Vec<u8>,
    bearer: Option<String>,
    shared: &Shared,
) -> anyhow::Result<()> {
    let mut socket = upgrade(stream, read, MAX_AGENT_MESSAGE, 16 * 1024).await?;
    // Whether this session sent the demo command already, and who reports on it.
    let mut command_sent = false;
    let mut reporter = None;
    let mut config = BrainConfig::new(BRAIN_VERSION);
    config.heartbeat_interval = shared.options.heartbeat_interval;
    config.idle_timeout = shared.options.heartbeat_interval * 3;
    let session_id = uuid::Uuid::new_v4().to_string();
    let sources = Sources::system(format!("brain-{}", &session_id[..8]));
    let mut session = BrainSession::accept(
        Instant::now(),
        bearer.as_deref(),
        &shared.agents,
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
            send(&mut socket, Message::Binary(frame)).await?;
        }
        let mut reacted = false;
        while let Some(event) = session.poll_event() {
            reacted = true;
            react(
                &mut session,
                shared,
                event,
                &mut command_sent,
                &mut reporter,
            )
            .await;
        }
        if reacted {
            continue;
        }
        if let Some(closing) = session.poll_close() {
            transcript
                .note(
                    Side::Brain,
                    format!("closing: {} {}", closing.frame.code(), closing.error),
                )
                .await;
            send(&mut socket, close_message(&closing.frame)).await?;
            return Ok(());
        }
        let timeout = session
            .poll_timeout()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            message = socket.next() => match next_incoming(message) {
                Some(Ok(Incoming::Frame(bytes))) => {
                    // A refused frame leaves its error and close frame in poll_close.
                    session.handle_message(Instant::now(), Timestamp::now_utc(), &bytes);
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
    reporter: &mut Option<Reporter>,
) {
    let transcript = &shared.transcript;
    match event {
        BrainEvent::EventBatch { batch_id, events } => {
            let agent_id = session.binding().map_or("", |b| b.agent_id.as_str());
            let new = shared
                .stored_batches
                .lock()
                .expect("not poisoned")
                .insert(agent_id, &batch_id);
            let accepted = if new { events.len() as u64 } else { 0 };
            let counter = if new {
                &shared.options.stats.stored_events
            } else {
                &shared.options.stats.duplicate_events
            };
            counter.fetch_add(events.len(), Ordering::SeqCst);
            if let (true, Some(reporter)) = (new, &*reporter) {
                for event in &events {
                    shared.publish(reporter, event);
                }
            }
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
            *reporter = Some(Reporter {
                agent_id: binding.agent_id.clone(),
                agent_name: hello.framework.clone(),
                project_id: binding.project_id.clone(),
            });
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
