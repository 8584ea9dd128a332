//! Legacy v1 agents (document 000): each connection's events stored and published like a
//! v2 agent's, batches acknowledged by `seq`, one `cancel_task` sent, schedules kept.

use std::sync::atomic::Ordering;

use brainwire_close::v1::CloseCode;
use brainwire_close::CloseFrame;
use brainwire_core::JsonObject;
use brainwire_tokio::V1AgentConnection;
use brainwire_v1::{BrainEvent, Command, CommandVerb};

use super::feed::Reporter;
use super::Shared;
use crate::transcript::Side;

/// Reacts to one v1 agent connection until it ends. A newer connection of the same agent
/// closes this one with 4004 (agent name conflict), the code document 000 has for two
/// connections of one agent.
pub(super) async fn connection_loop(mut connection: V1AgentConnection, shared: &Shared) {
    let agent_id = connection.agent_id().to_owned();
    let (id, mut replaced) = shared.register(&agent_id);
    let mut reporter = None;
    let mut command_sent = false;
    loop {
        tokio::select! {
            event = connection.next_event() => {
                let Some(event) = event else { break };
                react(&connection, shared, event, &mut reporter, &mut command_sent).await;
            }
            Ok(()) = &mut replaced => {
                let conflict = CloseFrame::new(CloseCode::AgentNameConflict, "replaced by a newer connection");
                let report = connection.close(conflict).await;
                let text = format!("v1 connection replaced (close code {:?})", report.close_code);
                shared.transcript.note(Side::Brain, text).await;
                shared.unregister(&agent_id, id);
                return;
            }
        }
    }
    shared.unregister(&agent_id, id);
    let report = connection.finished().await;
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
    reporter: &mut Option<Reporter>,
    command_sent: &mut bool,
) {
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
            let new = shared.store_batch(agent_id, &key, batch.events.len());
            if let (true, Some(reporter)) = (new, &*reporter) {
                for event in &batch.events {
                    shared.publish_update(|feed| feed.observe_v1(reporter, event));
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
        }
        BrainEvent::CommandCompleted { command, result } => {
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
