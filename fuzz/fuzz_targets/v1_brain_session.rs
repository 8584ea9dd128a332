//! The v1 brain session driven by fuzzer-chosen frames, clock steps and application
//! requests: it is established only by a v1 `hello` received first, every frame it sends
//! decodes as a brain frame, a `CommandCompleted` names a command it sent (once), pending
//! commands never pass their cap, and once closed it sends and reports nothing more.
#![no_main]

use std::collections::HashSet;
use std::time::{Duration, Instant};

use brainwire_close::NamesCloseCode;
use brainwire_core::JsonObject;
use brainwire_v1::{
    decode_agent, decode_brain, AgentFrame, BrainEvent, BrainSession, Command, CommandVerb,
    SessionConfig,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut config = SessionConfig::default();
    config.max_pending_commands = 4;
    let mut now = Instant::now();
    let mut session = BrainSession::accept(now, true, config.clone());
    let mut sent_ids = HashSet::new();
    let mut completed = HashSet::new();
    let mut closed = false;
    // Chunks split at 0xff; a chunk's first byte picks a clock step and a request.
    for (n, chunk) in data.split(|b| *b == 0xff).enumerate() {
        let Some((&op, frame)) = chunk.split_first() else {
            continue;
        };
        now += Duration::from_secs(u64::from(op % 16) * 10);
        session.handle_timeout(now);
        let was = session.is_established();
        session.handle_message(now, frame);
        if !was && session.is_established() {
            assert!(matches!(decode_agent(frame), Ok(AgentFrame::Hello(_))));
        }
        match op >> 6 {
            1 => {
                let id = format!("c-{n}");
                if session.send_command(Command::new(id.clone(), CommandVerb::QueryState, JsonObject::default())).is_ok() {
                    sent_ids.insert(id);
                }
            }
            2 => {
                let _ = session.ack(u64::from(op));
            }
            _ => {}
        }
        assert!(session.pending_commands().count() <= config.max_pending_commands);
        while let Some(frame) = session.poll_transmit() {
            assert!(!closed, "a frame after the close");
            decode_brain(&frame).expect("the session sends brain frames");
        }
        while let Some(event) = session.poll_event() {
            assert!(!closed, "an event after the close");
            if let BrainEvent::CommandCompleted { command, .. } = event {
                assert!(sent_ids.contains(&command.cmd_id));
                assert!(completed.insert(command.cmd_id), "completed twice");
            }
        }
        if let Some(closing) = session.poll_close() {
            assert!(!closed, "closed twice");
            assert_eq!(closing.frame.code(), closing.error.close_code().code());
            closed = true;
            assert!(!session.is_established());
        }
    }
});
