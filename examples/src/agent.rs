//! The agent program on [`brainwire_tokio::Agent`]: it sends task events, answers
//! commands, and lets the driver reconnect per [`ReconnectPolicy`] and re-send what was
//! not acknowledged.
//!
//! [`ReconnectPolicy`]: brainwire_close::ReconnectPolicy

use std::sync::Arc;
use std::time::Duration;

use brainwire_close::Backoff;
use brainwire_core::{JsonObject, Timestamp};
use brainwire_sign::Secret;
use brainwire_tokio::{Agent, FrameDirection, FrameTap, Update};
use brainwire_v2::{CommandResult, Hello};
use tokio::sync::{watch, Notify};

use crate::transcript::{Side, Transcript};

/// What the agent program is told on its command line.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AgentOptions {
    /// The brain's agent endpoint, `ws://HOST:PORT/ws/agent`.
    pub url: String,
    /// Endpoints to fail over to, in turn, when `url` cannot be reached (other nodes of
    /// the same brain).
    pub failover_urls: Vec<String>,
    /// The bearer token.
    pub token: String,
    /// The project secret.
    pub secret: Secret,
    /// How many task events to send.
    pub events: usize,
    /// Most events per batch (the reference agent's cap is 500).
    pub events_per_batch: usize,
    /// Commands to answer before finishing (the demo brain sends one).
    pub expect_commands: usize,
    /// Close the first connection once this many batches are sent (`Agent::reconnect`):
    /// shows that a lost connection loses nothing. The run waits until that many were
    /// sent.
    pub drop_after_batches: Option<usize>,
    /// Backoff between connection attempts.
    pub backoff: Backoff,
    /// How long to stay connected (heartbeating) once everything is acknowledged.
    pub stay_connected: Duration,
    /// Ends the stay early when notified: a caller that saw what it waited for (the
    /// brain recording a command's result, which has no acknowledgement to wait on).
    pub stop_staying: Option<Arc<Notify>>,
    /// Prefix of the task ids (`<prefix>-task-<n>`); random by default, so that a brain
    /// that de-duplicates by task sees fresh tasks.
    pub task_prefix: String,
    /// The `protocol_version` announced in `hello` (`"2"`); another value shows how a
    /// brain refuses it.
    pub protocol_version: String,
}

impl AgentOptions {
    /// Options sending `events` events to `url`.
    pub fn new(
        url: impl Into<String>,
        token: impl Into<String>,
        secret: Secret,
        events: usize,
    ) -> Self {
        Self {
            url: url.into(),
            failover_urls: Vec::new(),
            token: token.into(),
            secret,
            events,
            events_per_batch: 500,
            expect_commands: 0,
            drop_after_batches: None,
            backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(5))
                .with_max_attempts(10),
            stay_connected: Duration::ZERO,
            stop_staying: None,
            task_prefix: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
            protocol_version: brainwire_v2::PROTOCOL_VERSION.to_owned(),
        }
    }
}

/// What a run of the agent achieved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentReport {
    /// Events the brain acknowledged.
    pub acked_events: usize,
    /// Events the brain newly stored (re-sent batches count once).
    pub accepted_events: u64,
    /// Connections opened.
    pub connections: usize,
    /// Commands answered.
    pub commands_answered: usize,
}

