//! The checks: each opens its own connection, does one thing a conforming brain accepts
//! or refuses, and compares what the brain did with what document 001 and the deployed
//! brain (z4j 1.13.0) do.

use std::time::Duration;

use brainwire_core::{JsonObject, Timestamp};
use brainwire_sign::{FrameSigner, Secret, SessionBinding, Stamp};
use brainwire_v2::{
    encode, sign, sign_stamped, CommandAck, CommandResult, EventBatch, Frame, Heartbeat, Hello,
    Payload,
};
use serde_json::{json, Value};

use crate::wire::{Connection, Seen, Transcript};

/// The brain under test.
#[derive(Clone)]
pub struct Target {
    /// Its agent endpoint, `ws://` or `wss://`.
    pub url: String,
    /// An agent's bearer token.
    pub token: String,
    /// That agent's project secret.
    pub secret: Secret,
    /// How long the brain has to answer each step (a refusal not seen by then fails).
    pub deadline: Duration,
    /// What the running check sent and saw.
    pub transcript: Transcript,
}

impl Target {
    /// Connects as an agent with `bearer`, into the transcript.
    async fn connect(&self, bearer: &str) -> Result<Connection, Seen> {
        Connection::open(&self.url, bearer, self.deadline, self.transcript.clone()).await
    }
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The brain did what the rule says.
    Pass,
    /// It did something else.
    Fail,
    /// The check could not be run (an earlier step failed).
    Skip,
}

impl Verdict {
    /// As the reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Skip => "skip",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The check's name.
    pub check: &'static str,
    /// The rule it enforces.
    pub rule: &'static str,
    /// Pass, fail or skip.
    pub verdict: Verdict,
    /// What the rule expects.
    pub expected: String,
    /// What the brain did.
    pub observed: String,
    /// Anything else worth knowing.
    pub detail: String,
    /// What the probe sent and saw, in order.
    pub transcript: Vec<String>,
}

impl Outcome {
    /// The JSON line of this result.
    pub fn to_json(&self) -> Value {
        json!({
            "check": self.check,
            "result": self.verdict.as_str(),
            "expected": self.expected,
            "observed": self.observed,
            "detail": self.detail,
            "rule": self.rule,
        })
    }
}

/// A check: its name, the rule it enforces, and what it does.
pub struct Check {
    /// Its name in reports.
    pub name: &'static str,
    /// The rule, by section of document 001 or the reference's behaviour.
    pub rule: &'static str,
    run: fn(&Target) -> std::pin::Pin<Box<dyn std::future::Future<Output = Step> + Send + '_>>,
}

/// What a check's steps led to: the expectation and what was seen.
struct Step {
    expected: String,
    seen: Result<Seen, String>,
    pass: fn(&Seen) -> bool,
    detail: String,
}

impl Check {
    /// Runs the check against `target`.
    pub async fn run(&self, target: &Target) -> Outcome {
        target.transcript.take();
        let step = (self.run)(target).await;
        let (verdict, observed, detail) = match step.seen {
            Ok(seen) => {
                let verdict = if (step.pass)(&seen) {
                    Verdict::Pass
                } else {
                    Verdict::Fail
                };
                (verdict, seen.describe(), step.detail)
            }
            Err(why) => (Verdict::Skip, String::new(), why),
        };
        Outcome {
            check: self.name,
            rule: self.rule,
            verdict,
            expected: step.expected,
            observed,
            detail,
            transcript: target.transcript.take(),
        }
    }
}

