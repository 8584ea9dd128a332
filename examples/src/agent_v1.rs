//! A legacy v1 agent written from document 000 alone: `hello` with `protocol: "v1"`, a
//! schedule snapshot, `event_batch`es numbered by a monotonic `seq` and kept until their
//! `ack`, everything unacknowledged sent again after a reconnect, commands answered with
//! `command_result`, heartbeats, and reconnects with exponential backoff on 1006 / 1011 /
//! 4005, stopping on 4001 / 4002 / 4003 (and 4004).

use std::time::Duration;

use anyhow::{bail, Context};
use brainwire_close::{v1::CloseCode, Backoff, Reconnect, ReconnectPolicy};
use brainwire_core::{JsonObject, JsonValue, Timestamp};
use brainwire_v1::{
    decode_brain, encode_agent, AckTracker, AgentFrame, BrainFrame, CommandResult, EventBatch,
    Framework, Heartbeat, Hello, Metadata, Schedule, ScheduleSnapshot, TaskEvent, TaskEventType,
};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::transcript::{Side, Transcript};

/// What the v1 agent program is told on its command line.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct AgentV1Options {
    /// The brain's v1 endpoint, `ws://HOST:PORT/ws` (or `/ws/agent` on a brain that tells
    /// the protocols apart).
    pub url: String,
    /// The bearer token.
    pub token: String,
    /// How many task events to send.
    pub events: usize,
    /// Most events per batch.
    pub events_per_batch: usize,
    /// Most batches sent and not yet acknowledged.
    pub max_in_flight: usize,
    /// Backoff between connection attempts.
    pub backoff: Backoff,
    /// How often to send `heartbeat`.
    pub heartbeat_interval: Duration,
    /// Prefix of the task ids (`<prefix>-task-<n>`); random by default.
    pub task_prefix: String,
}

impl AgentV1Options {
    /// Options sending `events` events to `url` with `token`.
    pub fn new(url: impl Into<String>, token: impl Into<String>, events: usize) -> Self {
        Self {
            url: url.into(),
            token: token.into(),
            events,
            events_per_batch: 100,
            max_in_flight: 8,
            backoff: Backoff::new(Duration::from_millis(100), Duration::from_secs(5))
                .with_max_attempts(10),
            heartbeat_interval: Duration::from_secs(10),
            task_prefix: uuid::Uuid::new_v4().simple().to_string()[..8].to_owned(),
        }
    }
}

/// What a run of the v1 agent achieved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentV1Report {
    /// Events the brain acknowledged.
    pub acked_events: usize,
    /// Connections opened.
    pub connections: usize,
    /// Batches sent again after a reconnect.
    pub resent_batches: usize,
    /// Commands answered.
    pub commands_answered: usize,
}

/// How long connecting (TCP and the WebSocket upgrade) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest message taken from the brain (its frames are small).
const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// The state that outlives connections: the batches waiting for their ack and what is
/// left to send.
struct Outbox {
    tracker: AckTracker<Vec<TaskEvent>>,
    next_event: usize,
    report: AgentV1Report,
}

/// How one connection ended.
enum Ended {
    /// Every event acknowledged; the agent closed with 1000.
    Done,
    /// The brain closed with this code.
    Closed(u16),
    /// The connection was lost without a close frame.
    Lost(String),
}

/// Runs the agent until every event is acknowledged, reconnecting per document 000.
///
/// # Errors
///
/// When the brain closes with a configuration code (4001–4004) or the backoff gives up.
pub async fn run(options: AgentV1Options, transcript: Transcript) -> anyhow::Result<AgentV1Report> {
    let mut policy = ReconnectPolicy::new(options.backoff.clone());
    let mut outbox = Outbox {
        tracker: AckTracker::new(options.max_in_flight.max(1)),
        next_event: 0,
        report: AgentV1Report::default(),
    };
    loop {
        let ended = connection(&options, &mut outbox, &mut policy, &transcript).await;
        let mut last_close = None;
        let decision = match ended {
            Ended::Done => return Ok(outbox.report),
            Ended::Closed(code) => {
                let code = CloseCode::from(code);
                let text = format!("closed by the brain with {code}");
                transcript.note(Side::Agent, text).await;
                last_close = Some(code);
                policy.on_close(code)
            }
            Ended::Lost(why) => {
                transcript
                    .note(Side::Agent, format!("connection lost: {why}"))
                    .await;
                policy.on_connection_lost()
            }
        };
        match decision {
            Reconnect::RetryAfter(delay) => tokio::time::sleep(delay).await,
            Reconnect::Stop(reason) => match last_close {
                Some(code) => bail!("stopped: the brain closed with {code} ({reason:?})"),
                None => bail!("stopped: {reason:?}"),
            },
        }
    }
}

