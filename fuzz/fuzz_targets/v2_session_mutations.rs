//! Structure-aware (`arbitrary`): a real agent and brain exchange valid traffic the fuzzer
//! chooses (events, flushes, commands and their results, time), and on the way one member
//! of one signed frame may be replaced, removed or added. Properties:
//!
//! - a signed frame whose MAC-covered content was changed is refused: the receiving
//!   session closes, with 4400, 4403 or 4426 (a changed `v`), and reports nothing from it;
//! - every event the brain reports is one the agent queued, byte for byte;
//! - every close uses a code of the v2 table.
#![no_main]

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use brainwire_close::NamesCloseCode;
use brainwire_core::{canonicalize, JsonObject, Limits, Timestamp, WallClock};
use brainwire_sign::{Keyring, Secret, SharedNonces};
use brainwire_v2::{
    AgentAuthority, AgentConfig, AgentEvent, AgentGrant, AgentSession, BrainConfig, BrainEvent,
    BrainSession, Command, CommandResult, Hello, Sources,
};
use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;

#[derive(Arbitrary, Debug)]
enum Step {
    Queue(u8),
    Flush,
    Command,
    Complete,
    Advance(u8),
    /// Changes the next signed frame going the chosen way.
    Mutate {
        to_brain: bool,
        member: u8,
        change: Change,
    },
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Change {
    Replace(Value),
    Remove,
    Add(Value),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Value {
    Zero,
    One,
    OnePointZero,
    Text,
    Null,
    Object,
    Array,
    True,
    Huge,
}

impl Value {
    fn json(self) -> &'static str {
        match self {
            Value::Zero => "0",
            Value::One => "1",
            Value::OnePointZero => "1.0",
            Value::Text => "\"x\"",
            Value::Null => "null",
            Value::Object => "{}",
            Value::Array => "[]",
            Value::True => "true",
            Value::Huge => "123456789012345678901234567890",
        }
    }
}

struct Registry;

impl AgentAuthority for Registry {
    fn authorize(&self, bearer: &str) -> Option<AgentGrant> {
        (bearer == "t").then(|| AgentGrant {
            agent_id: "a".into(),
            project_id: "p".into(),
            keys: Keyring::new(Secret::new(vec![7; 32]).unwrap()),
        })
    }
}

/// The members the MAC covers, canonical: everything but `hmac` and the binding, which
/// the session supplies.
fn covered(wire: &[u8]) -> Option<Vec<u8>> {
    let mut members: BTreeMap<String, Box<RawValue>> = serde_json::from_slice(wire).ok()?;
    for key in ["hmac", "agent_id", "project_id", "session_id"] {
        members.remove(key);
    }
    canonicalize(&serde_json::to_vec(&members).ok()?, &Limits::default()).ok()
}

/// `wire` with `change` applied to its `member`-th member (or a new one).
fn mutate(wire: &[u8], member: u8, change: Change) -> Option<Vec<u8>> {
    let mut members: BTreeMap<String, Box<RawValue>> = serde_json::from_slice(wire).ok()?;
    let keys: Vec<String> = members.keys().cloned().collect();
    let key = keys[usize::from(member) % keys.len()].clone();
    match change {
        Change::Replace(value) => {
            members.insert(key, RawValue::from_string(value.json().to_owned()).ok()?);
        }
        Change::Remove => {
            members.remove(&key);
        }
        Change::Add(value) => {
            members.insert(
                "zz".to_owned(),
                RawValue::from_string(value.json().to_owned()).ok()?,
            );
        }
    }
    serde_json::to_vec(&members).ok()
}

/// `wire`, changed by the armed mutation if it goes this way (`to_brain`) and is signed;
/// and whether the change touched what the MAC covers.
fn apply_armed(
    wire: Vec<u8>,
    armed: &mut Option<(bool, u8, Change)>,
    to_brain: bool,
) -> (Vec<u8>, bool) {
    match *armed {
        Some((direction, member, change)) if direction == to_brain && is_signed(&wire) => {
            *armed = None;
            match mutate(&wire, member, change) {
                Some(mutated) => {
                    let changed = covered(&mutated) != covered(&wire);
                    (mutated, changed)
                }
                None => (wire, false),
            }
        }
        _ => (wire, false),
    }
}

fn is_signed(wire: &[u8]) -> bool {
    wire.windows(7).any(|w| w == b"\"hmac\":")
}

fuzz_target!(|steps: Vec<Step>| {
    let start = Instant::now();
    let wall = Timestamp::from_unix_micros(1_800_000_000_000_000).unwrap();
    let mut nonce = 0u128;
    let nonces = SharedNonces::new(move |b: &mut [u8; 16]| {
        nonce += 1;
        *b = nonce.to_be_bytes();
    });
    let sources = Sources::new("f", WallClock::new(move || wall), nonces);
    let mut brain = BrainSession::accept(
        start,
        Some("t"),
        &Registry,
        "s",
        BrainConfig::new("b"),
        sources.clone(),
    );
    let mut agent = AgentSession::new(
        AgentConfig::new(Hello::new("1", "bare")),
        Secret::new(vec![7; 32]).unwrap(),
        sources,
    );
    agent.connect(start, wall);
    let mut now = start;
    let mut queued: HashSet<String> = HashSet::new();
    let mut open_commands: Vec<String> = Vec::new();
    let mut armed: Option<(bool, u8, Change)> = None;

    for step in steps.into_iter().take(64) {
        match step {
            Step::Queue(tag) => {
                let event = format!(r#"{{"task_id":"t-{tag}","event_type":"task_succeeded"}}"#);
                if agent
                    .queue_event(now, JsonObject::from_text(event.clone()).unwrap())
                    .is_ok()
                {
                    queued.insert(event);
                }
            }
            Step::Flush => agent.flush(now),
            Step::Command => {
                let target = JsonObject::from_text(r#"{"task_id":"t-1"}"#).unwrap();
                let _ = brain.send_command(Command::new("cancel_task", target));
            }
            Step::Complete => {
                if let Some(id) = open_commands.pop() {
                    let _ = agent.complete_command(&id, CommandResult::success(None));
                }
            }
            Step::Advance(ms) => {
                now += Duration::from_millis(u64::from(ms) * 10);
                agent.handle_timeout(now);
                brain.handle_timeout(now);
            }
            Step::Mutate {
                to_brain,
                member,
                change,
            } => armed = Some((to_brain, member, change)),
        }
        // Move frames both ways until nothing moves.
        loop {
            let mut moved = false;
            while let Some(frame) = agent.poll_transmit() {
                moved = true;
                let (wire, changed) = apply_armed(frame.to_vec(), &mut armed, true);
                brain.handle_message(now, wall, &wire);
                if changed {
                    let closing = brain.poll_close().expect("a changed frame is refused");
                    assert!(
                        matches!(closing.frame.code(), 4400 | 4403 | 4426),
                        "{closing:?}"
                    );
                    assert!(brain.poll_event().is_none(), "nothing from a refused frame");
                    return;
                }
            }
            while let Some(event) = brain.poll_event() {
                moved = true;
                if let BrainEvent::EventBatch { batch_id, events } = &event {
                    for e in events {
                        assert!(
                            queued.contains(e.as_str()),
                            "the brain reports only what was queued"
                        );
                    }
                    let _ = brain.ack_batch(batch_id, events.len() as u64, events.len() as u64, 0);
                }
            }
            while let Some(frame) = brain.poll_transmit() {
                moved = true;
                let (wire, changed) = apply_armed(frame.to_vec(), &mut armed, false);
                agent.handle_message(now, wall, &wire);
                if changed {
                    let closing = agent.poll_close().expect("a changed frame is refused");
                    assert!(
                        matches!(closing.frame.code(), 4400 | 4403 | 4426),
                        "{closing:?}"
                    );
                    return;
                }
            }
            while let Some(event) = agent.poll_event() {
                moved = true;
                if let AgentEvent::Command { command_id, .. } = event {
                    open_commands.push(command_id);
                }
            }
            for closing in [agent.poll_close(), brain.poll_close()]
                .into_iter()
                .flatten()
            {
                let code = brainwire_close::v2::CloseCode::from(closing.frame.code());
                assert!(
                    !matches!(code, brainwire_close::v2::CloseCode::Other(_)),
                    "{closing:?}"
                );
                assert_eq!(
                    code,
                    closing.error.close_code(),
                    "the frame carries the error's code"
                );
                return;
            }
            if !moved {
                break;
            }
        }
    }
});
