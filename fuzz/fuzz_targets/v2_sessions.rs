//! v2 sessions driven by fuzzer-chosen frames and clock steps. Nothing the fuzzer writes
//! carries a valid MAC (it does not know the key), so neither session may ever report
//! signed traffic (a batch, a heartbeat, a command, a command result); the agent's held
//! events stay within its limit; a session that closes gives a v2 close code.
#![no_main]

use std::time::{Duration, Instant};

use brainwire_close::NamesCloseCode;
use brainwire_core::{JsonObject, Timestamp, WallClock};
use brainwire_sign::{Keyring, Secret, SharedNonces};
use brainwire_v2::{
    AgentAuthority, AgentConfig, AgentEvent, AgentGrant, AgentSession, BrainConfig, BrainEvent,
    BrainSession, Hello, Sources,
};
use libfuzzer_sys::fuzz_target;

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

fuzz_target!(|data: &[u8]| {
    let start = Instant::now();
    let wall = Timestamp::from_unix_micros(1_800_000_000_000_000).unwrap();
    let sources = Sources::new("f", WallClock::new(move || wall), SharedNonces::os());
    let mut brain = BrainSession::accept(
        start,
        Some("t"),
        &Registry,
        "s",
        BrainConfig::new("b"),
        sources.clone(),
    );
    let mut config = AgentConfig::new(Hello::new("1", "bare"));
    config.max_buffered_events = 4;
    let mut agent = AgentSession::new(config, Secret::new(vec![7; 32]).unwrap(), sources);
    agent.connect(start, wall);
    let mut now = start;
    // Chunks split at 0xff: the first byte picks the target and a clock step.
    for chunk in data.split(|b| *b == 0xff) {
        let Some((&op, bytes)) = chunk.split_first() else {
            continue;
        };
        now += Duration::from_millis(u64::from(op >> 2) * 250);
        match op & 3 {
            0 => {
                brain.handle_message(now, wall, bytes);
            }
            1 => {
                agent.handle_message(now, wall, bytes);
            }
            2 => {
                if let Ok(event) =
                    JsonObject::from_text(String::from_utf8_lossy(bytes).into_owned())
                {
                    let _ = agent.queue_event(now, event);
                }
            }
            _ => {
                brain.handle_timeout(now);
                agent.handle_timeout(now);
            }
        }
        assert!(agent.held_events() <= 4);
        while let Some(event) = brain.poll_event() {
            assert!(
                matches!(event, BrainEvent::Hello { .. }),
                "unsigned input produced {event:?}"
            );
        }
        while let Some(event) = agent.poll_event() {
            assert!(
                matches!(event, AgentEvent::Connected { .. }),
                "unsigned input produced {event:?}"
            );
        }
        for closing in [brain.poll_close(), agent.poll_close()]
            .into_iter()
            .flatten()
        {
            let code = closing.frame.code();
            assert_eq!(code, closing.error.close_code().code());
            assert!(
                matches!(code, 1001 | 1011 | 4400..=4429),
                "close code {code}"
            );
        }
        while brain.poll_transmit().is_some() {}
        while agent.poll_transmit().is_some() {}
    }
});
