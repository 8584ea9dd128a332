//! Legacy v1 agents (document 000): each connection's events stored and published like a
//! v2 agent's, batches acknowledged by `seq`, one `cancel_task` sent, schedules kept.

use std::sync::atomic::Ordering;

use brainwire_close::v1::CloseCode;
use brainwire_close::CloseFrame;
use brainwire_core::JsonObject;
use brainwire_tokio::V1AgentConnection;
use brainwire_v1::{BrainEvent, Command, CommandVerb};

use super::agents::next_control;
use super::commands::SentCommands;
use super::feed::Reporter;
use super::{Control, Refused, Shared};
use crate::transcript::Side;

/// What one v1 connection keeps between events.
#[derive(Default)]
struct Session {
    reporter: Option<Reporter>,
    demo_command_sent: bool,
    /// The cluster's commands it sent.
    commands: SentCommands,
}

/// Reacts to one v1 agent connection, and to what its node asks of it, until it ends. A
/// newer connection of the same agent closes this one with 4004 (agent name conflict),
/// the code document 000 has for two connections of one agent; a revoked agent is closed
/// with 4003.
pub(super) async fn connection_loop(mut connection: V1AgentConnection, shared: &Shared) {
    let agent_id = connection.agent_id().to_owned();
    let replaced = CloseFrame::new(
        CloseCode::AgentNameConflict,
        "replaced by a newer connection",
    );
    let registration = match shared.admit(&agent_id, connection.accepted_at()).await {
        Ok(registration) => registration,
        Err(refused) => {
            connection
                .close(match refused {
                    Refused::Revoked => CloseFrame::new(CloseCode::AgentRevoked, "agent revoked"),
                    Refused::Replaced => replaced,
                })
                .await;
            return;
        }
    };
    let id = registration.id;
    let mut controlled = Some(registration.control);
    let mut session = Session::default();
    for command_id in shared
        .cluster
        .open_commands(&agent_id)
        .await
        .unwrap_or_default()
    {
        session
            .commands
            .offer_v1(&connection, shared, &agent_id, &command_id)
            .await;
    }
    let closed_by_us = loop {
        tokio::select! {
            event = connection.next_event() => {
                let Some(event) = event else { break None };
                react(&connection, shared, event, &mut session).await;
            }
            Some(control) = next_control(&mut controlled) => match control {
                Control::Replaced => break Some(replaced),
                Control::Revoke => break Some(CloseFrame::new(CloseCode::AgentRevoked, "agent revoked")),
                Control::Command(command_id) => {
                    session.commands.offer_v1(&connection, shared, &agent_id, &command_id).await;
                }
            },
        }
    };
    shared.unregister(&agent_id, id).await;
    let report = match closed_by_us {
        Some(frame) => connection.close(frame).await,
        None => connection.finished().await,
    };
    let code = report
        .close_code
        .map_or("none".to_owned(), |c| c.to_string());
    let text = format!("v1 connection ended (close code {code})");
    shared.transcript.note(Side::Brain, text).await;
}