/// Every check, in the order they run.
pub fn all() -> Vec<Check> {
    macro_rules! check {
        ($name:literal, $rule:literal, $run:ident) => {
            Check {
                name: $name,
                rule: $rule,
                run: |target| Box::pin($run(target)),
            }
        };
    }
    vec![
        check!(
            "handshake",
            "001 §handshake: hello is answered by hello_ack with the session's ids",
            handshake
        ),
        check!(
            "wrong_token",
            "001 §auth: a bearer token the brain does not know closes with 4401",
            wrong_token
        ),
        check!(
            "first_frame_not_hello",
            "001 §handshake: the first frame must be hello (4400)",
            first_frame_not_hello
        ),
        check!(
            "unsupported_version",
            "001 §versioning: an unsupported protocol_version closes with 4426",
            unsupported_version
        ),
        check!(
            "bad_mac",
            "001 §signing: a signed frame whose MAC does not match closes with 4403",
            bad_mac
        ),
        check!(
            "replayed_frame",
            "001 §replay: a frame sent twice closes with 4403",
            replayed_frame
        ),
        check!(
            "reused_seq",
            "001 §replay: a seq not above the last, with a fresh nonce, closes with 4403",
            reused_seq
        ),
        check!(
            "stale_ts",
            "001 §replay: a ts more than 60 s in the past closes with 4403",
            stale_ts
        ),
        check!(
            "future_ts",
            "001 §replay: a ts more than 60 s in the future closes with 4403",
            future_ts
        ),
        check!(
            "other_session",
            "001 §signing: a frame signed for another session closes with 4403",
            other_session
        ),
        check!(
            "malformed_json",
            "001 §framing: a message that is not JSON closes the session",
            malformed_json
        ),
        check!(
            "binary_message",
            "the deployed brain: a signed frame in a binary message",
            binary_message
        ),
        check!(
            "oversized_frame",
            "001 §limits: a frame over hello_ack's max_frame_size_bytes is refused",
            oversized_frame
        ),
        check!(
            "brain_only_type",
            "001 §frames: a frame type only the brain sends, sent by the agent, closes",
            brain_only_type
        ),
        check!(
            "second_connection",
            "the deployed brain: a second connection of the same agent replaces the first (4002)",
            second_connection
        ),
        check!(
            "batch_acknowledged",
            "001 §events: an event_batch is answered by event_batch_ack naming it",
            batch_acknowledged
        ),
        check!(
            "resent_batch_acknowledged",
            "001 §events: a batch re-sent with its id after a reconnect is acknowledged again",
            resent_batch_acknowledged
        ),
        check!(
            "command_answered",
            "001 §commands: a command answered with command_ack and command_result keeps the session",
            command_answered
        ),
        check!(
            "heartbeat_accepted",
            "001 §heartbeat: a signed heartbeat keeps the session open",
            heartbeat_accepted
        ),
    ]
}

fn closes_with(code: u16) -> fn(&Seen) -> bool {
    match code {
        4400 => |seen| *seen == Seen::Closed(Some(4400)),
        4401 => |seen| *seen == Seen::Closed(Some(4401)),
        4403 => |seen| *seen == Seen::Closed(Some(4403)),
        4426 => |seen| *seen == Seen::Closed(Some(4426)),
        _ => |_| false,
    }
}

fn step(expected: impl Into<String>, seen: Result<Seen, String>, pass: fn(&Seen) -> bool) -> Step {
    Step {
        expected: expected.into(),
        seen,
        pass,
        detail: String::new(),
    }
}

/// The `hello` the probe sends: what the reference agent sends, minus what the brain
/// does not need.
pub(crate) fn hello() -> Hello {
    let mut hello = Hello::new(
        concat!("brainwire-probe/", env!("CARGO_PKG_VERSION")),
        "bare",
    );
    hello.engines = vec!["celery".into()];
    hello
}

fn hello_text(hello: Hello) -> String {
    String::from_utf8_lossy(&encode(&Frame::new("probe-hello", Payload::Hello(hello)))).into_owned()
}

/// An established session: the connection and the binding its MACs cover.
struct Session {
    connection: Connection,
    binding: SessionBinding,
}