/// Runs the agent until every event is acknowledged and the expected commands are
/// answered, then shuts it down.
///
/// # Errors
///
/// When the reconnect policy gives up (a configuration close such as 4401, or too many
/// failed attempts).
pub async fn run(options: AgentOptions, transcript: Transcript) -> anyhow::Result<AgentReport> {
    let mut hello = Hello::new("brainwire-example-agent/0.1", "bare");
    hello.protocol_version = options.protocol_version.clone();
    // The deployed brain dispatches a command only to an agent whose engine advertises it.
    hello.engines = vec!["celery".into()];
    hello
        .capabilities
        .insert("celery".into(), vec!["cancel_task".into()]);
    let mut driver = brainwire_tokio::AgentOptions::new(
        &options.url,
        options.token.as_str(),
        options.secret.clone(),
        hello,
    );
    driver.config.max_events_per_batch = options.events_per_batch;
    driver.urls.extend(options.failover_urls.iter().cloned());
    driver.backoff = options.backoff.clone();
    // Every frame sent goes to the transcript; `event_batch` frames are counted.
    let (count_batch, mut batches_sent) = watch::channel(0usize);
    let log = transcript.clone();
    driver.frame_tap = Some(FrameTap::new(move |direction, wire| {
        if direction == FrameDirection::Sent && log.frame_now(Side::Agent, wire) == "event_batch" {
            count_batch.send_modify(|sent| *sent += 1);
        }
    }));
    let mut agent = Agent::spawn(driver);
    let events = agent.event_sender();
    let (mut queued, mut connections, mut answered) = (0, 0, 0);
    let mut drop_after = options.drop_after_batches;
    // Until every event is queued, every expected command answered, and the connection
    // to drop (if any) dropped.
    while queued < options.events || answered < options.expect_commands || drop_after.is_some() {
        tokio::select! {
            sent = events.send_event(task_event(&options.task_prefix, queued)), if queued < options.events => {
                sent?;
                queued += 1;
            }
            update = agent.next_update() => match update {
                Some(Update::Connected { binding, .. }) => {
                    connections += 1;
                    let text = format!("connected (connection {connections})");
                    transcript.note(Side::Agent, text).await;
                    let text = format!("session {}", binding.session_id);
                    transcript.note(Side::Agent, text).await;
                }
                Some(Update::Disconnected { code }) => {
                    transcript.note(Side::Agent, format!("disconnected ({code:?})")).await;
                }
                Some(Update::Command(command)) => {
                    answer(command).await?;
                    answered += 1;
                }
                Some(Update::BrainError(report)) => {
                    let text = format!("brain error {}: {}", report.code, report.message);
                    transcript.note(Side::Agent, text).await;
                }
                Some(_) => {}
                // The driver stopped: its error says why.
                None => break,
            },
            Ok(()) = batches_sent.changed(), if drop_after.is_some() => {
                if drop_after.is_some_and(|n| *batches_sent.borrow() >= n) {
                    transcript.note(Side::Agent, "dropping the connection on purpose").await;
                    agent.reconnect();
                    drop_after = None;
                }
            }
        }
    }
    // Heartbeats while staying connected, answering what commands come; then every event
    // acknowledged before closing.
    let stay = tokio::time::sleep(options.stay_connected);
    tokio::pin!(stay);
    let stop_staying = async {
        match &options.stop_staying {
            Some(stop) => stop.notified().await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(stop_staying);
    loop {
        tokio::select! {
            () = &mut stay => break,
            () = &mut stop_staying => break,
            update = agent.next_update() => match update {
                Some(Update::Command(command)) => {
                    answer(command).await?;
                    answered += 1;
                }
                Some(Update::Connected { .. }) => {
                    connections += 1;
                    let text = format!("connected (connection {connections})");
                    transcript.note(Side::Agent, text).await;
                }
                Some(Update::Disconnected { code }) => {
                    transcript.note(Side::Agent, format!("disconnected ({code:?})")).await;
                }
                Some(_) => {}
                // The driver stopped (a revocation, say): shutting down says why.
                None => break,
            },
        }
    }
    let stopped = agent.shutdown(SHUTDOWN_GRACE).await;
    let report = stopped.map_err(|e| anyhow::anyhow!("stopped: {e:?}"))?;
    anyhow::ensure!(
        report.unacked_events == 0,
        "{} events unacknowledged after {SHUTDOWN_GRACE:?}",
        report.unacked_events
    );
    transcript
        .note(Side::Agent, "all events acknowledged; closed")
        .await;
    Ok(AgentReport {
        acked_events: report.acked_events as usize,
        accepted_events: report.accepted_events,
        connections: report.stats.connections as usize,
        commands_answered: answered,
    })
}

/// Answers a command: what it was asked, and that it was done.
async fn answer(command: brainwire_tokio::IncomingCommand) -> anyhow::Result<()> {
    let result = JsonObject::from_serialize(&serde_json::json!({
        "action": command.command.action,
        "target": command.command.target,
        "cancelled": true,
    }))?;
    command
        .complete(CommandResult::success(Some(result)))
        .await?;
    Ok(())
}

/// How long shutting down waits for the brain to acknowledge what is left.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// A task event in the shape the deployed brain ingests (`z4j_core.models.Event`): a
/// fresh event id, the engine, the task, a `kind`, when it happened, and its data. The
/// brain takes `project_id` and `agent_id` from the session.
/// The kinds the example agent reports, in turn.
pub const KINDS: [&str; 4] = [
    "task.started",
    "task.succeeded",
    "task.failed",
    "task.retried",
];

fn task_event(prefix: &str, i: usize) -> JsonObject {
    JsonObject::from_serialize(&serde_json::json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "project_id": uuid::Uuid::nil().to_string(),
        "agent_id": uuid::Uuid::nil().to_string(),
        "engine": "celery",
        "task_id": format!("{prefix}-task-{i}"),
        "kind": KINDS[i % KINDS.len()],
        "occurred_at": Timestamp::now_utc().to_string(),
        "data": { "name": "app.tasks.add", "args": [i, i + 1], "runtime": 0.25 },
    }))
    .expect("an object")
}
