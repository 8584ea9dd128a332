//! The agent program: a WebSocket client running an [`AgentSession`], reconnecting per
//! [`ReconnectPolicy`].

use std::time::{Duration, Instant};

use anyhow::Context;
use brainwire_close::{v2::CloseCode, Backoff, Reconnect, ReconnectPolicy};
use brainwire_core::{JsonObject, Timestamp};
use brainwire_sign::Secret;
use brainwire_v2::{AgentConfig, AgentEvent, AgentSession, CommandResult, Hello, Sources};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::transcript::{Side, Transcript};
use crate::ws::{close_message, next_incoming, Incoming};

/// What the agent program is told on its command line.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AgentOptions {
    /// The brain's agent endpoint, `ws://HOST:PORT/ws/agent`.
    pub url: String,
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
    /// Drop the first connection, without a close frame, once this many batches are sent:
    /// shows that a lost connection loses nothing.
    pub drop_after_batches: Option<usize>,
    /// Backoff between connection attempts.
    pub backoff: Backoff,
    /// How long to stay connected (heartbeating) once everything is acknowledged.
    pub stay_connected: Duration,
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
            token: token.into(),
            secret,
            events,
            events_per_batch: 500,
            expect_commands: 0,
            drop_after_batches: None,
            backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(5))
                .with_max_attempts(10),
            stay_connected: Duration::ZERO,
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

/// How one connection ended.
enum Ended {
    /// Every event acknowledged and every expected command answered.
    Done,
    /// Closed or lost, with the close code if there was one.
    Lost(Option<u16>),
}

/// Runs the agent until every event is acknowledged.
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
    let mut config = AgentConfig::new(hello);
    config.max_events_per_batch = options.events_per_batch;
    let prefix = uuid::Uuid::new_v4().simple().to_string();
    let mut session = AgentSession::new(
        config,
        options.secret.clone(),
        Sources::system(&prefix[..12]),
    );
    for i in 0..options.events {
        let event = task_event(&options.task_prefix, i);
        session
            .queue_event(Instant::now(), event)
            .map_err(|e| anyhow::anyhow!("event {i}: {e}"))?;
    }
    let mut policy = ReconnectPolicy::new(options.backoff.clone());
    let mut report = AgentReport::default();
    loop {
        let ended = match connection(
            &mut session,
            &options,
            &transcript,
            &mut report,
            &mut policy,
        )
        .await
        {
            Ok(ended) => ended,
            Err(e) => {
                transcript
                    .note(Side::Agent, format!("connect failed: {e}"))
                    .await;
                Ended::Lost(None)
            }
        };
        session.handle_disconnect();
        let code = match ended {
            Ended::Done => return Ok(report),
            Ended::Lost(code) => code,
        };
        let decision = match code {
            Some(code) => policy.on_close(CloseCode::from(code)),
            None => policy.on_connection_lost(),
        };
        match decision {
            Reconnect::RetryAfter(delay) => {
                transcript
                    .note(
                        Side::Agent,
                        format!("reconnecting in {} ms", delay.as_millis()),
                    )
                    .await;
                tokio::time::sleep(delay).await;
            }
            Reconnect::Stop(reason) => anyhow::bail!("stopped: {reason:?}"),
        }
    }
}

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

async fn connection(
    session: &mut AgentSession,
    options: &AgentOptions,
    transcript: &Transcript,
    report: &mut AgentReport,
    policy: &mut ReconnectPolicy,
) -> anyhow::Result<Ended> {
    let mut request = options.url.as_str().into_client_request()?;
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {}", options.token).parse()?,
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .context("connecting")?;
    report.connections += 1;
    transcript
        .note(
            Side::Agent,
            format!("connected (connection {})", report.connections),
        )
        .await;
    session.connect(Instant::now(), Timestamp::now_utc());
    let mut batches_sent = 0;
    let mut done_at: Option<Instant> = None;

    loop {
        let mut reacted = false;
        while let Some(event) = session.poll_event() {
            reacted = true;
            match event {
                AgentEvent::Connected { binding, .. } => {
                    policy.on_connected();
                    transcript
                        .note(Side::Agent, format!("session {}", binding.session_id))
                        .await;
                }
                AgentEvent::BatchAcked {
                    events, accepted, ..
                } => {
                    report.acked_events += events;
                    report.accepted_events += accepted;
                }
                AgentEvent::Command {
                    command_id,
                    command,
                } => {
                    let result = JsonObject::from_serialize(&serde_json::json!({
                        "action": command.action, "target": command.target, "cancelled": true,
                    }))?;
                    session.complete_command(&command_id, CommandResult::success(Some(result)))?;
                    report.commands_answered += 1;
                }
                AgentEvent::PeerError(report) => {
                    transcript
                        .note(
                            Side::Agent,
                            format!("brain error {}: {}", report.code, report.message),
                        )
                        .await;
                }
                _ => {}
            }
        }
        if reacted {
            continue;
        }
        while let Some(frame) = session.poll_transmit() {
            let frame_type = transcript.frame(Side::Agent, &frame).await;
            socket.send(Message::Text(frame.try_into()?)).await?;
            if frame_type == "event_batch" {
                batches_sent += 1;
                if report.connections == 1 && options.drop_after_batches == Some(batches_sent) {
                    transcript
                        .note(Side::Agent, "dropping the connection on purpose")
                        .await;
                    return Ok(Ended::Lost(None));
                }
            }
        }
        if let Some(closing) = session.poll_close() {
            socket.send(close_message(&closing.frame)).await?;
            return Ok(Ended::Lost(Some(closing.frame.code())));
        }
        if session.held_events() == 0 && report.commands_answered >= options.expect_commands {
            let done = *done_at.get_or_insert_with(|| Instant::now() + options.stay_connected);
            if Instant::now() >= done {
                transcript
                    .note(Side::Agent, "all events acknowledged; closing")
                    .await;
                socket.send(Message::Close(None)).await?;
                return Ok(Ended::Done);
            }
        }
        let timeout = session
            .poll_timeout()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        let timeout = done_at.map_or(timeout, |d| timeout.min(d));
        tokio::select! {
            message = socket.next() => match next_incoming(message) {
                Some(Ok(Incoming::Frame(bytes))) => {
                    // A refused frame leaves its error and close frame in poll_close.
                    session.handle_message(Instant::now(), Timestamp::now_utc(), &bytes);
                }
                Some(Ok(Incoming::Ignore)) => {}
                Some(Ok(Incoming::Closed(code))) => {
                    transcript.note(Side::Agent, format!("brain closed ({code:?})")).await;
                    return Ok(Ended::Lost(code));
                }
                Some(Err(_)) | None => return Ok(Ended::Lost(None)),
            },
            () = tokio::time::sleep_until(timeout.into()) => session.handle_timeout(Instant::now()),
        }
    }
}