/// Connects, says hello, and reads `hello_ack`.
async fn establish(target: &Target) -> Result<Session, String> {
    let mut connection = target
        .connect(&target.token)
        .await
        .map_err(|seen| format!("could not connect: {}", seen.describe()))?;
    connection
        .send_text(hello_text(hello()))
        .await
        .map_err(|seen| format!("hello not sent: {}", seen.describe()))?;
    match connection.next(target.deadline).await {
        Seen::Frame(text) => match brainwire_v2::decode(text.as_bytes()) {
            Ok(Frame {
                payload: Payload::HelloAck(ack),
                ..
            }) => Ok(Session {
                connection,
                binding: SessionBinding::new(ack.agent_id, ack.project_id, ack.session_id),
            }),
            _ => Err(format!("hello answered with {text}")),
        },
        other => Err(format!("hello answered with {}", other.describe())),
    }
}

fn heartbeat() -> Payload {
    Payload::Heartbeat(Heartbeat::default())
}

/// A heartbeat signed for `binding` with `stamp`.
fn signed_heartbeat(target: &Target, binding: &SessionBinding, stamp: &Stamp) -> String {
    let signer = FrameSigner::new(target.secret.clone(), binding.clone());
    let wire = sign_stamped(
        &signer,
        stamp,
        &format!("probe-hb-{}", stamp.seq),
        &heartbeat(),
    )
    .unwrap_or_default();
    String::from_utf8_lossy(&wire).into_owned()
}

fn stamp(ts: Timestamp, seq: u64) -> Stamp {
    Stamp {
        ts,
        nonce: uuid::Uuid::new_v4().simple().to_string()[..22].to_owned(),
        seq,
    }
}

/// Sends `frames` on an established session, then sees what the brain does.
async fn after_handshake(
    target: &Target,
    frames: impl FnOnce(&SessionBinding) -> Vec<String>,
) -> Result<Seen, String> {
    let mut session = establish(target).await?;
    for frame in frames(&session.binding) {
        if let Err(seen) = session.connection.send_text(frame).await {
            return Ok(seen);
        }
    }
    Ok(session
        .connection
        .next_frame_except(&["heartbeat_ack", "command", "hello_ack"])
        .await)
}

async fn handshake(target: &Target) -> Step {
    let seen = match establish(target).await {
        Ok(session) => Ok(Seen::Frame(format!(
            r#"{{"type":"hello_ack","session_id":"{}"}}"#,
            session.binding.session_id
        ))),
        Err(why) => Ok(Seen::Failed(why)),
    };
    step("frame hello_ack", seen, |seen| {
        matches!(seen, Seen::Frame(_))
    })
}

async fn wrong_token(target: &Target) -> Step {
    let seen = match target.connect("brainwire-probe-not-a-token").await {
        Ok(mut connection) => {
            // The deployed brain reads the token before any frame; send hello in case
            // a brain waits for one.
            let _ = connection.send_text(hello_text(hello())).await;
            connection.next(target.deadline).await
        }
        Err(seen) => seen,
    };
    step("close 4401", Ok(seen), closes_with(4401))
}

async fn first_frame_not_hello(target: &Target) -> Step {
    let seen = match target.connect(&target.token).await {
        Ok(mut connection) => {
            let frame = encode(&Frame::new("probe-hb", heartbeat()));
            match connection.send_text(String::from_utf8_lossy(&frame)).await {
                Ok(()) => connection.next(target.deadline).await,
                Err(seen) => seen,
            }
        }
        Err(seen) => seen,
    };
    step("close 4400", Ok(seen), closes_with(4400))
}

async fn unsupported_version(target: &Target) -> Step {
    let seen = match target.connect(&target.token).await {
        Ok(mut connection) => {
            let mut hello = hello();
            hello.protocol_version = "99".into();
            match connection.send_text(hello_text(hello)).await {
                Ok(()) => connection.next(target.deadline).await,
                Err(seen) => seen,
            }
        }
        Err(seen) => seen,
    };
    step("close 4426", Ok(seen), closes_with(4426))
}