/// One connection: hello, the snapshot, what waits for an ack, then new batches as acks
/// make room, until everything is acknowledged or the connection ends.
async fn connection(
    options: &AgentV1Options,
    outbox: &mut Outbox,
    policy: &mut ReconnectPolicy,
    transcript: &Transcript,
) -> Ended {
    let mut request = match options.url.as_str().into_client_request() {
        Ok(request) => request,
        Err(e) => return Ended::Lost(format!("bad url: {e}")),
    };
    let Ok(bearer) = format!("Bearer {}", options.token).parse() else {
        return Ended::Lost("the token is not a header value".into());
    };
    request.headers_mut().insert("authorization", bearer);
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES));
    // Nagle off: a batch held back waits for the brain's delayed ACK.
    let connect = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    let mut socket = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok((socket, _))) => socket,
        Ok(Err(e)) => return Ended::Lost(format!("connect: {e}")),
        Err(_) => return Ended::Lost("connect timed out".into()),
    };
    policy.on_connected();
    outbox.report.connections += 1;
    let text = format!("connected (connection {})", outbox.report.connections);
    transcript.note(Side::Agent, text).await;

    // hello, then the full schedule list (document 000: "sent after hello"), then every
    // batch still waiting for its ack, with its original seq.
    let mut first = vec![
        AgentFrame::Hello(hello()),
        AgentFrame::ScheduleSnapshot(snapshot()),
    ];
    let resent: Vec<AgentFrame> = outbox
        .tracker
        .unacked()
        .map(|(seq, events)| AgentFrame::EventBatch(EventBatch::new(seq, events.clone())))
        .collect();
    outbox.report.resent_batches += resent.len();
    first.extend(resent);
    for frame in first {
        if let Err(e) = send(&mut socket, &frame, transcript).await {
            return after_failed_write(&mut socket, e).await;
        }
    }
    let mut heartbeat = tokio::time::interval(options.heartbeat_interval);
    heartbeat.tick().await;
    loop {
        // New batches while there is room and something left to send.
        while outbox.next_event < options.events && outbox.tracker.len() < options.max_in_flight {
            let end = (outbox.next_event + options.events_per_batch).min(options.events);
            let events: Vec<TaskEvent> = (outbox.next_event..end)
                .map(|i| task_event(&options.task_prefix, i))
                .collect();
            let Ok(seq) = outbox.tracker.send(events.clone()) else {
                break;
            };
            outbox.next_event = end;
            let frame = AgentFrame::EventBatch(EventBatch::new(seq, events));
            if let Err(e) = send(&mut socket, &frame, transcript).await {
                return after_failed_write(&mut socket, e).await;
            }
        }
        if outbox.next_event >= options.events && outbox.tracker.is_empty() {
            transcript
                .note(Side::Agent, "all events acknowledged; closing")
                .await;
            let _ = socket.close(None).await;
            return Ended::Done;
        }
        tokio::select! {
            message = socket.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    transcript.frame_now(Side::Brain, text.as_bytes());
                    if let Some(reply) = receive(text.as_bytes(), outbox, transcript).await {
                        if let Err(e) = send(&mut socket, &reply, transcript).await {
                            return after_failed_write(&mut socket, e).await;
                        }
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    return match frame {
                        Some(frame) => Ended::Closed(u16::from(frame.code)),
                        None => Ended::Lost("closed without a code".into()),
                    };
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Ended::Lost(e.to_string()),
                None => return Ended::Lost("the connection ended".into()),
            },
            _ = heartbeat.tick() => {
                let beat = AgentFrame::Heartbeat(Heartbeat::new(Timestamp::now_utc()));
                if let Err(e) = send(&mut socket, &beat, transcript).await {
                    return after_failed_write(&mut socket, e).await;
                }
            }
        }
    }
}