/// What the brain does with each v1 session event.
async fn react(
    connection: &V1AgentConnection,
    shared: &Shared,
    event: BrainEvent,
    session: &mut Session,
) {
    let Session {
        reporter,
        demo_command_sent: command_sent,
        commands,
    } = session;
    let stats = &shared.options.stats;
    let agent_id = connection.agent_id();
    match event {
        BrainEvent::Hello(hello) => {
            stats.sessions.fetch_add(1, Ordering::SeqCst);
            let name = &hello.agent_name;
            shared
                .roster
                .lock()
                .expect("not poisoned")
                .connected(agent_id, "v1", name);
            *reporter = Some(Reporter {
                agent_id: agent_id.to_owned(),
                agent_name: hello.agent_name.clone(),
                project_id: connection.project_id().to_owned(),
            });
            let text = format!("v1 agent {agent_id} ({})", hello.agent_name);
            shared.transcript.note(Side::Brain, text).await;
        }
        BrainEvent::EventBatch(batch) => {
            // v1 numbers batches per agent; a re-sent batch keeps its seq.
            let key = format!("v1:{}", batch.seq);
            let texts = batch
                .events
                .iter()
                .filter_map(|e| serde_json::to_string(e).ok())
                .collect::<Vec<String>>();
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            let new = match shared.store_batch(agent_id, &key, &texts).await {
                Ok(new) => new,
                Err(e) => {
                    // Not acknowledged: the agent sends it again after a reconnect.
                    let text = format!("v1 batch {} not stored: {e}", batch.seq);
                    return shared.transcript.note(Side::Brain, text).await;
                }
            };
            if let (true, Some(reporter)) = (new, &*reporter) {
                for event in &batch.events {
                    shared
                        .publish_update(|feed| feed.observe_v1(reporter, event))
                        .await;
                }
            }
            let state = if new { "stored" } else { "already stored" };
            let text = format!(
                "v1 batch {}: {} events, {state}",
                batch.seq,
                batch.events.len()
            );
            shared.transcript.note(Side::Brain, text).await;
            // A connection that ended meanwhile is re-sent the batch by its agent.
            let _ = connection.ack(batch.seq).await;
            let first_task = batch.events.first().map(|e| e.task_id.clone());
            if let (true, Some(task)) = (shared.wants_command(agent_id, *command_sent), first_task)
            {
                *command_sent = true;
                send_cancel(connection, shared, &task).await;
            }
        }
        BrainEvent::Heartbeat(_) => {
            stats.heartbeats.fetch_add(1, Ordering::SeqCst);
            let _ = shared.cluster.agent_alive(agent_id).await;
        }
        BrainEvent::CommandCompleted { command, result } => {
            let error = result
                .error
                .as_ref()
                .map(|e| format!("{}: {}", e.code, e.message));
            let value = result
                .result
                .as_ref()
                .and_then(|r| serde_json::from_str(r.as_str()).ok());
            if commands
                .finished(shared, &command.cmd_id, result.ok, value, error)
                .await
            {
                return;
            }
            stats.command_results.fetch_add(1, Ordering::SeqCst);
            shared.command_done(agent_id);
            let outcome = match (&result.result, &result.error) {
                (Some(value), _) => value.as_str().to_owned(),
                (None, Some(error)) => format!("{}: {}", error.code, error.message),
                (None, None) => String::new(),
            };
            let verdict = if result.ok { "ok" } else { "failed" };
            let text = format!("command {} completed: {verdict} {outcome}", command.cmd_id);
            shared.transcript.note(Side::Brain, text).await;
        }
        BrainEvent::StrayCommandResult(result) => {
            let text = format!("result for unknown command {}", result.cmd_id);
            shared.transcript.note(Side::Brain, text).await;
        }
        BrainEvent::ScheduleSnapshot(snapshot) => {
            let text = format!(
                "{} schedules of {}",
                snapshot.schedules.len(),
                snapshot.scheduler
            );
            shared
                .roster
                .lock()
                .expect("not poisoned")
                .snapshot(agent_id, snapshot);
            shared.transcript.note(Side::Brain, text).await;
        }
        BrainEvent::ScheduleUpdate(update) => {
            shared
                .roster
                .lock()
                .expect("not poisoned")
                .update(agent_id, update);
        }
        _ => {}
    }
}

/// Sends the demo `cancel_task` for `task`.
async fn send_cancel(connection: &V1AgentConnection, shared: &Shared, task: &str) {
    let args =
        JsonObject::from_serialize(&serde_json::json!({ "task_id": task })).expect("an object");
    let cmd_id = uuid::Uuid::new_v4().to_string();
    let command = Command::new(cmd_id.clone(), CommandVerb::CancelTask, args);
    let text = match connection.send_command(command).await {
        Ok(()) => format!("sent cancel_task for {task} as {cmd_id}"),
        Err(e) => format!("command not sent: {e}"),
    };
    shared.transcript.note(Side::Brain, text).await;
}