async fn bad_mac(target: &Target) -> Step {
    let seen = after_handshake(target, |binding| {
        let frame = signed_heartbeat(target, binding, &stamp(Timestamp::now_utc(), 1));
        // Flip one hex digit of the MAC.
        let flipped = match frame.find(r#""hmac":""#) {
            Some(at) => {
                let digit = at + r#""hmac":""#.len();
                let mut bytes = frame.into_bytes();
                bytes[digit] = if bytes[digit] == b'0' { b'1' } else { b'0' };
                String::from_utf8_lossy(&bytes).into_owned()
            }
            None => frame,
        };
        vec![flipped]
    })
    .await;
    step("close 4403", seen, closes_with(4403))
}

async fn replayed_frame(target: &Target) -> Step {
    let seen = after_handshake(target, |binding| {
        let frame = signed_heartbeat(target, binding, &stamp(Timestamp::now_utc(), 1));
        vec![frame.clone(), frame]
    })
    .await;
    step("close 4403", seen, closes_with(4403))
}

async fn reused_seq(target: &Target) -> Step {
    let seen = after_handshake(target, |binding| {
        let now = Timestamp::now_utc();
        vec![
            signed_heartbeat(target, binding, &stamp(now, 1)),
            signed_heartbeat(target, binding, &stamp(now, 1)),
        ]
    })
    .await;
    step("close 4403", seen, closes_with(4403))
}

/// `now` moved by `seconds`.
fn shifted(seconds: i64) -> Timestamp {
    let now = Timestamp::now_utc();
    i64::try_from(now.unix_micros() + i128::from(seconds) * 1_000_000)
        .ok()
        .and_then(|micros| Timestamp::from_unix_micros(micros).ok())
        .unwrap_or(now)
}

async fn stale_ts(target: &Target) -> Step {
    let seen = after_handshake(target, |binding| {
        vec![signed_heartbeat(target, binding, &stamp(shifted(-300), 1))]
    })
    .await;
    step("close 4403", seen, closes_with(4403))
}

async fn future_ts(target: &Target) -> Step {
    let seen = after_handshake(target, |binding| {
        vec![signed_heartbeat(target, binding, &stamp(shifted(300), 1))]
    })
    .await;
    step("close 4403", seen, closes_with(4403))
}

async fn other_session(target: &Target) -> Step {
    let seen = after_handshake(target, |binding| {
        let mut other = binding.clone();
        other.session_id = uuid::Uuid::new_v4().to_string();
        vec![signed_heartbeat(
            target,
            &other,
            &stamp(Timestamp::now_utc(), 1),
        )]
    })
    .await;
    step("close 4403", seen, closes_with(4403))
}

async fn batch_acknowledged(target: &Target) -> Step {
    let seen = match establish(target).await {
        Ok(mut session) => send_batch(target, &mut session, "probe-batch-1").await,
        Err(why) => return step("frame event_batch_ack", Err(why), |_| false),
    };
    let mut outcome = step("frame event_batch_ack", Ok(seen.clone()), |seen| {
        acks(seen, "probe-batch-1")
    });
    if let Seen::Frame(text) = seen {
        outcome.detail = text;
    }
    outcome
}

async fn heartbeat_accepted(target: &Target) -> Step {
    heartbeat_keeps_the_session(target, false).await
}

/// Sends a signed heartbeat (as a binary message when `binary`) on a fresh session and
/// sees whether the session is still open a second later (an answer is fine too).
async fn heartbeat_keeps_the_session(target: &Target, binary: bool) -> Step {
    let seen = match establish(target).await {
        Ok(mut session) => {
            let frame = signed_heartbeat(target, &session.binding, &stamp(Timestamp::now_utc(), 1));
            let sent = if binary {
                session.connection.send_binary(frame).await
            } else {
                session.connection.send_text(frame).await
            };
            match sent {
                Ok(()) => match session.connection.next(Duration::from_secs(1)).await {
                    Seen::Frame(_) | Seen::Silent => Seen::Silent,
                    other => other,
                },
                Err(seen) => seen,
            }
        }
        Err(why) => Seen::Failed(why),
    };
    step("nothing (the session stays open)", Ok(seen), |seen| {
        *seen == Seen::Silent
    })
}

