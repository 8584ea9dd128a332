//! Agent and brain sessions driven against each other on simulated time.

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use brainwire_close::NamesCloseCode;
use brainwire_close::{Backoff, Closing, Reconnect, ReconnectPolicy};
use brainwire_core::{JsonObject, Timestamp, WallClock};
use brainwire_sign::{Keyring, Secret, SharedNonces};
use brainwire_v2::*;

const START_MICROS: i64 = 1_800_000_000_000_000;

/// A simulated clock: `Instant` for timers, wall time for signatures, moved together.
struct Clock {
    start: Instant,
    offset: Arc<AtomicI64>,
}

impl Clock {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            offset: Arc::new(AtomicI64::new(0)),
        }
    }
    fn now(&self) -> Instant {
        self.start + Duration::from_micros(self.offset.load(Ordering::SeqCst) as u64)
    }
    fn wall(&self) -> Timestamp {
        Timestamp::from_unix_micros(START_MICROS + self.offset.load(Ordering::SeqCst)).unwrap()
    }
    fn advance(&self, by: Duration) {
        self.offset
            .fetch_add(by.as_micros() as i64, Ordering::SeqCst);
    }
    /// Simulated wall time and counting nonces: a session on these is deterministic.
    fn sources(&self, prefix: &str) -> Sources {
        let offset = self.offset.clone();
        let wall = WallClock::new(move || {
            Timestamp::from_unix_micros(START_MICROS + offset.load(Ordering::SeqCst)).unwrap()
        });
        let mut counter = 0u128;
        let nonces = SharedNonces::new(move |bytes: &mut [u8; 16]| {
            counter += 1;
            *bytes = counter.to_be_bytes();
        });
        Sources::new(prefix, wall, nonces)
    }
}

fn secret() -> Secret {
    Secret::new(b"session-test-secret-0123456789ab".to_vec()).unwrap()
}

/// The brain's registry: one agent token, the project's keyring.
struct Registry(Keyring);

impl AgentAuthority for Registry {
    fn authorize(&self, bearer: &str) -> Option<AgentGrant> {
        (bearer == "good-token").then(|| AgentGrant {
            agent_id: "agent-1".into(),
            project_id: "project-1".into(),
            keys: self.0.clone(),
        })
    }
}

fn registry() -> Registry {
    Registry(Keyring::new(secret()))
}

/// An agent, a brain connection, and what crossed between them.
struct Pair {
    clock: Clock,
    registry: Registry,
    brain_config: BrainConfig,
    agent: AgentSession,
    brain: BrainSession,
    connections: u32,
    /// Frames the brain received, as sent (for replay tests).
    to_brain: Vec<Vec<u8>>,
    /// Frames the agent received, as sent.
    to_agent: Vec<Vec<u8>>,
    brain_events: Vec<BrainEvent>,
    agent_events: Vec<AgentEvent>,
    /// Batches the brain application has seen, for de-duplication.
    seen_batches: HashSet<String>,
    delivered_events: Vec<String>,
    auto_ack: bool,
}

impl Pair {
    fn new() -> Self {
        Self::with(secret(), registry(), BrainConfig::new("brain-1"))
    }

    /// An agent holding `agent_secret` against a brain with `registry` and `brain_config`.
    fn with(agent_secret: Secret, registry: Registry, brain_config: BrainConfig) -> Self {
        let clock = Clock::new();
        let agent = AgentSession::new(
            AgentConfig::new(Hello::new("1.0.0", "bare")),
            agent_secret,
            clock.sources("agent"),
        );
        let brain = Self::accept(&clock, &registry, brain_config.clone(), 1);
        let mut pair = Self {
            clock,
            registry,
            brain_config,
            agent,
            brain,
            connections: 1,
            to_brain: Vec::new(),
            to_agent: Vec::new(),
            brain_events: Vec::new(),
            agent_events: Vec::new(),
            seen_batches: HashSet::new(),
            delivered_events: Vec::new(),
            auto_ack: true,
        };
        pair.agent.connect(pair.clock.now(), pair.clock.wall());
        pair.drive();
        pair
    }

