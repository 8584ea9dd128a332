//! The agent endpoint: each connection runs a [`BrainSession`].

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::routing::MethodRouter;
use brainwire_close::v2::CloseCode;
use brainwire_close::CloseFrame;
use brainwire_core::JsonObject;
use brainwire_sign::Keyring;
use brainwire_tokio::{AgentConnection, AgentTokens, AnyAgentConnection};
use brainwire_v2::{AgentGrant, BrainConfig, BrainEvent, Command, CommandStatus};
use tokio::sync::mpsc;

use super::commands::SentCommands;
use super::feed::Reporter;
use super::live::Registration;
use super::{Control, Refused, Shared};
use crate::transcript::Side;

/// The `brain_version` of `hello_ack`. The deployed agent compares its major.minor with
/// its own and warns on a mismatch, so this names the z4j release whose wire protocol the
/// example speaks, with brainwire as semver build metadata.
const BRAIN_VERSION: &str = "1.13.0+brainwire-example";

/// The agent tokens of `options` and their grants, compared in constant time.
pub(super) fn agent_tokens(options: &super::BrainOptions) -> AgentTokens {
    options
        .agents
        .iter()
        .fold(AgentTokens::new(), |tokens, agent| {
            tokens.with(
                agent.token.clone(),
                AgentGrant {
                    agent_id: agent.agent_id.clone(),
                    project_id: options.project_id.clone(),
                    keys: Keyring::new(options.secret.clone()),
                },
            )
        })
}

/// The driver's options: the brain's heartbeat cadence, an idle timeout of three beats,
/// every frame shown in the transcript.
fn driver_options(shared: &Shared) -> brainwire_tokio::BrainOptions {
    let mut config = BrainConfig::new(BRAIN_VERSION);
    config.heartbeat_interval = shared.options.heartbeat_interval;
    config.idle_timeout = shared.options.heartbeat_interval * 3;
    let mut options = brainwire_tokio::BrainOptions::new(config);
    options.v1.idle_timeout = shared.options.heartbeat_interval * 3;
    options.frame_tap = shared.transcript.tap(Side::Brain);
    options
}

/// The agent endpoint `/ws/agent`: `brainwire_tokio` tells v1 from v2 by the first frame
/// and runs each session (bearer check, limits, timeouts); this brain reacts to what the
/// sessions report.
pub(super) fn route(shared: &Arc<Shared>) -> MethodRouter<Arc<Shared>> {
    let options = driver_options(shared);
    let shared = Arc::clone(shared);
    brainwire_tokio::any_agent_route(agent_tokens(&shared.options), options, move |connection| {
        let shared = Arc::clone(&shared);
        async move {
            match connection {
                AnyAgentConnection::V2(connection) => connection_loop(connection, &shared).await,
                AnyAgentConnection::V1(connection) => {
                    super::agents_v1::connection_loop(connection, &shared).await
                }
                _ => {}
            }
        }
    })
}

/// The v1 endpoint of document 000, which the brain serves on `/ws` to requests bearing
/// an agent token.
pub(super) fn v1_route(shared: &Arc<Shared>) -> MethodRouter {
    let options = driver_options(shared);
    let shared = Arc::clone(shared);
    brainwire_tokio::v1_agent_route(agent_tokens(&shared.options), options, move |connection| {
        let shared = Arc::clone(&shared);
        async move { super::agents_v1::connection_loop(connection, &shared).await }
    })
}

/// What one v2 connection keeps between events.
#[derive(Default)]
struct Session {
    /// Whether it sent the demo command.
    demo_command_sent: bool,
    /// Who reports on it, once `hello` is accepted.
    reporter: Option<Reporter>,
    /// The cluster's commands it sent.
    commands: SentCommands,
}