async fn malformed_json(target: &Target) -> Step {
    let seen = after_handshake(target, |_| vec!["{not json".to_owned()]).await;
    // Document 001 names no code; brainwire closes with 4400 (malformed), the deployed
    // brain with 1011 (its error path). Either refuses the frame.
    step("close 4400 (the deployed brain: 1011)", seen, |seen| {
        matches!(seen, Seen::Closed(Some(4400 | 1011)))
    })
}

async fn binary_message(target: &Target) -> Step {
    heartbeat_keeps_the_session(target, true).await
}

async fn oversized_frame(target: &Target) -> Step {
    let mut session = match establish(target).await {
        Ok(session) => session,
        Err(why) => return step("close", Err(why), |_| false),
    };
    // Past hello_ack's limit (the deployed brain says 1 MiB): 9 events of 128 KiB.
    let big = "x".repeat(128 * 1024);
    let events = (0..9)
        .map(|i| {
            JsonObject::from_serialize(&json!({"task_id": format!("probe-big-{i}"), "kind": "task.started", "data": {"blob": big}}))
                .unwrap_or_default()
        })
        .collect();
    let mut signer = FrameSigner::new(target.secret.clone(), session.binding.clone());
    let payload = Payload::EventBatch(EventBatch::new(events));
    let wire = sign(&mut signer, "probe-big-batch", &payload).unwrap_or_default();
    let seen = match session
        .connection
        .send_text(String::from_utf8_lossy(&wire))
        .await
    {
        Ok(()) => {
            session
                .connection
                .next_frame_except(&["heartbeat_ack", "command"])
                .await
        }
        Err(seen) => seen,
    };
    // 1009 (message too big) or 4400 (malformed) from brainwire, 1011 from the deployed
    // brain: each refuses the frame.
    step(
        "close 1009 or 4400 (the deployed brain: 1011)",
        Ok(seen),
        |seen| matches!(seen, Seen::Closed(Some(1009 | 4400 | 1011))),
    )
}

async fn brain_only_type(target: &Target) -> Step {
    let seen = after_handshake(target, |binding| {
        let mut signer = FrameSigner::new(target.secret.clone(), binding.clone());
        let ack = brainwire_v2::EventBatchAck::new("probe-batch", 1, 1, 0);
        let wire = sign(&mut signer, "probe-ack", &Payload::EventBatchAck(ack)).unwrap_or_default();
        vec![String::from_utf8_lossy(&wire).into_owned()]
    })
    .await;
    // Never acted upon: brainwire closes with 4400, the deployed brain ignores it and
    // keeps the session (a frame in answer, or another close code, fails).
    step(
        "close 4400, or nothing (the deployed brain ignores it)",
        seen,
        |seen| matches!(seen, Seen::Closed(Some(4400)) | Seen::Silent),
    )
}

async fn second_connection(target: &Target) -> Step {
    let mut first = match establish(target).await {
        Ok(session) => session,
        Err(why) => return step("close 4002", Err(why), |_| false),
    };
    let seen = match establish(target).await {
        Ok(_second) => first.connection.next(target.deadline).await,
        Err(why) => Seen::Failed(why),
    };
    step("close 4002 on the first", Ok(seen), |seen| {
        *seen == Seen::Closed(Some(4002))
    })
}

/// Sends the one-event batch `id` on `session`; gives what the brain answered.
async fn send_batch(target: &Target, session: &mut Session, id: &str) -> Seen {
    let event = task_event(format!("probe-{id}"));
    let mut signer = FrameSigner::new(target.secret.clone(), session.binding.clone());
    let payload = Payload::EventBatch(EventBatch::new(vec![event]));
    let wire = sign(&mut signer, id, &payload).unwrap_or_default();
    match session
        .connection
        .send_text(String::from_utf8_lossy(&wire))
        .await
    {
        Ok(()) => {
            session
                .connection
                .next_frame_except(&["heartbeat_ack", "command"])
                .await
        }
        Err(seen) => seen,
    }
}