    fn accept(clock: &Clock, registry: &Registry, config: BrainConfig, n: u32) -> BrainSession {
        BrainSession::accept(
            clock.now(),
            Some("good-token"),
            registry,
            format!("session-{n}"),
            config,
            clock.sources("brain"),
        )
    }

    /// Reconnects the agent to a fresh brain session.
    fn reconnect(&mut self) {
        self.agent.handle_disconnect();
        self.connections += 1;
        self.brain = Self::accept(
            &self.clock,
            &self.registry,
            self.brain_config.clone(),
            self.connections,
        );
        self.agent.connect(self.clock.now(), self.clock.wall());
        self.drive();
    }

    /// Moves frames both ways until nothing moves; the brain app acks every batch and
    /// de-duplicates by batch id.
    fn drive(&mut self) {
        loop {
            let mut moved = false;
            while let Some(frame) = self.agent.poll_transmit() {
                moved = true;
                self.to_brain.push(frame.to_vec());
                self.brain
                    .handle_message(self.clock.now(), self.clock.wall(), &frame);
            }
            while let Some(event) = self.brain.poll_event() {
                moved = true;
                if let BrainEvent::EventBatch { batch_id, events } = &event {
                    if self.seen_batches.insert(batch_id.clone()) {
                        self.delivered_events
                            .extend(events.iter().map(|e| e.as_str().to_owned()));
                    }
                    if self.auto_ack {
                        self.brain
                            .ack_batch(batch_id, events.len() as u64, events.len() as u64, 0)
                            .unwrap();
                    }
                }
                self.brain_events.push(event);
            }
            while let Some(frame) = self.brain.poll_transmit() {
                moved = true;
                self.to_agent.push(frame.to_vec());
                self.agent
                    .handle_message(self.clock.now(), self.clock.wall(), &frame);
            }
            while let Some(event) = self.agent.poll_event() {
                moved = true;
                self.agent_events.push(event);
            }
            if !moved {
                return;
            }
        }
    }

    /// Advances time to each due timer up to `by`, driving after each.
    fn run_for(&mut self, by: Duration) {
        let end = self.clock.now() + by;
        loop {
            let next = [self.agent.poll_timeout(), self.brain.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) if t <= end => {
                    let now = self.clock.now();
                    if t > now {
                        self.clock.advance(t - now);
                    }
                    self.agent.handle_timeout(self.clock.now());
                    self.brain.handle_timeout(self.clock.now());
                    self.drive();
                }
                _ => {
                    let now = self.clock.now();
                    self.clock.advance(end.saturating_duration_since(now));
                    return;
                }
            }
        }
    }

    fn queue(&mut self, n: usize, tag: &str) {
        for i in 0..n {
            let event = JsonObject::from_text(format!(
                r#"{{"task_id":"{tag}-{i}","event_type":"task_succeeded"}}"#
            ))
            .unwrap();
            self.agent.queue_event(self.clock.now(), event).unwrap();
        }
    }
}

#[test]
fn handshake_binds_both_sides_to_one_session() {
    let pair = Pair::new();
    assert!(pair.agent.is_established());
    assert!(
        matches!(&pair.brain_events[0], BrainEvent::Hello { binding, .. } if binding.session_id == "session-1")
    );
    assert!(
        matches!(&pair.agent_events[0], AgentEvent::Connected { binding, heartbeat_interval, .. }
        if binding.agent_id == "agent-1" && *heartbeat_interval == Duration::from_secs(10))
    );
}

#[test]
fn events_are_batched_acked_and_released() {
    let mut pair = Pair::new();
    pair.queue(1203, "e");
    // 1203 events: two full batches at once, the remainder after the linger.
    assert_eq!(pair.agent.held_events(), 1203);
    pair.drive();
    assert_eq!(pair.delivered_events.len(), 1000);
    pair.run_for(Duration::from_millis(150));
    assert_eq!(pair.delivered_events.len(), 1203);
    assert_eq!(pair.agent.held_events(), 0);
    let sizes: Vec<usize> = pair
        .agent_events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::BatchAcked { events, .. } => Some(*events),
            _ => None,
        })
        .collect();
    assert_eq!(sizes, [500, 500, 203]);
}

