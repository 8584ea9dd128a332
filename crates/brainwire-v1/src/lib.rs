//! The legacy v1 agent protocol (document 000, `wss://<brain>/ws`, plain JSON frames):
//! every frame in both directions as typed values, [`decode_agent`] /
//! [`decode_brain`] and [`encode_agent`] / [`encode_brain`], first-frame [`sniff`]ing,
//! the brain's sans-IO [`BrainSession`] and the agent's [`AckTracker`].
//!
//! This crate does no I/O. Fleets upgrade slowly: a brain can still recognise v1 agents
//! and a bridge can still speak to them.
//!
//! ```
//! use brainwire_v1::{decode_agent, encode_brain, Ack, AgentFrame, BrainFrame};
//!
//! let wire = br#"{"type":"event_batch","seq":7,"events":[{"event_type":"task_succeeded",
//!   "task_id":"t-1","engine":"celery","ts":"2026-02-06T01:30:00.000Z","name":"app.add",
//!   "args_redacted":[1,2],"kwargs_redacted":{}}]}"#;
//! let AgentFrame::EventBatch(batch) = decode_agent(wire)? else { unreachable!() };
//! assert_eq!(batch.events[0].task_id, "t-1");
//!
//! let ack = encode_brain(&BrainFrame::Ack(Ack::new(batch.seq)));
//! assert_eq!(&ack[..], br#"{"type":"ack","seq":7}"#);
//! # Ok::<(), brainwire_v1::DecodeError>(())
//! ```
//!
//! # Frames
//!
//! | direction | type | struct |
//! |---|---|---|
//! | agent → brain | `hello` | [`Hello`] (with [`Framework`], [`Metadata`]) |
//! | agent → brain | `event_batch` | [`EventBatch`] of [`TaskEvent`]s |
//! | agent → brain | `heartbeat` | [`Heartbeat`] |
//! | agent → brain | `command_result` | [`CommandResult`] |
//! | agent → brain | `schedule_snapshot` | [`ScheduleSnapshot`] of [`Schedule`]s |
//! | agent → brain | `schedule_update` | [`ScheduleUpdate`] |
//! | brain → agent | `ack` | [`Ack`] |
//! | brain → agent | `command` | [`Command`] with a [`CommandVerb`] |
//! | brain → agent | `error` | [`ErrorFrame`] |
//!
//! Unknown fields are ignored, except in `metadata` and `Schedule`, which keep them.
//! Unknown frameworks, event types and verbs are kept as `Other`. Every decode error
//! closes with 4005 (malformed frame), a `hello` for another protocol with 4001.
//!
//! # Limits
//!
//! [`Limits`](brainwire_core::Limits) bounds frame bytes (1 MiB) and depth (256); on top
//! of it, at most [`MAX_EVENTS_PER_BATCH`] events, [`MAX_SCHEDULES`] schedules,
//! [`MAX_ADAPTERS`] engines or schedulers, [`MAX_NAME_CHARS`] characters in names and ids
//! and [`MAX_TEXT_CHARS`] in messages and tracebacks. Document 000 sets none of these.
//!
//! # Crate features
//!
//! None.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod ack_tracker;
mod agent;
mod brain;
mod codec;
mod error;
mod extras;
mod hello;
mod open_enum;
mod schedule;
mod session;
mod sniff;
mod task_event;

pub use ack_tracker::{AckError, AckTracker, TrackerFull};
pub use agent::{
    AgentFrame, CommandError, CommandResult, EventBatch, Heartbeat, ScheduleSnapshot,
    ScheduleUpdate,
};
pub use brain::{Ack, BrainFrame, Command, CommandVerb, ErrorFrame};
pub use codec::{
    decode_agent, decode_agent_with, decode_brain, decode_brain_with, encode_agent, encode_brain,
    MAX_ADAPTERS, MAX_EVENTS_PER_BATCH, MAX_NAME_CHARS, MAX_SCHEDULES, MAX_TEXT_CHARS,
};
pub use error::DecodeError;
pub use extras::Members;
pub use hello::{Framework, Hello, Metadata};
pub use schedule::Schedule;
pub use session::{BrainEvent, BrainSession, SendError, SessionConfig, SessionError};
pub use sniff::{sniff, ProtocolVersion};
pub use task_event::{TaskError, TaskEvent, TaskEventType};