/// A write failed: the brain may have closed with a reason first (a refused token is
/// closed at once, while `hello` is still being sent), so its close frame is looked for,
/// briefly, before the connection counts as lost.
async fn after_failed_write<S>(socket: &mut S, error: String) -> Ended
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let close = async {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Close(Some(frame)) = message {
                return Some(u16::from(frame.code));
            }
        }
        None
    };
    match tokio::time::timeout(Duration::from_secs(1), close).await {
        Ok(Some(code)) => Ended::Closed(code),
        _ => Ended::Lost(error),
    }
}

/// What a brain frame means; gives the reply to send, if any.
async fn receive(wire: &[u8], outbox: &mut Outbox, transcript: &Transcript) -> Option<AgentFrame> {
    match decode_brain(wire) {
        Ok(BrainFrame::Ack(ack)) => match outbox.tracker.ack(ack.seq) {
            Ok(events) => {
                outbox.report.acked_events += events.len();
                None
            }
            Err(e) => {
                transcript.note(Side::Agent, format!("ignored: {e}")).await;
                None
            }
        },
        Ok(BrainFrame::Command(command)) => {
            outbox.report.commands_answered += 1;
            let result = JsonObject::from_serialize(&serde_json::json!({
                "cmd": command.cmd.as_str(),
                "args": command.args,
                "done": true,
            }))
            .ok()?;
            let result = CommandResult::success(command.cmd_id, Some(result.into()));
            Some(AgentFrame::CommandResult(result))
        }
        Ok(BrainFrame::Error(error)) => {
            let text = format!("brain error {}: {}", error.code, error.message);
            transcript.note(Side::Agent, text).await;
            None
        }
        Ok(_) => None,
        Err(e) => {
            transcript
                .note(Side::Agent, format!("undecodable frame: {e}"))
                .await;
            None
        }
    }
}

/// Encodes and sends `frame` within the write timeout.
async fn send<S>(socket: &mut S, frame: &AgentFrame, transcript: &Transcript) -> Result<(), String>
where
    S: futures_util::Sink<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
{
    let wire = encode_agent(frame);
    transcript.frame_now(Side::Agent, &wire);
    let text = String::from_utf8(wire.to_vec()).map_err(|e| e.to_string())?;
    match tokio::time::timeout(CONNECT_TIMEOUT, socket.send(Message::text(text))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("write timed out".into()),
    }
}

fn hello() -> Hello {
    let pid = u64::from(std::process::id());
    let mut hello = Hello::new(
        "brainwire-example-agent-v1",
        Framework::Bare,
        "0.1",
        Metadata::new("localhost", pid),
    );
    hello.engines = vec!["celery".into()];
    hello.schedulers = vec!["celery-beat".into()];
    hello
}

fn snapshot() -> ScheduleSnapshot {
    let nightly = Schedule::new("nightly-report")
        .with(
            "name",
            JsonValue::from_serialize("app.tasks.report").expect("a string"),
        )
        .with(
            "cron",
            JsonValue::from_serialize("0 3 * * *").expect("a string"),
        );
    ScheduleSnapshot::new("celery-beat", vec![nightly])
}

/// The event kinds the v1 agent reports, in turn.
const KINDS: [TaskEventType; 4] = [
    TaskEventType::Started,
    TaskEventType::Succeeded,
    TaskEventType::Failed,
    TaskEventType::Retry,
];

fn task_event(prefix: &str, i: usize) -> TaskEvent {
    let kind = KINDS[i % KINDS.len()].clone();
    let mut event = TaskEvent::new(
        kind,
        format!("{prefix}-task-{i}"),
        "celery",
        Timestamp::now_utc(),
        "app.tasks.add",
    );
    event.args_redacted = vec![(i as u64).into(), (i as u64 + 1).into()];
    event
}

/// Parses the `agent-v1` command line.
///
/// # Errors
///
/// An unknown argument or a missing value.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> anyhow::Result<AgentV1Options> {
    let (mut url, mut token, mut events) = (None, None, 10usize);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => url = Some(args.next().context("--url needs a URL")?),
            "--token" => token = Some(args.next().context("--token needs TOKEN")?),
            "--events" => {
                events = args
                    .next()
                    .context("--events needs N")?
                    .parse()
                    .context("--events needs a number")?
            }
            other => bail!("unknown argument {other:?}; see the header of examples/agent_v1.rs"),
        }
    }
    let url = url.unwrap_or_else(|| "ws://127.0.0.1:7400/ws".to_owned());
    Ok(AgentV1Options::new(
        url,
        token.context("--token is required")?,
        events,
    ))
}