#[test]
fn a_lost_connection_loses_and_duplicates_nothing() {
    let mut pair = Pair::new();
    pair.auto_ack = false;
    pair.queue(1200, "a");
    pair.run_for(Duration::from_millis(150));
    // All three batches reached the brain, none was acknowledged: the connection drops.
    assert_eq!(pair.seen_batches.len(), 3);
    pair.auto_ack = true;
    pair.queue(10, "b");
    pair.reconnect();
    pair.run_for(Duration::from_millis(150));
    // After de-duplication by batch id, every event arrived exactly once, in order.
    let expected: Vec<String> = (0..1200)
        .map(|i| format!("a-{i}"))
        .chain((0..10).map(|i| format!("b-{i}")))
        .collect();
    let got: Vec<String> = pair
        .delivered_events
        .iter()
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(e).unwrap()["task_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(got, expected);
    assert_eq!(pair.agent.held_events(), 0);
    // The re-sent batches kept their ids and went out first on the new session.
    let resent: Vec<&String> = pair
        .brain_events
        .iter()
        .filter_map(|e| match e {
            BrainEvent::EventBatch { batch_id, .. } => Some(batch_id),
            _ => None,
        })
        .collect();
    assert_eq!(resent[3..6], resent[0..3]);
}

#[test]
fn commands_are_acked_at_once_and_completed_later() {
    let mut pair = Pair::new();
    let target = JsonObject::from_text(r#"{"task_id":"t-1"}"#).unwrap();
    let command_id = pair
        .brain
        .send_command(Command::new("cancel_task", target))
        .unwrap();
    pair.drive();
    let (received_id, token) = pair
        .agent_events
        .iter()
        .find_map(|e| match e {
            AgentEvent::Command {
                command_id,
                command,
            } => Some((command_id.clone(), command.delivery_claim_token.clone())),
            _ => None,
        })
        .expect("the agent got the command");
    assert_eq!(received_id, command_id);
    assert!(
        token.is_some(),
        "the brain gives every command a delivery token"
    );
    // As the reference agent's, the ack carries the command's id as its own frame id.
    let sent = |pair: &Pair, frame_type: FrameType| {
        pair.to_brain
            .iter()
            .map(|f| decode(f).unwrap())
            .find(|f| f.frame_type() == frame_type)
            .unwrap()
    };
    assert_eq!(sent(&pair, FrameType::CommandAck).id, command_id);
    assert!(pair.brain_events.contains(&BrainEvent::CommandAcked {
        command_id: command_id.clone()
    }));
    pair.agent
        .complete_command(&received_id, CommandResult::success(None))
        .unwrap();
    pair.drive();
    let result = sent(&pair, FrameType::CommandResult);
    assert_eq!(result.id, command_id);
    // The session kept the command's delivery token and echoes it without being told.
    let Payload::CommandResult(result) = result.payload else {
        unreachable!()
    };
    assert_eq!(result.delivery_claim_token, token);
    assert!(pair.brain_events.iter().any(|e| matches!(e,
        BrainEvent::CommandCompleted { command_id: id, result } if *id == command_id && result.status == CommandStatus::Success)));
}

#[test]
fn an_answer_to_no_pending_command_completes_nothing() {
    let mut pair = Pair::new();
    let target = JsonObject::from_text(r#"{"task_id":"t-1"}"#).unwrap();
    let first = pair
        .brain
        .send_command(Command::new("cancel_task", target.clone()))
        .unwrap();
    let second = pair
        .brain
        .send_command(Command::new("cancel_task", target))
        .unwrap();
    pair.drive();
    let answered = |pair: &Pair| -> Vec<String> {
        pair.brain_events
            .iter()
            .filter_map(|e| match e {
                BrainEvent::CommandCompleted { command_id, .. } => Some(command_id.clone()),
                _ => None,
            })
            .collect()
    };
    // A result under an id the brain never sent, with no delivery token: a stray.
    pair.agent
        .complete_command("no-such-command", CommandResult::success(None))
        .unwrap();
    pair.drive();
    assert!(
        answered(&pair).is_empty(),
        "a stray result completes nothing"
    );
    assert!(pair.brain.is_open());
    // Both commands are still pending and complete under their own ids, in any order.
    pair.agent
        .complete_command(&second, CommandResult::success(None))
        .unwrap();
    pair.agent
        .complete_command(&first, CommandResult::success(None))
        .unwrap();
    pair.drive();
    assert_eq!(answered(&pair), [second, first]);
}

#[test]
fn heartbeats_keep_the_connection_alive_and_silence_closes_it_with_4408() {
    let mut pair = Pair::new();
    pair.run_for(Duration::from_secs(95));
    let beats = pair
        .brain_events
        .iter()
        .filter(|e| matches!(e, BrainEvent::Heartbeat(_)))
        .count();
    assert_eq!(beats, 9);
    assert!(pair.brain.is_open());

    // A silent agent: nothing crosses, the brain's idle timer fires.
    let clock = Clock::new();
    let mut brain = BrainSession::accept(
        clock.now(),
        Some("good-token"),
        &registry(),
        "s",
        BrainConfig::new("b"),
        clock.sources("b"),
    );
    let mut agent = AgentSession::new(
        AgentConfig::new(Hello::new("1", "bare")),
        secret(),
        clock.sources("a"),
    );
    agent.connect(clock.now(), clock.wall());
    brain.handle_message(clock.now(), clock.wall(), &agent.poll_transmit().unwrap());
    assert!(brain.poll_close().is_none(), "hello is accepted");
    clock.advance(Duration::from_secs(31));
    brain.handle_timeout(clock.now());
    let closing = brain.poll_close().unwrap();
    assert!(matches!(closing.error, SessionError::IdleTimeout));
    assert_eq!(closing.frame.code(), 4408);
}

#[test]
fn a_replayed_or_tampered_frame_closes_with_4403() {
    let mut pair = Pair::new();
    pair.queue(1, "r");
    pair.run_for(Duration::from_millis(150));
    let batch = pair
        .to_brain
        .iter()
        .rev()
        .find(|f| f.windows(13).any(|w| w == b"\"event_batch\""))
        .unwrap()
        .clone();
    pair.brain
        .handle_message(pair.clock.now(), pair.clock.wall(), &batch);
    let closing = pair.brain.poll_close().unwrap();
    assert!(matches!(closing.error, SessionError::Verify(_)));
    assert_eq!(closing.frame.code(), 4403);
    // The fatal error surfaces once, and a closed session ignores what follows.
    assert!(pair.brain.poll_close().is_none());
    pair.brain
        .handle_message(pair.clock.now(), pair.clock.wall(), &batch);
    assert!(pair.brain.poll_close().is_none());
    assert!(!pair.brain.is_open());

    let mut pair = Pair::new();
    pair.queue(1, "t");
    pair.agent.flush(pair.clock.now());
    let frame = pair.agent.poll_transmit().unwrap();
    let tampered = String::from_utf8(frame.to_vec())
        .unwrap()
        .replace("t-0", "t-9");
    pair.brain
        .handle_message(pair.clock.now(), pair.clock.wall(), tampered.as_bytes());
    let closing = pair.brain.poll_close().unwrap();
    assert!(matches!(
        closing.error,
        SessionError::Verify(brainwire_sign::VerifyError::BadSignature)
    ));
    assert_eq!(closing.frame.code(), 4403);
}

#[test]
fn handshake_refusals_carry_the_brains_codes() {
    let clock = Clock::new();
    let accept = |bearer| {
        BrainSession::accept(
            clock.now(),
            bearer,
            &registry(),
            "s",
            BrainConfig::new("b"),
            clock.sources("b"),
        )
    };

    let code = |closing: Option<Closing<SessionError>>| closing.unwrap().frame.code();
    assert_eq!(code(accept(Some("stolen")).poll_close()), 4401);
    assert_eq!(code(accept(None).poll_close()), 4401);

    let mut brain = accept(Some("good-token"));
    let mut hello = Hello::new("1", "bare");
    hello.protocol_version = "1".into();
    let wire = encode(&Frame::new("h", Payload::Hello(hello)));
    brain.handle_message(clock.now(), clock.wall(), &wire);
    let closing = brain.poll_close().unwrap();
    assert!(matches!(
        closing.error,
        SessionError::UnsupportedProtocol { .. }
    ));
    assert_eq!(closing.frame.code(), 4426);

    let mut brain = accept(Some("good-token"));
    let wire = encode(&Frame::new("x", Payload::Heartbeat(Heartbeat::default())));
    brain.handle_message(clock.now(), clock.wall(), &wire);
    let closing = brain.poll_close().unwrap();
    assert!(matches!(
        closing.error,
        SessionError::Unexpected {
            frame_type: "heartbeat"
        }
    ));
    assert_eq!(closing.frame.code(), 4400);

    let mut brain = accept(Some("good-token"));
    brain.handle_message(clock.now(), clock.wall(), b"not json");
    let closing = brain.poll_close().unwrap();
    assert!(matches!(closing.error, SessionError::Decode(_)));
    assert_eq!(closing.error.close_code().code(), 4400);
    assert_eq!(closing.frame.code(), 4400);

    let mut brain = accept(Some("good-token"));
    clock.advance(Duration::from_secs(11));
    brain.handle_timeout(clock.now());
    assert_eq!(code(brain.poll_close()), 4400);
}

#[test]
fn oversized_and_overflowing_events_are_handed_back() {
    let clock = Clock::new();
    let mut config = AgentConfig::new(Hello::new("1", "bare"));
    config.max_buffered_events = 2;
    let mut agent = AgentSession::new(config, secret(), clock.sources("a"));
    let big = JsonObject::from_text(format!(r#"{{"x":"{}"}}"#, "y".repeat(1_048_576))).unwrap();
    assert!(
        matches!(agent.queue_event(clock.now(), big.clone()), Err(QueueError::TooLarge { event, .. }) if event == big)
    );
    let small = JsonObject::from_text("{}").unwrap();
    agent.queue_event(clock.now(), small.clone()).unwrap();
    agent.queue_event(clock.now(), small.clone()).unwrap();
    assert!(matches!(
        agent.queue_event(clock.now(), small),
        Err(QueueError::Full { held: 2, .. })
    ));
}

/// Found by the `v2_sessions` fuzz target: an event with a duplicate key was queued, its
/// batch could never be signed, and the next timeout looped on it forever.
#[test]
fn unsignable_events_are_handed_back_and_the_rest_still_flow() {
    let clock = Clock::new();
    let mut agent = AgentSession::new(
        AgentConfig::new(Hello::new("1", "bare")),
        secret(),
        clock.sources("a"),
    );
    for text in [
        r#"{"type":"a","type":"b"}"#,
        r#"{"s":"\ud800"}"#,
        r#"{"n":1e400}"#,
    ] {
        let event = JsonObject::from_text(text).unwrap();
        let refused = agent.queue_event(clock.now(), event.clone());
        assert!(
            matches!(&refused, Err(QueueError::Unsignable { event: e, .. }) if *e == event),
            "{text}: {refused:?}"
        );
    }
    assert_eq!(agent.held_events(), 0);
    agent
        .queue_event(clock.now(), JsonObject::from_text(r#"{"ok":1}"#).unwrap())
        .unwrap();
    assert_eq!(agent.held_events(), 1);
}

#[test]
fn sessions_can_move_between_threads() {
    fn is_send<T: Send>() {}
    is_send::<AgentSession>();
    is_send::<BrainSession>();
}

/// A brain that never answers `hello` is slow, not misconfigured: the agent closes with a
/// code its reconnect policy retries, where 4400 would have stopped it for good.
#[test]
fn an_unanswered_hello_closes_with_a_code_worth_retrying() {
    let clock = Clock::new();
    let mut agent = AgentSession::new(
        AgentConfig::new(Hello::new("1", "bare")),
        secret(),
        clock.sources("a"),
    );
    agent.connect(clock.now(), clock.wall());
    let _hello = agent.poll_transmit().unwrap();
    clock.advance(Duration::from_secs(11));
    agent.handle_timeout(clock.now());
    // The socket drops before the application polls: the error is not lost.
    agent.handle_disconnect();
    let closing = agent.poll_close().unwrap();
    assert!(matches!(closing.error, SessionError::HelloAckTimeout));
    assert_eq!(closing.frame.code(), 1001);
    let mut policy = ReconnectPolicy::new(Backoff::default());
    let code = brainwire_close::v2::CloseCode::from(closing.frame.code());
    assert!(matches!(policy.on_close(code), Reconnect::RetryAfter(_)));
}

/// Time and nonces come only from the sources: two runs on the same simulated clock and
/// seeded nonces put the same bytes on the wire.
#[test]
fn sessions_on_seeded_sources_are_deterministic() {
    let run = || {
        let mut pair = Pair::new();
        pair.queue(3, "d");
        pair.run_for(Duration::from_secs(25));
        let target = JsonObject::from_text(r#"{"task_id":"t-1"}"#).unwrap();
        pair.brain
            .send_command(Command::new("cancel_task", target))
            .unwrap();
        pair.drive();
        pair.to_brain
    };
    let first = run();
    assert!(first.len() >= 5, "hello, a batch, heartbeats, command_ack");
    assert_eq!(first, run());
}

/// `n` events of about `bytes` bytes each, tagged `tag`.
fn large_events(n: usize, bytes: usize, tag: &str) -> Vec<JsonObject> {
    let blob = "x".repeat(bytes);
    (0..n)
        .map(|i| {
            JsonObject::from_text(format!(r#"{{"task_id":"{tag}-{i}","blob":"{blob}"}}"#)).unwrap()
        })
        .collect()
}

fn brain_config(max_frame_size_bytes: u64) -> BrainConfig {
    let mut config = BrainConfig::new("brain-1");
    config.max_frame_size_bytes = max_frame_size_bytes;
    config
}

#[test]
fn batches_are_cut_to_what_the_agent_can_sign_when_the_brain_allows_more() {
    // The brain announces 8 MiB; the agent's signer takes 1 MiB. 600 events of 3 KB
    // would fill a 500-event batch of 1.5 MB, which no signer call could take.
    let mut pair = Pair::with(secret(), registry(), brain_config(8 * 1024 * 1024));
    for event in large_events(600, 3000, "big") {
        pair.agent.queue_event(pair.clock.now(), event).unwrap();
    }
    pair.run_for(Duration::from_secs(2));
    assert_eq!(pair.delivered_events.len(), 600);
    assert_eq!(pair.agent.held_events(), 0, "every batch was acknowledged");
    assert!(pair.to_brain.iter().all(|f| f.len() <= 1024 * 1024));
}

#[test]
fn the_brain_enforces_the_frame_size_it_announces() {
    let mut pair = Pair::with(secret(), registry(), brain_config(64 * 1024));
    let binding = pair.brain.binding().unwrap().clone();
    let sources = pair.clock.sources("forger");
    let mut signer =
        brainwire_sign::FrameSigner::with_sources(secret(), binding, sources.wall, sources.nonces);
    // An authentic frame of ~100 KB: within the verifier's default 1 MiB, over the
    // 64 KiB this brain announced.
    let batch = Payload::EventBatch(EventBatch::new(large_events(1, 100_000, "x")));
    let wire = sign(&mut signer, "too-big", &batch).unwrap();
    pair.brain
        .handle_message(pair.clock.now(), pair.clock.wall(), &wire);
    let closing = pair.brain.poll_close().expect("refused");
    let SessionError::Verify(VerifyError::Json(error)) = &closing.error else {
        panic!("refused for its size, not {:?}", closing.error);
    };
    assert_eq!(error.kind(), "too_large");
    assert_eq!(closing.frame.code(), 4400);
}

#[test]
fn a_batch_cut_for_a_larger_brain_is_cut_again_after_reconnecting_to_a_smaller_one() {
    let mut pair = Pair::with(secret(), registry(), brain_config(8 * 1024 * 1024));
    pair.auto_ack = false;
    for event in large_events(300, 2000, "r") {
        pair.agent.queue_event(pair.clock.now(), event).unwrap();
    }
    pair.agent.flush(pair.clock.now());
    pair.drive();
    let first_connection = pair.to_brain.len();
    assert!(
        pair.to_brain.iter().any(|f| f.len() > 500_000),
        "one large batch went out unacknowledged"
    );

    pair.brain_config = brain_config(64 * 1024);
    pair.auto_ack = true;
    pair.reconnect();
    pair.run_for(Duration::from_secs(2));
    assert!(pair.brain.is_open(), "no frame broke the new brain's limit");
    assert!(pair.to_brain[first_connection..]
        .iter()
        .all(|f| f.len() <= 64 * 1024));
    assert_eq!(pair.agent.held_events(), 0, "every event was acknowledged");
    let delivered: HashSet<&String> = pair.delivered_events.iter().collect();
    assert_eq!(delivered.len(), 300);
}

#[test]
fn during_a_key_rotation_agents_on_either_key_work_at_once() {
    let previous = Secret::new(b"previous-project-secret-01234567".to_vec()).unwrap();
    let rotating = || Registry(Keyring::new(secret()).with_previous(previous.clone()));
    let mut on_previous = Pair::with(previous.clone(), rotating(), BrainConfig::new("b"));
    let mut on_current = Pair::with(secret(), rotating(), BrainConfig::new("b"));
    let target = JsonObject::from_text(r#"{"task_id":"t-1"}"#).unwrap();
    for pair in [&mut on_previous, &mut on_current] {
        // Sent before the agent signed anything: it waits until the agent proves a key.
        let command_id = pair
            .brain
            .send_command(Command::new("cancel_task", target.clone()))
            .unwrap();
        assert!(pair.brain.poll_transmit().is_none(), "held until proven");
        assert_eq!(pair.brain.proven_key(), None);
        pair.queue(1, "k");
        pair.run_for(Duration::from_secs(1));
        assert!(pair
            .brain_events
            .contains(&BrainEvent::CommandAcked { command_id }));
        assert!(pair
            .agent_events
            .iter()
            .any(|e| matches!(e, AgentEvent::Command { .. })));
        assert!(pair.brain.is_open() && pair.agent.poll_close().is_none());
        assert_eq!(pair.delivered_events.len(), 1);
    }
    assert_eq!(
        on_previous.brain.proven_key(),
        Some(brainwire_sign::KeyId(1))
    );
    assert_eq!(
        on_current.brain.proven_key(),
        Some(brainwire_sign::KeyId(0))
    );
}

#[test]
fn a_reflected_brain_frame_passes_the_mac_and_is_refused_by_its_type() {
    let mut pair = Pair::new();
    pair.queue(1, "m");
    pair.run_for(Duration::from_millis(150));
    // The agent has sent seq 1 (its batch), the brain seq 1 (the ack); the brain's next
    // frame, seq 2, reflected back before the agent sends again, is fresh to the brain.
    let target = JsonObject::from_text(r#"{"task_id":"t-1"}"#).unwrap();
    pair.brain
        .send_command(Command::new("cancel_task", target))
        .unwrap();
    let command = pair.brain.poll_transmit().expect("the command");
    pair.brain
        .handle_message(pair.clock.now(), pair.clock.wall(), &command);
    let closing = pair.brain.poll_close().expect("refused");
    // Not a MAC or replay failure (4403): the direction is not signed.
    assert!(
        matches!(
            closing.error,
            SessionError::Unexpected {
                frame_type: "command"
            }
        ),
        "{:?}",
        closing.error
    );
    assert_eq!(closing.frame.code(), 4400);
}

#[test]
fn a_batch_whose_ack_is_held_back_is_sent_again_after_the_ack_deadline() {
    let mut pair = Pair::new();
    pair.auto_ack = false;
    pair.queue(10, "held");
    pair.run_for(Duration::from_secs(80));
    let sent = |pair: &Pair| {
        pair.brain_events
            .iter()
            .filter(|e| matches!(e, BrainEvent::EventBatch { .. }))
            .count()
    };
    // Heartbeats keep the connection open; before the deadline the batch is sent once.
    assert_eq!(sent(&pair), 1);
    pair.auto_ack = true;
    pair.run_for(Duration::from_secs(15));
    // Past 90 s it is sent again, on the same connection, with the same batch id, and
    // the ack of the re-send releases it.
    assert_eq!(sent(&pair), 2);
    assert_eq!(pair.seen_batches.len(), 1);
    assert_eq!(pair.connections, 1);
    assert_eq!(pair.agent.held_events(), 0);
    assert!(pair.agent.is_established());
}