/// Reacts to one agent connection's events, and to what its node asks of it, until it
/// ends. A newer connection of the same agent replaces this one (closed with 4002), as on
/// the deployed brain; a revoked agent is closed with 4003.
async fn connection_loop(mut connection: AgentConnection, shared: &Shared) {
    let mut session = Session::default();
    let mut registered: Option<(String, u64)> = None;
    let mut controlled: Option<mpsc::Receiver<Control>> = None;
    let closed_by_us = loop {
        tokio::select! {
            event = connection.next_event() => {
                let Some(event) = event else { break None };
                let mut arrived = None;
                if let (BrainEvent::Hello { binding, .. }, None) = (&event, &registered) {
                    let agent_id = binding.agent_id.clone();
                    let registration = match admit(&connection, shared, &agent_id).await {
                        Ok(registration) => registration,
                        Err(refusal) => break Some(refusal),
                    };
                    registered = Some((agent_id.clone(), registration.id));
                    controlled = Some(registration.control);
                    arrived = Some(agent_id);
                }
                react(&connection, shared, event, &mut session).await;
                // Commands stored while the agent was away, announced to whatever node.
                if let Some(agent_id) = arrived {
                    for command_id in shared.cluster.open_commands(&agent_id).await.unwrap_or_default() {
                        session.commands.offer_v2(&connection, shared, &agent_id, &command_id).await;
                    }
                }
            }
            Some(control) = next_control(&mut controlled) => match control {
                Control::Replaced => {
                    break Some(CloseFrame::new(CloseCode::Replaced, "replaced by a newer connection"))
                }
                Control::Revoke => break Some(CloseFrame::new(CloseCode::Revoked, "agent revoked")),
                Control::Command(command_id) => {
                    if let Some((agent_id, _)) = &registered {
                        session.commands.offer_v2(&connection, shared, agent_id, &command_id).await;
                    }
                }
            },
        }
    };
    if let Some((agent_id, id)) = &registered {
        shared.unregister(agent_id, *id).await;
    }
    let report = match closed_by_us {
        Some(frame) => connection.close(frame).await,
        None => connection.finished().await,
    };
    let code = report
        .close_code
        .map_or("none".to_owned(), |c| c.to_string());
    shared
        .transcript
        .note(Side::Brain, format!("connection ended (close code {code})"))
        .await;
}

/// Admits the connection of `agent_id` ([`Shared::admit`]), or the close frame that
/// refuses it.
async fn admit(
    connection: &AgentConnection,
    shared: &Shared,
    agent_id: &str,
) -> Result<Registration, CloseFrame> {
    shared
        .admit(agent_id, connection.accepted_at())
        .await
        .map_err(|refused| match refused {
            Refused::Revoked => CloseFrame::new(CloseCode::Revoked, "agent revoked"),
            Refused::Replaced => {
                CloseFrame::new(CloseCode::Replaced, "replaced by a newer connection")
            }
        })
}

/// The next request of the node to a connection (never, before it registered).
pub(super) async fn next_control(
    controlled: &mut Option<mpsc::Receiver<Control>>,
) -> Option<Control> {
    match controlled {
        Some(control) => control.recv().await,
        None => std::future::pending().await,
    }
}

/// What the brain application does with each session event.
async fn react(
    connection: &AgentConnection,
    shared: &Shared,
    event: BrainEvent,
    session: &mut Session,
) {
    let transcript = &shared.transcript;
    let Session {
        demo_command_sent: command_sent,
        reporter,
        commands,
    } = session;
    match event {
        BrainEvent::EventBatch { batch_id, events } => {
            let agent_id = reporter.as_ref().map_or("", |r| r.agent_id.as_str());
            // The events' own text, borrowed: stored as received.
            let texts: Vec<&str> = events.iter().map(JsonObject::as_str).collect();
            let new = match shared.store_batch(agent_id, &batch_id, &texts).await {
                Ok(new) => new,
                Err(e) => {
                    // Not acknowledged: the agent sends the batch again (here or on
                    // another node) once the store is back.
                    let text = format!("batch {batch_id} not stored: {e}");
                    return transcript.note(Side::Brain, text).await;
                }
            };
            let accepted = if new { events.len() as u64 } else { 0 };
            if let (true, Some(reporter)) = (new, &*reporter) {
                for event in &events {
                    shared
                        .publish_update(|feed| feed.observe(reporter, event))
                        .await;
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
            // A connection that ended meanwhile is re-sent the batch by its agent.
            let _ = connection
                .ack_batch(batch_id, events.len() as u64, accepted, 0)
                .await;
            let first_task = events.first().and_then(task_id);
            let agent_id = reporter.as_ref().map_or("", |r| r.agent_id.as_str());
            if let (true, Some(task)) = (shared.wants_command(agent_id, *command_sent), first_task)
            {
                *command_sent = true;
                let target = JsonObject::from_serialize(&serde_json::json!({ "task_id": task }))
                    .expect("an object");
                match connection
                    .send_command(Command::new("cancel_task", target))
                    .await
                {
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
            if let Some(reporter) = reporter {
                let _ = shared.cluster.agent_alive(&reporter.agent_id).await;
            }
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
            shared.roster.lock().expect("not poisoned").connected(
                &binding.agent_id,
                "v2",
                &hello.framework,
            );
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
            if commands.acked(shared, &command_id).await {
                return;
            }
            if let Some(reporter) = reporter {
                shared.command_done(&reporter.agent_id);
            }
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
            let ok = result.status == CommandStatus::Success;
            let value = result
                .result
                .as_ref()
                .and_then(|r| serde_json::from_str(r.as_str()).ok());
            if commands
                .finished(shared, &command_id, ok, value, result.error.clone())
                .await
            {
                return;
            }
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