/// A `task.started` event of `task_id` in the shape the deployed brain stores
/// (`z4j_core.models.Event`; the brain takes the project and agent from the session).
pub(crate) fn task_event(task_id: String) -> JsonObject {
    JsonObject::from_serialize(&json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "engine": "celery",
        "task_id": task_id,
        "kind": "task.started",
        "occurred_at": Timestamp::now_utc().to_string(),
        "data": {"name": "brainwire.probe"},
    }))
    .unwrap_or_default()
}

/// Whether `seen` is the `event_batch_ack` of batch `id`.
fn acks(seen: &Seen, id: &str) -> bool {
    let Seen::Frame(text) = seen else {
        return false;
    };
    serde_json::from_str::<Value>(text)
        .is_ok_and(|v| v["type"] == "event_batch_ack" && v["payload"]["acked_id"] == id)
}

async fn resent_batch_acknowledged(target: &Target) -> Step {
    let id = format!("probe-resent-{}", uuid::Uuid::new_v4().simple());
    let first = match establish(target).await {
        Ok(mut session) => send_batch(target, &mut session, &id).await,
        Err(why) => return step("frame event_batch_ack", Err(why), |_| false),
    };
    if !acks(&first, &id) {
        return step(
            "frame event_batch_ack",
            Err(format!(
                "the first send was answered with {}",
                first.describe()
            )),
            |_| false,
        );
    }
    let seen = match establish(target).await {
        Ok(mut session) => send_batch(target, &mut session, &id).await,
        Err(why) => Seen::Failed(why),
    };
    let mut outcome = step("frame event_batch_ack", Ok(seen.clone()), |seen| {
        matches!(seen, Seen::Frame(_))
    });
    if !acks(&seen, &id) {
        outcome.pass = |_| false;
    }
    outcome
}

async fn command_answered(target: &Target) -> Step {
    const EXPECTED: &str = "nothing (the session stays open)";
    let mut session = match establish(target).await {
        Ok(session) => session,
        Err(why) => return step(EXPECTED, Err(why), |_| false),
    };
    // A brain may command an agent once it reports (the example brain does after the
    // first batch); the deployed brain commands only when an operator asks.
    let mut signer = FrameSigner::new(target.secret.clone(), session.binding.clone());
    let batch = Payload::EventBatch(EventBatch::new(vec![task_event("probe-command".into())]));
    let wire = sign(&mut signer, "probe-command-batch", &batch).unwrap_or_default();
    if let Err(seen) = session
        .connection
        .send_text(String::from_utf8_lossy(&wire))
        .await
    {
        return step(EXPECTED, Ok(seen), |_| false);
    }
    // One deadline for the command, however many other frames come first.
    let until = tokio::time::Instant::now() + target.deadline;
    let (id, token) = loop {
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        match session.connection.next(left).await {
            Seen::Frame(text) => match brainwire_v2::decode(text.as_bytes()) {
                Ok(Frame {
                    id,
                    payload: Payload::Command(command),
                    ..
                }) => break (id, command.delivery_claim_token),
                _ => continue,
            },
            Seen::Silent => {
                let why = "the brain sent no command within the deadline".to_owned();
                return step(EXPECTED, Err(why), |_| false);
            }
            other => return step(EXPECTED, Ok(other), |_| false),
        }
    };
    let ack = Payload::CommandAck(CommandAck::new(token.clone()));
    let mut result = CommandResult::success(None);
    result.delivery_claim_token = token;
    let mut seen = Seen::Silent;
    for payload in [ack, Payload::CommandResult(result)] {
        let wire = sign(&mut signer, &id, &payload).unwrap_or_default();
        if let Err(refused) = session
            .connection
            .send_text(String::from_utf8_lossy(&wire))
            .await
        {
            seen = refused;
            break;
        }
    }
    if seen == Seen::Silent {
        seen = match session.connection.next(Duration::from_secs(1)).await {
            Seen::Frame(_) | Seen::Silent => Seen::Silent,
            other => other,
        };
    }
    let mut outcome = step(EXPECTED, Ok(seen), |seen| *seen == Seen::Silent);
    outcome.detail = format!("answered command {id}");
    outcome
}
